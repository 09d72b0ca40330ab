// Package livesign is a CoreDNS plugin that signs answers on the fly with an
// online ZSK, under a DNSKEY RRset signed ahead of time by an offline KSK,
// and denies existence with RFC 9824 compact answers.
package livesign

import (
	"sync/atomic"
	"time"

	"github.com/coredns/coredns/plugin"
	clog "github.com/coredns/coredns/plugin/pkg/log"
	"github.com/livesign/livesign/config"
)

var log = clog.NewWithPlugin("livesign")

// Livesign is the plugin handler.
type Livesign struct {
	Next plugin.Handler

	zones  []*Zone
	prober *typeProber
	now    func() time.Time
	// reloadEvery is how often the files are polled: the shortest reload
	// period of the zones.
	reloadEvery time.Duration
	// compact is false when a cache plugin sits in front: it would hand a
	// CO answer (rcode NXDOMAIN) to clients that did not ask for one.
	compact atomic.Bool
}

// New loads the keys, bundles and trust anchors of cfgs and checks that each
// zone has a valid key set at now(): a bad input stops CoreDNS here.
func New(cfgs []config.Config, now func() time.Time) (*Livesign, error) {
	l := &Livesign{now: now}
	l.prober = newTypeProber(l, 10000)
	l.compact.Store(true)
	for _, cfg := range cfgs {
		z, err := newZone(cfg, now)
		if err != nil {
			return nil, err
		}
		l.zones = append(l.zones, z)
		if l.reloadEvery == 0 || cfg.Reload < l.reloadEvery {
			l.reloadEvery = cfg.Reload
		}
	}
	return l, nil
}

// Name implements plugin.Handler.
func (l *Livesign) Name() string { return "livesign" }

// zone returns the zone that qname falls in, the longest match, as
// plugin.Zones.Matches finds it but without allocating (it runs for every
// query).
func (l *Livesign) zone(qname string) *Zone {
	var best *Zone
	for _, z := range l.zones {
		if inZone(qname, z.Name) && (best == nil || len(z.Name) > len(best.Name)) {
			best = z
		}
	}
	return best
}
