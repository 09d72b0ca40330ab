package livesign

import (
	"testing"
	"time"

	"github.com/livesign/livesign/internal/keytest"
	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
)

var (
	t0 = time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	t1 = t0.Add(30 * 24 * time.Hour)
)

// gen is a generated zone (keytest.Gen) that makes timelines.
type gen struct{ *keytest.Gen }

func newGen(t *testing.T, zone string) *gen { return &gen{keytest.New(t, zone)} }

func (g *gen) key(ksk bool, tm keystore.Timers) *keystore.Key { return g.Key(ksk, tm) }

func (g *gen) slot(from, to time.Time, zsks ...*keystore.Key) keystore.Slot {
	return g.Slot(from, to, zsks...)
}

// timeline returns the timeline of zsks under a bundle of slots, with the
// default policy.
func (g *gen) timeline(zsks []*keystore.Key, slots ...keystore.Slot) *timeline.Timeline {
	g.T.Helper()
	tl, err := timeline.New(timeline.Inputs{Zone: g.Zone, ZSKs: zsks, Bundle: g.Bundle(slots...), Anchor: g.Anchor()})
	if err != nil {
		g.T.Fatal(err)
	}
	return tl
}
