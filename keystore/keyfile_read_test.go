package keystore

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func ts(s string) time.Time {
	t, err := time.Parse(timestampLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestReadKeyFixtures(t *testing.T) {
	ldnsZ := copyFixture(t, td("ldns-classic", "zsk"))
	ldnsK := copyFixture(t, td("ldns-classic", "ksk-offline"))
	bindZ := copyFixture(t, td("bind920", "zsk"))
	bindK := copyFixture(t, td("bind920", "ksk-offline"))
	tests := []struct {
		name   string
		path   string
		tag    uint16
		ksk    bool
		ttl    uint32
		timers Timers
	}{
		{"BIND zsk by base name", filepath.Join(ldnsZ, "Kexample.net.+013+44013"), 44013, false, 0,
			Timers{Created: ts("20261123154329"), Publish: ts("20261123154329"), Activate: ts("20261123154329")}},
		{"BIND zsk by .key", filepath.Join(ldnsZ, "Kexample.net.+013+44013.key"), 44013, false, 0,
			Timers{Created: ts("20261123154329"), Publish: ts("20261123154329"), Activate: ts("20261123154329")}},
		{"BIND zsk by .private", filepath.Join(ldnsZ, "Kexample.net.+013+44013.private"), 44013, false, 0,
			Timers{Created: ts("20261123154329"), Publish: ts("20261123154329"), Activate: ts("20261123154329")}},
		{"ldns ksk v1.2, no timers", filepath.Join(ldnsK, "Kexample.net.+013+41401"), 41401, true, 0, Timers{}},
		{"BIND 9.20 zsk with all timers and .state", filepath.Join(bindZ, "Kexample.org.+013+07181"), 7181, false, 3600,
			Timers{Created: ts("20261123154340"), Publish: ts("20261230215500"), Activate: ts("20261231000000"), Inactive: ts("20270130000000"), Delete: ts("20270209010500")}},
		{"BIND 9.20 ksk", filepath.Join(bindK, "Kexample.org.+013+29929.key"), 29929, true, 3600,
			Timers{Created: ts("20261123154340"), Publish: ts("20261001000000"), Activate: ts("20261001000000")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ReadKey(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if k.Tag() != tc.tag || k.IsKSK() != tc.ksk || k.DNSKEY.Hdr.Ttl != tc.ttl {
				t.Errorf("tag %d ksk %v ttl %d, want %d %v %d", k.Tag(), k.IsKSK(), k.DNSKEY.Hdr.Ttl, tc.tag, tc.ksk, tc.ttl)
			}
			if k.Timers != tc.timers {
				t.Errorf("timers %+v, want %+v", k.Timers, tc.timers)
			}
			if k.Signer == nil {
				t.Error("no signer")
			}
			if want := keyBase(tc.path); k.Base != want {
				t.Errorf("Base %q, want %q", k.Base, want)
			}
			if k.DNSKEY.Hdr.Name != strings.ToLower(k.DNSKEY.Hdr.Name) || !dns.IsFqdn(k.DNSKEY.Hdr.Name) {
				t.Errorf("owner %q is not a lower-case FQDN", k.DNSKEY.Hdr.Name)
			}
			signAndVerify(t, k)
		})
	}
}

// signAndVerify signs an A RRset with k and verifies the signature.
func signAndVerify(t *testing.T, k *Key) {
	t.Helper()
	rr, err := dns.NewRR("www." + k.DNSKEY.Hdr.Name + " 300 IN A 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	sig := &dns.RRSIG{Algorithm: k.DNSKEY.Algorithm, KeyTag: k.Tag(), SignerName: k.DNSKEY.Hdr.Name,
		Inception: uint32(fixtureTime.Unix()), Expiration: uint32(fixtureTime.Add(time.Hour).Unix())}
	if err := sig.Sign(k.Signer, []dns.RR{rr}); err != nil {
		t.Fatal(err)
	}
	if err := sig.Verify(k.DNSKEY, []dns.RR{rr}); err != nil {
		t.Fatalf("signature by %d does not verify: %v", k.Tag(), err)
	}
}

const (
	zskRR      = "example.net. IN DNSKEY 256 3 13 au7oetIteIrGnFN5hPqMSKazIeyBamugpaRcVfo0vNs3hHM/YgBv7GbA pSP4XL8UUrpwTVN0+liT2zqiVBf8Pw=="
	zskPrivate = "Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: t2U3at1XwTwjnLOaWCjFyNX83wugmdRCjZFXwhyOacU=\n"
	kskPrivate = "Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: CYdVOm6CzZohR1/cuIlQ2SQB2dcqccKCrGXtPOs7hcE=\n"
	zskBase    = "Kexample.net.+013+44013"
)

func TestReadKeyVariants(t *testing.T) {
	tests := []struct {
		name    string
		key     string // .key content
		private string // .private content ("" = no file)
		mode    os.FileMode
		state   string // .state content ("" = no file)
		wantErr string
		ttl     uint32
		timers  Timers
	}{
		{name: "no TTL no class", key: "example.net. DNSKEY 256 3 13 au7oetIteIrGnFN5hPqMSKazIeyBamugpaRcVfo0vNs3hHM/YgBv7GbA pSP4XL8UUrpwTVN0+liT2zqiVBf8Pw==\n", private: zskPrivate, mode: 0o600},
		{name: "TTL and ldns comment", key: "EXAMPLE.NET.\t300\tIN\tDNSKEY\t256 3 13 au7oetIteIrGnFN5hPqMSKazIeyBamugpaRcVfo0vNs3hHM/YgBv7GbApSP4XL8UUrpwTVN0+liT2zqiVBf8Pw== ;{id = 44013 (zsk), size = 256b}\n", private: zskPrivate, mode: 0o600, ttl: 300},
		{name: "multi-line RR", key: "example.net. 60 IN DNSKEY 256 3 13 (\n au7oetIteIrGnFN5hPqMSKazIeyBamugpaRcVfo0vNs3hHM/YgBv7GbA\n pSP4XL8UUrpwTVN0+liT2zqiVBf8Pw== ) ; ZSK\n", private: zskPrivate, mode: 0o600, ttl: 60},
		{name: "timers from .private and .state fill the .key's gaps",
			key:     "; Created: 20260101000000 (Thu Jan  1 00:00:00 2026)\n" + zskRR + "\n",
			private: zskPrivate + "Created: 20250101000000\nPublish: 20260102000000\n", mode: 0o600,
			state:  "; This is the state of key 44013, for example.net.\nAlgorithm: 13\nGenerated: 20240101000000 (x)\nPublished: 20240101000000 (x)\nActive: 20260103000000 (x)\nRetired: 20260104000000 (x)\nRemoved: 20260105000000 (x)\nKSK: no\n",
			timers: Timers{Created: ts("20260101000000"), Publish: ts("20260102000000"), Activate: ts("20260103000000"), Inactive: ts("20260104000000"), Delete: ts("20260105000000")}},
		{name: "world-readable private key", key: zskRR + "\n", private: zskPrivate, mode: 0o644,
			wantErr: zskBase + ".private is readable by group or others (mode 0644): run chmod 600 "},
		{name: "group-readable private key", key: zskRR + "\n", private: zskPrivate, mode: 0o660,
			wantErr: "is readable by group or others (mode 0660)"},
		{name: "no private key file", key: zskRR + "\n", wantErr: zskBase + ".key has no private key file"},
		{name: "private key of another key", key: zskRR + "\n", private: kskPrivate, mode: 0o600,
			wantErr: "does not hold the private half of the DNSKEY"},
		{name: "garbage private key", key: zskRR + "\n", private: "hello\n", mode: 0o600, wantErr: "cannot read private key"},
		{name: "bad timer in .key", key: "; Publish: 2026 (bad)\n" + zskRR + "\n", private: zskPrivate, mode: 0o600,
			wantErr: zskBase + ".key:1: Publish: timestamp"},
		{name: "bad timer in .private", key: zskRR + "\n", private: zskPrivate + "Activate: yesterday\n", mode: 0o600,
			wantErr: zskBase + ".private:4: Activate"},
		{name: "two DNSKEYs", key: zskRR + "\n" + zskRR + "\n", private: zskPrivate, mode: 0o600, wantErr: ".key:2: second DNSKEY"},
		{name: "not a DNSKEY", key: "example.net. 300 IN A 192.0.2.1\n", wantErr: ".key:1: unexpected A record"},
		{name: "no record", key: "; nothing\n", wantErr: "no DNSKEY record"},
		{name: "unparseable", key: "example.net. IN DNSKEY 256 3 x\n", wantErr: "line: 1"},
		{name: "file name says another zone", key: strings.Replace(zskRR, "example.net.", "example.com.", 1) + "\n", private: zskPrivate, mode: 0o600,
			wantErr: "the DNSKEY is for example.com., the file name says example.net."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, zskBase+".key", tc.key, 0o644)
			if tc.private != "" {
				writeFile(t, dir, zskBase+".private", tc.private, tc.mode)
			}
			if tc.state != "" {
				writeFile(t, dir, zskBase+".state", tc.state, 0o644)
			}
			k, err := ReadKey(filepath.Join(dir, zskBase))
			wantErr(t, err, tc.wantErr)
			if err != nil {
				if !strings.Contains(err.Error(), dir) {
					t.Errorf("error %q does not name the file's full path", err)
				}
				return
			}
			if k.Tag() != 44013 || k.DNSKEY.Hdr.Ttl != tc.ttl || k.DNSKEY.Hdr.Name != "example.net." {
				t.Errorf("got tag %d ttl %d owner %s", k.Tag(), k.DNSKEY.Hdr.Ttl, k.DNSKEY.Hdr.Name)
			}
			if k.Timers != tc.timers {
				t.Errorf("timers %+v, want %+v", k.Timers, tc.timers)
			}
		})
	}
}

func TestReadPublicKey(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, zskBase+".key", zskRR+"\n", 0o644)
	writeFile(t, dir, zskBase+".private", zskPrivate, 0o644) // never read
	plain := writeFile(t, dir, "zsk.dnskey", "; any file with one DNSKEY\n"+zskRR+"\n", 0o644)
	for _, p := range []string{filepath.Join(dir, zskBase), filepath.Join(dir, zskBase+".key"), filepath.Join(dir, zskBase+".private"), plain} {
		k, err := ReadPublicKey(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if k.Tag() != 44013 || k.Signer != nil {
			t.Errorf("%s: tag %d signer %v", p, k.Tag(), k.Signer)
		}
	}
	if _, err := ReadPublicKey(filepath.Join(dir, "missing.key")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestReadKeyDir(t *testing.T) {
	bind := copyFixture(t, td("bind920", "zsk"), td("bind920", "ksk-offline"), td("ldns-classic", "zsk"))
	tests := []struct {
		name, dir, zone string
		public          bool
		tags            []uint16
		wantErr         string
	}{
		{name: "BIND 9.20 keys", dir: bind, zone: "example.org", tags: []uint16{7181, 8755, 17577, 29929, 30386, 31067, 37325, 49726}},
		{name: "zone case-insensitive", dir: bind, zone: "EXAMPLE.ORG.", tags: []uint16{7181, 8755, 17577, 29929, 30386, 31067, 37325, 49726}},
		{name: "other zone in the same dir", dir: bind, zone: "example.net.", tags: []uint16{44013}},
		{name: "no keys for zone", dir: bind, zone: "example.com.", tags: nil},
		{name: "public only", dir: bind, zone: "example.net.", public: true, tags: []uint16{44013}},
		{name: "missing dir", dir: filepath.Join(bind, "nope"), zone: "example.net.", wantErr: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			read := ReadKeyDir
			if tc.public {
				read = ReadPublicKeyDir
			}
			keys, err := read(tc.dir, tc.zone)
			wantErr(t, err, tc.wantErr)
			var tags []uint16
			for _, k := range keys {
				tags = append(tags, k.Tag())
				if !tc.public && k.Signer == nil {
					t.Errorf("key %d has no signer", k.Tag())
				}
			}
			if len(tags) != len(tc.tags) {
				t.Fatalf("tags %v, want %v", tags, tc.tags)
			}
			for i := range tags {
				if tags[i] != tc.tags[i] {
					t.Fatalf("tags %v, want %v", tags, tc.tags)
				}
			}
		})
	}
}

func TestReadKeyDirErrors(t *testing.T) {
	t.Run("key without private", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, zskBase+".key", zskRR+"\n", 0o644)
		_, err := ReadKeyDir(dir, "example.net.")
		wantErr(t, err, filepath.Join(dir, zskBase+".key")+" has no private key file")
		if _, err := ReadPublicKeyDir(dir, "example.net."); err != nil {
			t.Errorf("ReadPublicKeyDir: %v", err)
		}
	})
	t.Run("world-readable private", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, zskBase+".key", zskRR+"\n", 0o644)
		writeFile(t, dir, zskBase+".private", zskPrivate, 0o604)
		_, err := ReadKeyDir(dir, "example.net.")
		wantErr(t, err, "readable by group or others (mode 0604)")
	})
}

