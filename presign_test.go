package livesign

import (
	"context"
	"testing"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// TestPresignBeforeSwitch: shortly before a ZSK switch the background tick
// signs the hot RRsets with the successor, so that the first queries after
// the switch hit the cache; at the switch instant the key set changes.
func TestPresignBeforeSwitch(t *testing.T) {
	g := newGen(t, "presign.example.")
	a := g.key(false, keystore.Timers{Created: t0.AddDate(0, -1, 0), Publish: t0.AddDate(0, -1, 0), Activate: t0, Inactive: t1})
	b := g.key(false, keystore.Timers{Created: t0.AddDate(0, -1, 0), Publish: t0, Activate: t1})
	tl := g.timeline([]*keystore.Key{a, b}, g.slot(t0.AddDate(0, -1, 0), t1.AddDate(0, 2, 0), a, b))
	z := &Zone{Name: "presign.example.", Timeline: tl, signer: NewSigner(7*24*time.Hour, 24*time.Hour, 1000, 2)}

	before := t1.Add(-time.Hour)
	ks, err := z.Keys(before)
	if err != nil || ks.ZSK != a {
		t.Fatalf("before the switch: %v, %v", ks, err)
	}
	var sets [][]dns.RR
	for _, name := range []string{"www", "mail", "ftp"} {
		rr, _ := dns.NewRR(name + ".presign.example. 300 IN A 192.0.2.1")
		sets = append(sets, []dns.RR{rr})
	}
	wild, _ := dns.NewRR("x.wild.presign.example. 300 IN TXT \"w\"")
	ctx := context.Background()
	for _, set := range sets {
		for range 3 { // hot
			if _, err := z.signer.Sign(ctx, set, "", z.Name, a, before); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := z.signer.Sign(ctx, []dns.RR{wild}, "*.wild.presign.example.", z.Name, a, before); err != nil {
		t.Fatal(err)
	}

	if got := z.nextEvent(before); !got.Equal(t1.Add(-presignLead)) {
		t.Errorf("next event %s, want %s", got, t1.Add(-presignLead))
	}
	z.tick(t1.Add(-presignLead)) // pre-signs with B
	if !z.presigned.Equal(t1) {
		t.Fatalf("not pre-signed for %s", t1)
	}
	if got := z.nextEvent(t1.Add(-time.Second)); !got.Equal(t1) {
		t.Errorf("after pre-signing the next event is %s, want the switch %s", got, t1)
	}
	made := signatures(z.Name)
	for _, set := range sets {
		sig, err := z.signer.Sign(ctx, set, "", z.Name, b, t1)
		if err != nil {
			t.Fatal(err)
		}
		if sig.KeyTag != b.Tag() {
			t.Errorf("signed by %d, want %d", sig.KeyTag, b.Tag())
		}
		if err := sig.Verify(b.DNSKEY, set); err != nil {
			t.Errorf("pre-signed RRSIG does not verify: %v", err)
		}
	}
	sig, err := z.signer.Sign(ctx, []dns.RR{wild}, "*.wild.presign.example.", z.Name, b, t1)
	if err != nil || sig.Labels != 3 || sig.Verify(b.DNSKEY, []dns.RR{wild}) != nil {
		t.Errorf("pre-signed wildcard RRSIG wrong: %v %v", sig, err)
	}
	if n := signatures(z.Name) - made; n != 0 {
		t.Errorf("%v RRsets signed at the switch: pre-signing missed them", n)
	}

	z.tick(t1) // the switch
	if ks := z.current.Load(); ks == nil || ks.ZSK != b {
		t.Errorf("at the switch the key set still signs with %v", ks.Tag())
	}
}
