package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
)

// TestAlgrollToolFixtures loads the SKRs of an algorithm roll
// ECDSAP256SHA256 (13) -> ED25519 (15) made by BIND 9.20 dnssec-ksr and by
// Knot 3.2 keymgr (testdata/algroll, see its READMEs) the way the plugin
// does, with their ZSK directories and both KSKs' DS as the anchor, and
// checks every slot start and a few instants inside: At works, every
// algorithm of the served DNSKEY set has a signing ZSK, the served DNSKEY,
// CDS and CDNSKEY signatures verify and none is by a key the set lacks,
// the ZSKs' signatures verify; the new algorithm signs before its DNSKEYs
// are served and the old one after they are gone (RFC 6781 §4.1.4). Then
// livesign check passes before, during and after the roll.
func TestAlgrollToolFixtures(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name, dir, zone, skr string
		presign, postsign    time.Time // the new algorithm signs unpublished; the old one signs unpublished
		checks               []string  // livesign check -at
	}{
		{name: "bind920", dir: "bind920", zone: "example.org", skr: "example.org.skr",
			presign: at("2027-02-03T00:00:00Z"), postsign: at("2027-03-01T12:00:00Z"),
			checks: []string{"2027-01-01T00:00:00Z", "2027-02-03T00:00:00Z", "2027-02-05T00:00:00Z", "2027-02-20T00:00:00Z", "2027-03-01T00:00:00Z", "2027-03-15T00:00:00Z", "2027-03-31T12:00:00Z"}},
		{name: "knot", dir: "knot", zone: "example.com", skr: "example.com.skr",
			presign: at("2027-02-03T00:00:00Z"), postsign: at("2027-03-03T00:00:00Z"),
			checks: []string{"2027-01-01T00:00:00Z", "2027-02-03T00:00:00Z", "2027-02-05T00:00:00Z", "2027-02-20T00:00:00Z", "2027-03-01T00:00:00Z", "2027-03-15T00:00:00Z", "2027-03-31T12:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := td("algroll", tc.dir)
			algrollServe(t, tc.zone, copyDir(t, filepath.Join(dir, "zsk")), filepath.Join(dir, tc.skr), filepath.Join(dir, "ksk.ds"), tc.presign, tc.postsign, tc.checks)
		})
	}
}

// algrollServe loads an SKR of an algorithm roll 13 -> 15 with its ZSK
// directory and anchor as the plugin does and checks it (see
// TestAlgrollToolFixtures): presign is an instant at which only 13 is
// served and 15 signs too, postsign one at which only 15 is served and 13
// signs too; livesign check passes at each of checks.
func algrollServe(t *testing.T, zone, zskDir, skr, anchorFile string, presign, postsign time.Time, checks []string) {
	t.Helper()
	tc := struct {
		zone              string
		presign, postsign time.Time
		checks            []string
	}{zone, presign, postsign, checks}
	zsks, err := keystore.ReadKeys(zskDir, keystore.Selection{Zone: tc.zone, Private: keystore.PrivateRequired})
	if err != nil {
		t.Fatal(err)
	}
	b, err := keystore.ReadBundle(skr, tc.zone)
	if err != nil {
		t.Fatal(err)
	}
	a, err := keystore.ReadAnchor(anchorFile, tc.zone)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := timeline.New(timeline.Inputs{Zone: tc.zone, ZSKs: zsks, Bundle: b, Anchor: a})
	if err != nil {
		t.Fatal(err)
	}
	if err := tl.Check(b.Slots[0].Start); err != nil {
		t.Fatal(err)
	}
	var instants []time.Time
	for i, s := range b.Slots {
		instants = append(instants, s.Start, s.Start.Add(time.Hour))
		if i+1 < len(b.Slots) {
			instants = append(instants, s.Start.Add(b.Slots[i+1].Start.Sub(s.Start)/2))
		}
	}
	instants = append(instants, tc.presign, tc.postsign)
	var sawBoth bool
	for _, when := range instants {
		ks, err := tl.At(when)
		if err != nil {
			t.Fatalf("At(%s): %v", when, err)
		}
		var keys []*dns.DNSKEY
		for _, r := range ks.DNSKEY {
			keys = append(keys, r.(*dns.DNSKEY))
		}
		served := algs(keys)
		signing := map[uint8]bool{}
		for _, z := range ks.ZSKs {
			signing[z.DNSKEY.Algorithm] = true
			checkZSKSignature(t, when, tc.zone, z)
		}
		for _, alg := range served {
			if !signing[alg] {
				t.Errorf("At(%s): algorithm %d is in the DNSKEY set but no ZSK of it signs (ZSKs %v)", when, alg, tags(ks.ZSKs))
			}
		}
		sawBoth = sawBoth || len(served) == 2
		checkServedSigs(t, when, ks)
		switch {
		case when.Equal(tc.presign):
			if !slices.Equal(served, []uint8{dns.ECDSAP256SHA256}) || !signing[dns.ED25519] {
				t.Errorf("At(%s) (pre-sign): served algorithms %v, signing %v: want only 13 served and 15 signing too", when, served, signing)
			}
		case when.Equal(tc.postsign):
			if !slices.Equal(served, []uint8{dns.ED25519}) || !signing[dns.ECDSAP256SHA256] {
				t.Errorf("At(%s) (post-sign): served algorithms %v, signing %v: want only 15 served and 13 signing too", when, served, signing)
			}
		}
	}
	if first, last := algs(b.Slots[0].DNSKEY), algs(b.Slots[len(b.Slots)-1].DNSKEY); !sawBoth ||
		!slices.Equal(first, []uint8{dns.ECDSAP256SHA256}) || !slices.Equal(last, []uint8{dns.ED25519}) {
		t.Errorf("not an algorithm roll: first slot %v, last %v, both served at once: %v", first, last, sawBoth)
	}
	for _, c := range tc.checks {
		code, stdout, stderr := livesign(t, "check", "-keys", zskDir, "-bundle", skr, "-trust-anchor", anchorFile, "-at", c, "-warn-coverage", "1d")
		if code != 0 || !strings.Contains(stdout, "\nOK\n") {
			t.Errorf("check -at %s: exit %d\n%s%s", c, code, stdout, stderr)
		}
	}
	// While both algorithms sign, check names both signers.
	ks, err := tl.At(tc.presign)
	if err != nil || len(ks.ZSKs) != 2 {
		t.Fatalf("At(%s) (pre-sign): %v, %v: want two signing ZSKs", tc.presign, ks, err)
	}
	when := tc.presign.UTC().Format(time.RFC3339)
	_, stdout, _ := livesign(t, "check", "-keys", zskDir, "-bundle", skr, "-trust-anchor", anchorFile, "-at", when, "-warn-coverage", "1d")
	if want := fmt.Sprintf("signing at %s: ZSK %d+%d\n", when, ks.ZSKs[0].Tag(), ks.ZSKs[1].Tag()); !strings.Contains(stdout, want) {
		t.Errorf("check -at %s does not say %q:\n%s", when, want, stdout)
	}
}

