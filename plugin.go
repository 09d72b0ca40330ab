// Package livesign is a CoreDNS plugin that signs answers on the fly with an
// online ZSK, under a DNSKEY RRset signed ahead of time by an offline KSK,
// and denies existence with RFC 9824 compact answers.
package livesign

import (
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coredns/coredns/plugin"
	clog "github.com/coredns/coredns/plugin/pkg/log"
)

var log = clog.NewWithPlugin("livesign")

// Livesign is the plugin handler.
type Livesign struct {
	Next plugin.Handler

	zones  []*Zone
	names  []string // zone names, for plugin.Zones matching
	signer *Signer
	prober *typeProber
	now    func() time.Time
}

// Zone is one signed zone: its key timeline and the key set in force now.
type Zone struct {
	Name     string
	Timeline *Timeline

	current atomic.Pointer[KeySet]
	mu      sync.Mutex // serializes recomputation of current
}

// Name implements plugin.Handler.
func (l *Livesign) Name() string { return "livesign" }

// zone returns the zone that qname falls in, the longest match.
func (l *Livesign) zone(qname string) *Zone {
	match := plugin.Zones(l.names).Matches(qname)
	if match == "" {
		return nil
	}
	for _, z := range l.zones {
		if z.Name == match {
			return z
		}
	}
	return nil
}

// Keys returns the key set in force at now, asking the timeline again only
// when the current one has run out.
func (z *Zone) Keys(now time.Time) (*KeySet, error) {
	if ks := z.current.Load(); ks != nil && !now.Before(ks.From) && now.Before(ks.Until) {
		return ks, nil
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if ks := z.current.Load(); ks != nil && !now.Before(ks.From) && now.Before(ks.Until) {
		return ks, nil
	}
	ks, err := z.Timeline.At(now)
	if err != nil {
		return nil, fmt.Errorf("zone %s: %w", z.Name, err)
	}
	old := z.current.Swap(ks)
	if old == nil || old.Tag() != ks.Tag() {
		log.Infof("zone %s: signing with ZSK %d until %s at the latest", z.Name, ks.Tag(), ks.Until.UTC().Format(time.RFC3339))
	}
	activeZSK.WithLabelValues(z.Name).Set(float64(ks.Tag()))
	return ks, nil
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
