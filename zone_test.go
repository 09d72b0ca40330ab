package livesign

import (
	"strings"
	"testing"
	"time"

	"github.com/livesign/livesign/config"
	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
	"github.com/miekg/dns"
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

// TestAlgorithmWithoutAutoPlan: the algorithm directive without auto-plan is
// never ignored: a zone none of whose signing ZSKs has it does not start.
func TestAlgorithmWithoutAutoPlan(t *testing.T) {
	for _, tc := range []struct {
		alg     uint8
		wantErr string
	}{
		{0, ""},
		{dns.ECDSAP256SHA256, ""}, // the fixture's ZSK
		{dns.ED25519, "algorithm ED25519 is set, but the ZSKs that sign have ECDSAP256SHA256, and without auto-plan the server makes no keys"},
	} {
		cfg := testConfig(t)
		cfg.Algorithm = tc.alg
		_, err := New([]config.Config{cfg}, func() time.Time { return testNow })
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("algorithm %d: %v, want %q", tc.alg, err, tc.wantErr)
		}
	}
}