// algs returns the algorithms of keys, sorted, each once.
func algs(keys []*dns.DNSKEY) []uint8 {
	var out []uint8
	for _, k := range keys {
		if !slices.Contains(out, k.Algorithm) {
			out = append(out, k.Algorithm)
		}
	}
	slices.Sort(out)
	return out
}

func tags(keys []*keystore.Key) []uint16 {
	var out []uint16
	for _, k := range keys {
		out = append(out, k.Tag())
	}
	return out
}

// checkZSKSignature signs a TXT record of zone with z at when and verifies it.
func checkZSKSignature(t *testing.T, when time.Time, zone string, z *keystore.Key) {
	t.Helper()
	rrs := []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: dns.Fqdn(zone), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 300}, Txt: []string{"algroll"}}}
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Ttl: 300}, KeyTag: z.Tag(), SignerName: dns.Fqdn(zone), Algorithm: z.DNSKEY.Algorithm,
		Inception: uint32(when.Add(-time.Hour).Unix()), Expiration: uint32(when.Add(time.Hour).Unix())}
	if err := sig.Sign(z.Signer, rrs); err != nil {
		t.Fatalf("At(%s): ZSK %d: %v", when, z.Tag(), err)
	}
	if err := sig.Verify(z.DNSKEY, rrs); err != nil || !sig.ValidityPeriod(when) {
		t.Errorf("At(%s): ZSK %d's signature does not verify: %v", when, z.Tag(), err)
	}
}

// checkServedSigs verifies every served RRSIG over DNSKEY, CDS and CDNSKEY
// with a key of the served set, valid at when.
func checkServedSigs(t *testing.T, when time.Time, ks *timeline.KeySet) {
	t.Helper()
	if len(ks.DNSKEYSigs) == 0 {
		t.Fatalf("At(%s): no RRSIG over DNSKEY served", when)
	}
	for _, g := range []struct{ sigs, rrs []dns.RR }{{ks.DNSKEYSigs, ks.DNSKEY}, {ks.CDSSigs, ks.CDS}, {ks.CDNSKEYSig, ks.CDNSKEY}} {
		for _, r := range g.sigs {
			sig := r.(*dns.RRSIG)
			i := slices.IndexFunc(ks.DNSKEY, func(k dns.RR) bool {
				d := k.(*dns.DNSKEY)
				return d.KeyTag() == sig.KeyTag && d.Algorithm == sig.Algorithm
			})
			if i < 0 {
				t.Errorf("At(%s): served RRSIG over %s by %d, a key the set lacks", when, dns.TypeToString[sig.TypeCovered], sig.KeyTag)
				continue
			}
			if err := sig.Verify(ks.DNSKEY[i].(*dns.DNSKEY), g.rrs); err != nil || !sig.ValidityPeriod(when) {
				t.Errorf("At(%s): RRSIG over %s by %d does not verify (%v) or is not valid", when, dns.TypeToString[sig.TypeCovered], sig.KeyTag, err)
			}
		}
	}
}
