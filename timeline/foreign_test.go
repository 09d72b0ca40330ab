package timeline

import (
	"fmt"
	"strings"
	"testing"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// TestTimelineForeign: the other providers' keys of a multi-signer zone
// (RFC 8901 model 2). The online KSK publishes them and lists the other
// KSK in the CDS and CDNSKEY; a single KSK-signed set gets the other ZSK
// added; an SKR slot that lacks it is served as signed, with a note. They
// never sign.
func TestTimelineForeign(t *testing.T) {
	g := newGen(t, "multi.example.")
	own := g.key(false, keystore.Timers{Created: t0.AddDate(0, -1, 0)})
	otherKSK := g.key(true, keystore.Timers{})
	otherZSK := g.key(false, keystore.Timers{})
	otherZSK.Signer, otherKSK.Signer = nil, nil
	foreign := []*keystore.Key{otherKSK, otherZSK}
	has := func(keys []dns.RR, k *keystore.Key) bool {
		for _, x := range keys {
			if RefOf(x.(*dns.DNSKEY)) == RefOf(k.DNSKEY) {
				return true
			}
		}
		return false
	}

	online := mustNew(t, Inputs{Zone: g.Zone, ZSKs: []*keystore.Key{own}, KSKs: []*keystore.Key{g.KSK}, Foreign: foreign})
	ks, err := online.At(t0)
	if err != nil {
		t.Fatal(err)
	}
	if !has(ks.DNSKEY, otherKSK) || !has(ks.DNSKEY, otherZSK) || len(ks.DNSKEY) != 4 {
		t.Errorf("online: DNSKEY set %v: want the own KSK and ZSK and both foreign keys", ks.DNSKEY)
	}
	if len(ks.CDS) != 2 || ks.CDS[1].(*dns.CDS).KeyTag != otherKSK.Tag() || len(ks.CDNSKEY) != 2 {
		t.Errorf("online: CDS %v, CDNSKEY %v: want both KSKs", ks.CDS, ks.CDNSKEY)
	}
	if ks.ZSK != own || len(ks.ZSKs) != 1 {
		t.Errorf("online: signing ZSKs %v: want the own ZSK alone", ks.ZSKs)
	}
	for _, s := range append(append(ks.DNSKEYSigs, ks.CDSSigs...), ks.CDNSKEYSig...) {
		if tag := s.(*dns.RRSIG).KeyTag; tag != g.KSK.Tag() {
			t.Errorf("online: RRSIG by %d: only the own KSK %d signs", tag, g.KSK.Tag())
		}
	}
	checkKeySet(t, ks, t0)

	// A single bundle that lists the KSK alone (its RRSIG covers the
	// ZSKs too, as in the classic ldns flow): the server adds the own and
	// the other provider's ZSKs; without the other one it does not verify.
	sl := g.slot(t0.AddDate(0, 0, -1), t1, own, otherZSK)
	sl.DNSKEY = []*dns.DNSKEY{g.KSK.DNSKEY}
	for _, f := range [][]*keystore.Key{foreign, nil} {
		single := mustNew(t, Inputs{Zone: g.Zone, ZSKs: []*keystore.Key{own}, Bundle: g.Bundle(sl), Anchor: g.Anchor(), Foreign: f})
		ks, err := single.At(t0)
		if f == nil {
			if err == nil {
				t.Errorf("single bundle without foreign-keys: want an error, the signed set holds the other ZSK")
			}
			continue
		}
		if err != nil || !has(ks.DNSKEY, otherZSK) || !has(ks.DNSKEY, own) {
			t.Errorf("single bundle: %v, %v: want both ZSKs added", ks, err)
		}
	}

	// An SKR whose slot lacks the other ZSK is served as signed, noted.
	b := g.Bundle(g.slot(t0.AddDate(0, 0, -1), t1, own))
	b.SKR = true
	skr := mustNew(t, Inputs{Zone: g.Zone, ZSKs: []*keystore.Key{own}, Bundle: b, Anchor: g.Anchor(), Foreign: foreign})
	ks, err = skr.At(t0)
	if err != nil || has(ks.DNSKEY, otherZSK) {
		t.Fatalf("SKR without the other ZSK: %v, %v: want it served as signed", ks, err)
	}
	notes := strings.Join(skr.Notes(t0), "\n")
	if !strings.Contains(notes, fmt.Sprint("ZSK ", otherZSK.Tag())) || !strings.Contains(notes, fmt.Sprint("KSK ", otherKSK.Tag())) {
		t.Errorf("notes %q: want one for the other ZSK and one for the other KSK", notes)
	}
	b2 := g.Bundle(g.slot(t0.AddDate(0, 0, -1), t1, own, otherZSK, otherKSK))
	b2.SKR = true
	if n := mustNew(t, Inputs{Zone: g.Zone, ZSKs: []*keystore.Key{own}, Bundle: b2, Anchor: g.Anchor(), Foreign: foreign}).Notes(t0); len(n) != 0 {
		t.Errorf("an SKR with both foreign keys: notes %q, want none", n)
	}
}
