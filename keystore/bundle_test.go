package keystore

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestReadBundleLdnsClassic(t *testing.T) {
	b, err := ReadBundle(td("ldns-classic", "bundle.zone"), "Example.Net")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Slots) != 1 {
		t.Fatalf("%d slots", len(b.Slots))
	}
	s := b.Slots[0]
	if want := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC); !s.Start.Equal(want) {
		t.Errorf("Start %v, want %v", s.Start, want)
	}
	if len(s.DNSKEY) != 2 || len(s.RRSIGs) != 1 || len(s.CDS) != 0 || len(s.CDNSKEY) != 0 {
		t.Errorf("slot %d DNSKEY %d RRSIG", len(s.DNSKEY), len(s.RRSIGs))
	}
	if b.File != td("ldns-classic", "bundle.zone") {
		t.Errorf("File %q", b.File)
	}
}

const (
	kskLine = "example.net.\t3600\tIN\tDNSKEY\t257 3 13 QmYdxq6QDqutUdUwOuvVE26O17g5N0oHIVkERA/EFegnM01f58+4hYpfznHhSU0Es7A10Qbjik4lnpCTGejyHQ=="
	zskLine = "example.net.\t3600\tIN\tDNSKEY\t256 3 13 au7oetIteIrGnFN5hPqMSKazIeyBamugpaRcVfo0vNs3hHM/YgBv7GbApSP4XL8UUrpwTVN0+liT2zqiVBf8Pw=="
	sigLine = "example.net.\t3600\tIN\tRRSIG\tDNSKEY 13 2 3600 20271101000000 20261101000000 41401 example.net. 3/JNQAAQlwcGrXY9ak7NX64HCQRGOr7m+oyDTw9lU/IvfxZcuG/UgFNoagAdUEf346vr9LxrNNt6/snwfYZE1Q=="
)

func TestParseBundle(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
		keys    int
	}{
		{name: "ldns lines", in: zskLine + "\n" + kskLine + "\n" + sigLine + "\n", keys: 2},
		{name: "relative names, $ORIGIN, $TTL, multi-line, comments",
			in: "; offline-signed DNSKEY set\n$ORIGIN example.net.\n$TTL 3600\n\n@ DNSKEY 257 3 13 (\n QmYdxq6QDqutUdUwOuvVE26O17g5N0oHIVkERA/EFegnM01f58+4hYpf\n znHhSU0Es7A10Qbjik4lnpCTGejyHQ== ) ; KSK\n" +
				"@ IN DNSKEY 256 3 13 au7oetIteIrGnFN5hPqMSKazIeyBamugpaRcVfo0vNs3hHM/YgBv7GbApSP4XL8UUrpwTVN0+liT2zqiVBf8Pw==\n" +
				"@ RRSIG DNSKEY 13 2 3600 20271101000000 (\n 20261101000000 41401 example.net.\n 3/JNQAAQlwcGrXY9ak7NX64HCQRGOr7m+oyDTw9lU/IvfxZcuG/UgFNoagAdUEf346vr9LxrNNt6/snwfYZE1Q== )\n", keys: 2},
		{name: "duplicate records collapse", in: zskLine + "\n" + kskLine + "\n" + kskLine + "\n" + sigLine + "\n", keys: 2},
		{name: "KSK only", in: kskLine + "\n" + sigLine + "\n", keys: 1},
		{name: "empty", in: "", wantErr: "bundle.zone is empty"},
		{name: "blank lines only", in: "\n  \n\t\n", wantErr: "is empty"},
		{name: "garbage", in: "this is not a zone file\n", wantErr: "bundle.zone: dns: not a TTL: \"is\" at line: 1:8: a bundle is the signed DNSKEY RRset in zone-file syntax"},
		{name: "other owner", in: kskLine + "\n" + strings.Replace(zskLine, "example.net.", "www.example.net.", 1) + "\n" + sigLine + "\n", wantErr: "bundle.zone:2: DNSKEY record for www.example.net., not the zone apex example.net."},
		{name: "other type", in: kskLine + "\n" + sigLine + "\nexample.net. 3600 IN SOA ns1 hostmaster 1 2 3 4 5\n", wantErr: "bundle.zone:3: unexpected SOA record"},
		{name: "RRSIG over SOA", in: kskLine + "\n" + sigLine + "\nexample.net. 3600 IN RRSIG SOA 13 2 3600 20271101000000 20261101000000 41401 example.net. AAAA\n", wantErr: "bundle.zone:3: RRSIG over SOA"},
		{name: "RRSIG with another signer", in: kskLine + "\n" + strings.Replace(sigLine, "41401 example.net.", "41401 example.com.", 1) + "\n", wantErr: "signer name example.com."},
		{name: "no DNSKEY", in: sigLine + "\n", wantErr: "no DNSKEY record"},
		{name: "no RRSIG", in: kskLine + "\n" + zskLine + "\n", wantErr: "no RRSIG over DNSKEY"},
		{name: "no SEP key", in: zskLine + "\n" + sigLine + "\n", wantErr: "no KSK (DNSKEY with flags 257"},
		{name: "CH class", in: strings.Replace(kskLine, "IN", "CH", 1) + "\n", wantErr: "class CH"},
		{name: "comments only", in: "; nothing\n;; here\n", wantErr: "no DNSKEY record"},
		{name: "SKR header after records", in: kskLine + "\n" + sigLine + "\n;; SignedKeyResponse 1.0 20261101000000 (x)\n", wantErr: "bundle.zone:3: SKR/KSR header after the first record"},
		{name: "KSR", in: ";; KeySigningRequest 1.0 20261101000000 (Sun Nov  1 00:00:00 2026)\n" + zskLine + "\n", wantErr: "is a key signing request (KSR), not a signed bundle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ParseBundle(strings.NewReader(tc.in), "/etc/livesign/bundle.zone", "example.net.")
			wantErr(t, err, tc.wantErr)
			if err != nil {
				return
			}
			if len(b.Slots) != 1 || len(b.Slots[0].DNSKEY) != tc.keys {
				t.Fatalf("got %+v", b.Slots)
			}
			for _, k := range b.Slots[0].DNSKEY {
				if k.Hdr.Name != "example.net." {
					t.Errorf("owner %q", k.Hdr.Name)
				}
			}
		})
	}
}

