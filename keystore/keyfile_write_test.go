package keystore

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestGenerateWriteReadRoundTrip(t *testing.T) {
	created := time.Date(2026, 11, 23, 15, 43, 29, 0, time.UTC)
	tests := []struct {
		name   string
		alg    uint8
		ksk    bool
		timers Timers
	}{
		{"ECDSAP256SHA256 zsk, created only", dns.ECDSAP256SHA256, false, Timers{Created: created}},
		{"ECDSAP384SHA384 ksk", dns.ECDSAP384SHA384, true, Timers{Created: created, Publish: created, Activate: created.Add(time.Hour)}},
		{"ED25519 zsk, all timers", dns.ED25519, false, Timers{Created: created, Publish: created, Activate: created.Add(time.Hour), Inactive: created.Add(720 * time.Hour), Delete: created.Add(800 * time.Hour)}},
		{"RSASHA256 zsk", dns.RSASHA256, false, Timers{Created: created}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := GenerateKey("Example.NET", tc.alg, tc.ksk, created)
			if err != nil {
				t.Fatal(err)
			}
			wantFlags := uint16(256)
			if tc.ksk {
				wantFlags = 257
			}
			if k.DNSKEY.Flags != wantFlags || k.DNSKEY.Hdr.Ttl != 3600 || k.DNSKEY.Hdr.Name != "example.net." || k.Tag() == 0 {
				t.Fatalf("generated %v", k.DNSKEY)
			}
			if k.Timers != (Timers{Created: created}) {
				t.Fatalf("generated timers %+v", k.Timers)
			}
			k.Timers = tc.timers
			dir := t.TempDir()
			base, err := WriteKey(dir, k)
			if err != nil {
				t.Fatal(err)
			}
			if base != FileBase(dir, k.DNSKEY) || k.Base != base || !strings.HasSuffix(base, fmt.Sprintf("/Kexample.net.+%03d+%05d", tc.alg, k.Tag())) {
				t.Fatalf("base %q", base)
			}
			for ext, mode := range map[string]os.FileMode{".private": 0o600, ".key": 0o644} {
				fi, err := os.Stat(base + ext)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != mode {
					t.Errorf("%s mode %o, want %o", ext, fi.Mode().Perm(), mode)
				}
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 2 {
				t.Errorf("%d files in dir, want 2 (temp files left?)", len(entries))
			}
			got, err := ReadKey(base)
			if err != nil {
				t.Fatal(err)
			}
			if got.DNSKEY.String() != k.DNSKEY.String() {
				t.Errorf("read %v, wrote %v", got.DNSKEY, k.DNSKEY)
			}
			if got.Timers != tc.timers {
				t.Errorf("read timers %+v, want %+v", got.Timers, tc.timers)
			}
			signAndVerify(t, got)
		})
	}
}

func TestPublicKeyTextBINDStyle(t *testing.T) {
	k, err := ReadKey(copyFixture(t, td("ldns-classic", "zsk")) + "/Kexample.net.+013+44013")
	if err != nil {
		t.Fatal(err)
	}
	want := "; This is a zone-signing key, keyid 44013, for example.net.\n" +
		"; Created: 20261123154329 (Mon Nov 23 15:43:29 2026)\n" +
		"; Publish: 20261123154329 (Mon Nov 23 15:43:29 2026)\n" +
		"; Activate: 20261123154329 (Mon Nov 23 15:43:29 2026)\n" +
		"example.net.\t0\tIN\tDNSKEY\t256 3 13 au7oetIteIrGnFN5hPqMSKazIeyBamugpaRcVfo0vNs3hHM/YgBv7GbApSP4XL8UUrpwTVN0+liT2zqiVBf8Pw==\n"
	if got := PublicKeyText(k); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	k.DNSKEY.Flags = 257
	if got := PublicKeyText(k); !strings.HasPrefix(got, "; This is a key-signing key, keyid 44014,") {
		t.Errorf("KSK header: %s", got)
	}
}

func TestGenerateKeyErrors(t *testing.T) {
	if _, err := GenerateKey("example.net.", dns.RSASHA1, false, time.Now()); err == nil || !strings.Contains(err.Error(), "algorithm 5 is not supported") {
		t.Errorf("RSASHA1: %v", err)
	}
	k := &Key{DNSKEY: &dns.DNSKEY{Hdr: dns.RR_Header{Name: "example.net."}, Flags: 256, Protocol: 3, Algorithm: 13}}
	if _, err := WriteKey(t.TempDir(), k); err == nil || !strings.Contains(err.Error(), "no private key") {
		t.Errorf("WriteKey without signer: %v", err)
	}
}

func TestWriteKeyRewritesTimers(t *testing.T) {
	dir := copyFixture(t, td("ldns-classic", "ksk-offline"))
	k, err := ReadKey(dir + "/Kexample.net.+013+41401")
	if err != nil {
		t.Fatal(err)
	}
	k.Timers.Inactive = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := WriteKey(dir, k); err != nil {
		t.Fatal(err)
	}
	got, err := ReadKey(dir + "/Kexample.net.+013+41401.key")
	if err != nil {
		t.Fatal(err)
	}
	if got.Timers != k.Timers {
		t.Errorf("timers %+v, want %+v", got.Timers, k.Timers)
	}
}
