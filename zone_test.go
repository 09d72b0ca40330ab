package livesign

import (
	"testing"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
)

// TestClockJumpsBack: the zone's cached key set follows the clock back.
func TestClockJumpsBack(t *testing.T) {
	g := newGen(t, "jump.example.")
	p := keystore.DefaultPolicy()
	start := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	var chain []*keystore.Key
	for i := 0; i < 4; i++ {
		act := start.Add(time.Duration(i) * p.ZSKLifetime)
		pub := act.Add(-p.Ipub())
		if i == 0 {
			pub = start
		}
		chain = append(chain, g.key(false, keystore.Timers{Created: pub, Publish: pub, Activate: act,
			Inactive: act.Add(p.ZSKLifetime), Delete: act.Add(p.ZSKLifetime + p.Iret())}))
	}
	tl, err := timeline.New(timeline.Inputs{Zone: g.Zone, ZSKs: chain, KSKs: []*keystore.Key{g.KSK}, Anchor: g.Anchor()})
	if err != nil {
		t.Fatal(err)
	}
	z := &Zone{Name: g.Zone, Timeline: tl}
	switchAt := chain[2].Timers.Activate
	after, err := z.Keys(switchAt.Add(10 * time.Minute))
	if err != nil || after.ZSK != chain[2] {
		t.Fatalf("after the switch: %v %v", after, err)
	}
	before, err := z.Keys(switchAt.Add(-50 * time.Minute)) // the clock went back an hour
	if err != nil || before.ZSK != chain[1] {
		t.Fatalf("an hour back: signs with %v, want %d (%v)", before, chain[1].Tag(), err)
	}
}
