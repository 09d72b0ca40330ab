package keystore

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// buildKSRKeys makes three ZSKs of a 30-day rollover from day 0 of the
// coverage tests' calendar, with RFC 7583 pre-publication timers.
func buildKSRKeys(t *testing.T) []*Key {
	t.Helper()
	var keys []*Key
	for i := 0; i < 3; i++ {
		k, err := GenerateKey("example.org", dns.ECDSAP256SHA256, false, covDay(0))
		if err != nil {
			t.Fatal(err)
		}
		act := covDay(float64(30 * i))
		k.Timers = Timers{Created: covDay(0), Publish: act.Add(-2 * time.Hour), Activate: act, Inactive: act.Add(30 * 24 * time.Hour), Delete: act.Add(31 * 24 * time.Hour)}
		if i == 0 {
			k.Timers.Publish = act
		}
		keys = append(keys, k)
	}
	return keys
}

// ksrSignedLike signs nothing: it makes the bundle keymgr sign-ksr 3.2
// would with a policy without rrsig-refresh, one slot per KSR record valid
// for life days from it.
func ksrSignedLike(k *KSR, life float64) *Bundle {
	b := &Bundle{SKR: true}
	for _, s := range k.Slots {
		sig := covSig(dns.TypeDNSKEY, 0, 0)
		sig.Inception = uint32(s.Start.Add(-90 * time.Minute).Unix())
		sig.Expiration = uint32(s.Start.Add(time.Duration(life * float64(24*time.Hour))).Unix())
		b.Slots = append(b.Slots, Slot{Start: s.Start, DNSKEY: s.DNSKEY, RRSIGs: []*dns.RRSIG{sig}})
	}
	return b
}

func TestBuildKSRResign(t *testing.T) {
	keys := buildKSRKeys(t)
	start, end := covDay(0), covDay(89)
	// The key events: start, Publish of keys 2 and 3, Delete of keys 1 and 2, end.
	events := []time.Time{start, keys[1].Timers.Publish, keys[0].Timers.Delete, keys[2].Timers.Publish, keys[1].Timers.Delete, end}
	tests := []struct {
		name    string
		layout  Layout
		resign  time.Duration // -1: BuildKSR's default for the layout
		maxStep time.Duration // 0: exactly the key events
		gap     bool          // 14-day signatures per record leave a gap
	}{
		{"BIND layout default: key events only", LayoutBIND, -1, 0, true},
		{"Knot layout default: every 7d at most", LayoutKnot, -1, 7 * 24 * time.Hour, false},
		{"Knot layout, resign 0: key events only", LayoutKnot, 0, 0, true},
		{"Knot layout, resign 3d", LayoutKnot, 3 * 24 * time.Hour, 3 * 24 * time.Hour, false},
		{"BIND layout, resign 10d asked", LayoutBIND, 10 * 24 * time.Hour, 10 * 24 * time.Hour, false},
		{"Knot layout, resign 20d: too far apart for 14d signatures", LayoutKnot, 20 * 24 * time.Hour, 20 * 24 * time.Hour, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var k *KSR
			var err error
			if tc.resign < 0 {
				k, err = BuildKSR("example.org", keys, start, end, time.Hour, tc.layout, start)
			} else {
				k, err = BuildKSRResign("example.org", keys, start, end, time.Hour, tc.layout, start, tc.resign)
			}
			if err != nil {
				t.Fatal(err)
			}
			at := map[time.Time]bool{}
			for i, s := range k.Slots {
				at[s.Start] = true
				if i == 0 {
					continue
				}
				prev := k.Slots[i-1]
				step := s.Start.Sub(prev.Start)
				if tc.maxStep > 0 && step > tc.maxStep {
					t.Errorf("slot %d at %s is %s after the one before, more than %s", i+1, s.Start, step, tc.maxStep)
				}
				if want := ksrSet("example.org.", keys, s.Start, time.Hour); zskIDs(s.DNSKEY) != zskIDs(want) {
					t.Errorf("slot %d at %s: %d ZSKs, not the %d published then", i+1, s.Start, len(s.DNSKEY), len(want))
				}
			}
			for _, e := range events {
				if !at[e] {
					t.Errorf("no slot at the key event %s", e)
				}
			}
			if tc.maxStep == 0 && len(k.Slots) != len(events) {
				t.Errorf("%d slots, want the %d key events only", len(k.Slots), len(events))
			}
			if last := k.Slots[len(k.Slots)-1].Start; !last.Equal(end) {
				t.Errorf("last slot at %s, want the end %s", last, end)
			}
			g := ksrSignedLike(k, 14).FirstGap(start)
			if g.Inner() != tc.gap {
				t.Errorf("signed for 14d per record: gap %+v, want a gap: %v", g, tc.gap)
			}
			if !tc.gap && !g.Start.Equal(end.Add(14*24*time.Hour)) {
				t.Errorf("signed for 14d per record: covered until %s, want %s", g.Start, end.Add(14*24*time.Hour))
			}
		})
	}
}

func TestBuildKSRResignErrors(t *testing.T) {
	keys := buildKSRKeys(t)
	for _, r := range []time.Duration{-time.Hour, 30 * time.Minute} {
		_, err := BuildKSRResign("example.org", keys, covDay(0), covDay(60), time.Hour, LayoutKnot, covDay(0), r)
		wantErr(t, err, "give 0 (key events only) or at least 1h0m0s")
	}
}