// TestReadBundleBadFiles loads every file of testdata/bad: each is either
// refused by ReadBundle or, when it parses, by CheckSlot.
func TestReadBundleBadFiles(t *testing.T) {
	anchor, err := ReadAnchor(td("ldns-classic", "ksk.ds"), "example.net.")
	if err != nil {
		t.Fatal(err)
	}
	zsk := ldnsZSK(t)
	tests := []struct {
		file, zone string
		anchor     *Anchor
		parseErr   string // ReadBundle error
		checkErr   string // CheckSlot error when the file parses
	}{
		{file: "empty.bundle", zone: "example.net.", parseErr: "empty.bundle is empty"},
		{file: "garbage.bundle", zone: "example.net.", parseErr: "garbage.bundle: dns: not a TTL: \"is\" at line: 1:8"},
		{file: "truncated.skr", zone: "example.org.", parseErr: "truncated.skr: dns: bad RRSIG KeyTag: \" \" at line: 6:28"},
		{file: "tampered-rrsig.zone", zone: "example.net.", anchor: anchor, checkErr: "RRSIG over DNSKEY by 41401 does not verify over the DNSKEY set (KSK 41401, ZSK 44013): the signature or the keys were altered"},
		{file: "foreign-ksk.zone", zone: "example.net.", anchor: anchor, checkErr: "signed only by KSK 65241, which the trust anchor in ../testdata/ldns-classic/ksk.ds (DS for 41401) does not name"},
		{file: "expired.zone", zone: "example.net.", anchor: anchor, checkErr: "RRSIG by 20071 expired at 2020-02-01T00:00:00Z"},
		{file: "expired.zone", zone: "example.net.", checkErr: "RRSIG by 20071 expired at 2020-02-01T00:00:00Z (over DNSKEY, checked at 2026-12-01T00:00:00Z)"},
		{file: "missing-zsk.zone", zone: "example.net.", anchor: anchor, checkErr: "the DNSKEY set signed offline differs from the bundle's keys plus the ZSKs in the keys directory (tags 41401 and 44013): ZSK 44013 from the keys directory is not in the bundle: re-sign the DNSKEY set including ZSK 44013"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := ReadBundle(td("bad", tc.file), tc.zone)
			wantErr(t, err, tc.parseErr)
			if err != nil {
				return
			}
			_, err = CheckSlot(&b.Slots[0], tc.zone, []*dns.DNSKEY{zsk}, tc.anchor, fixtureTime)
			wantErr(t, err, tc.checkErr)
		})
	}
}

func TestReadBundleMissingFile(t *testing.T) {
	_, err := ReadBundle(td("nope.zone"), "example.net.")
	wantErr(t, err, "nope.zone: no such file")
}