// TestReadToolKeys reads keys made now by BIND's dnssec-keygen and ldns-keygen.
func TestReadToolKeys(t *testing.T) {
	tests := []struct {
		tool string
		args []string
		alg  uint8
		ksk  bool
	}{
		{"dnssec-keygen", []string{"-a", "ECDSAP256SHA256", "-n", "ZONE", "example.net."}, 13, false},
		{"dnssec-keygen", []string{"-a", "ECDSAP384SHA384", "-f", "KSK", "-P", "20270101000000", "-A", "20270102000000", "example.net."}, 14, true},
		{"dnssec-keygen", []string{"-a", "ED25519", "example.net."}, 15, false},
		{"dnssec-keygen", []string{"-a", "RSASHA256", "-b", "2048", "example.net."}, 8, false},
		{"ldns-keygen", []string{"-a", "ECDSAP256SHA256", "example.net."}, 13, false},
		{"ldns-keygen", []string{"-a", "ED25519", "-k", "example.net."}, 15, true},
		{"ldns-keygen", []string{"-a", "RSASHA256", "-b", "2048", "example.net."}, 8, false},
	}
	for _, tc := range tests {
		t.Run(tc.tool+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			bin := needTool(t, tc.tool)
			dir := t.TempDir()
			args := tc.args
			if tc.tool == "dnssec-keygen" {
				args = append([]string{"-K", dir, "-q"}, args...)
			}
			cmd := exec.Command(bin, args...)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", tc.tool, err, out)
			}
			keys, err := ReadKeyDir(dir, "example.net.")
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != 1 {
				t.Fatalf("%d keys, want 1 (output %s)", len(keys), out)
			}
			k := keys[0]
			if k.DNSKEY.Algorithm != tc.alg || k.IsKSK() != tc.ksk {
				t.Errorf("alg %d ksk %v, want %d %v", k.DNSKEY.Algorithm, k.IsKSK(), tc.alg, tc.ksk)
			}
			if tc.tool == "dnssec-keygen" && k.Timers.Created.IsZero() {
				t.Error("dnssec-keygen key without Created timer")
			}
			if tc.tool == "ldns-keygen" && !k.Timers.IsZero() {
				t.Errorf("ldns-keygen key with timers %+v", k.Timers)
			}
			if tc.ksk && tc.tool == "dnssec-keygen" {
				if k.Timers.Publish != ts("20270101000000") || k.Timers.Activate != ts("20270102000000") {
					t.Errorf("timers %+v", k.Timers)
				}
			}
			signAndVerify(t, k)
		})
	}
}
