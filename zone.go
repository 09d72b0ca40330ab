package livesign

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livesign/livesign/config"
	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
	"github.com/miekg/dns"
)

// Zone is one signed zone: its key timeline, its signer, and the key set in
// force now.
type Zone struct {
	Name      string
	Timeline  *timeline.Timeline // replaced by reload, under mu
	signer    *Signer
	workers   *workers   // run the answers that miss the response cache
	responses *respCache // nil: off
	cfg       config.Config

	lastSeen    string        // fingerprint of the files in use (watch goroutine only)
	rejected    string        // fingerprint of the files last rejected ...
	retryAt     time.Time     // ... and when to look at them again
	lastWarn    time.Time     // last low-coverage warning (watch goroutine only)
	lastDSWarn  time.Time     // last warning about a parent DS due (watch goroutine only)
	presigned   time.Time     // Until of the key set pre-signed for (watch goroutine only)
	nextPlan    time.Time     // next auto-plan run (watch goroutine only)
	planBackoff time.Duration // wait after the last failed auto-plan
	reported    sync.Map      // key tags whose repair was logged

	current atomic.Pointer[timeline.KeySet]
	failed  atomic.Pointer[keyFailure] // last failure, reused for a second
	mu      sync.Mutex                 // serializes recomputation of current
	logged  atomic.Int64               // Unix time of the last failure logged
}

type keyFailure struct {
	err   error
	until time.Time
}

// newZone loads the zone of cfg and checks that it has a valid key set at
// now(). Auto-plan runs first: with an online KSK the keys directory may
// start empty.
func newZone(cfg config.Config, now func() time.Time) (*Zone, error) {
	var sched *keystore.Schedule
	var applied []keystore.Applied
	if cfg.AutoPlan > 0 {
		var err error
		if sched, applied, err = autoPlanKeys(cfg, now()); err != nil && err != errReadOnly {
			return nil, err
		}
	}
	tl, err := loadTimeline(cfg)
	if err != nil {
		return nil, err
	}
	if err := tl.Check(now()); err != nil {
		return nil, fmt.Errorf("zone %s: %w", cfg.Zone, err)
	}
	for _, n := range tl.Notes(now()) {
		log.Warningf("zone %s: %s", cfg.Zone, n)
	}
	z := &Zone{Name: cfg.Zone, Timeline: tl, cfg: cfg, signer: NewSigner(cfg.SignatureValidity, cfg.SignatureRefresh, cfg.CacheSize, cfg.MaxSigners),
		workers:   newWorkers(cfg.MaxSigners, queuePerWorker*cfg.MaxSigners, 10*time.Second),
		responses: newRespCache(cfg.ResponseCache, time.Minute)}
	ks, err := z.Keys(now())
	if err != nil {
		return nil, err
	}
	if err := checkAlgorithm(cfg, ks); err != nil {
		return nil, err
	}
	z.lastSeen, _ = fingerprint(cfg)
	if sched != nil {
		if err := z.writeKSR(now(), sched, applied); err != nil {
			log.Errorf("zone %s: auto-plan: %v", z.Name, err) // the background loop tries again
		} else {
			z.nextPlan = now().Add(time.Hour)
		}
	}
	z.coverage(now())
	return z, nil
}

// Keys returns the key set in force at now, asking the timeline again only
// when the current one has run out. A failure is remembered for a second,
// so an expired bundle does not make every query rebuild the set.
func (z *Zone) Keys(now time.Time) (*timeline.KeySet, error) {
	if ks := z.current.Load(); ks != nil && !now.Before(ks.From) && now.Before(ks.Until) {
		return ks, nil
	}
	if f := z.failed.Load(); f != nil && now.Before(f.until) && !now.Before(f.until.Add(-time.Second)) {
		return nil, f.err
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if ks := z.current.Load(); ks != nil && !now.Before(ks.From) && now.Before(ks.Until) {
		return ks, nil
	}
	ks, err := z.Timeline.At(now)
	if err != nil {
		err = fmt.Errorf("zone %s: %w", z.Name, err)
		z.failed.Store(&keyFailure{err: err, until: now.Add(time.Second)})
		return nil, err
	}
	z.failed.Store(nil)
	if cur := z.current.Load(); cur != nil && now.Before(cur.From) && !now.Before(cur.From.Add(-time.Second)) {
		// A query that read the clock just before another one switched
		// the set: answer it from the older set, but keep the newer one.
		return ks, nil
	}
	old := z.current.Swap(ks)
	if old == nil || old.Signers() != ks.Signers() {
		log.Infof("zone %s: signing with ZSK %s; the key set is looked at again at %s", z.Name, ks.Signers(), ks.Until.UTC().Format(time.RFC3339))
	}
	signingZSKs.WithLabelValues(z.Name).Set(float64(len(ks.ZSKs)))
	if ks.NeedDS != nil && (old == nil || old.NeedDS == nil) {
		log.Warningf("zone %s: the DNSKEY set due now is signed only by KSK %s, which the trust anchor %s does not name: serving the last set the anchored KSK signed until %s; once the parent has the new DS, add it to the trust-anchor file",
			z.Name, keyTags(ks.NeedDS), z.cfg.TrustAnchor, ks.Until.UTC().Format(time.RFC3339))
	}
	if ks.Fallback && (old == nil || !old.Fallback) {
		log.Warningf("zone %s: ZSK %d signs past its Inactive time %s: no successor ZSK is published long enough; add one and sign a new bundle",
			z.Name, ks.Tag(), ks.ZSK.Timers.Inactive.UTC().Format(time.RFC3339))
	}
	if old != nil && old.Tag() != ks.Tag() {
		keyEvents.WithLabelValues(z.Name).Inc()
	}
	activeZSK.WithLabelValues(z.Name).Set(float64(ks.Tag()))
	nextChange.WithLabelValues(z.Name).Set(float64(ks.Until.Unix()))
	z.countStates(ks, now)
	z.reportRepairs(ks, now)
	fallback := 0.0
	if ks.Fallback {
		fallback = 1
	}
	fallbackInUse.WithLabelValues(z.Name).Set(fallback)
	return ks, nil
}

// countStates exports how many ZSKs are in each state at now.
func (z *Zone) countStates(ks *timeline.KeySet, now time.Time) {
	served := map[timeline.KeyRef]bool{}
	for _, rr := range ks.DNSKEY {
		served[timeline.RefOf(rr.(*dns.DNSKEY))] = true
	}
	n := map[string]int{"planned": 0, "published": 0, "active": 0, "retired": 0, "removed": 0}
	for _, k := range z.Timeline.ZSKs() {
		switch {
		case slices.Contains(ks.ZSKs, k):
			n["active"]++
		case served[timeline.RefOf(k.DNSKEY)] && !k.ActiveSince().After(now):
			n["retired"]++
		case served[timeline.RefOf(k.DNSKEY)]:
			n["published"]++
		case k.ActiveSince().After(now):
			n["planned"]++
		default:
			n["removed"]++
		}
	}
	for state, c := range n {
		keyStates.WithLabelValues(z.Name, state).Set(float64(c))
	}
}

// reportRepairs logs, once per key, what the timeline had to repair: a ZSK
// its timers publish that the served DNSKEY set lacks (a bundle older than
// the key), so it cannot sign.
func (z *Zone) reportRepairs(ks *timeline.KeySet, now time.Time) {
	served := map[timeline.KeyRef]bool{}
	for _, rr := range ks.DNSKEY {
		served[timeline.RefOf(rr.(*dns.DNSKEY))] = true
	}
	for _, k := range z.Timeline.ZSKs() {
		if k.IsKSK() || !k.PublishedAt(now) || served[timeline.RefOf(k.DNSKEY)] {
			continue
		}
		if _, done := z.reported.LoadOrStore(k.Tag(), true); done {
			continue
		}
		since := "always: its key file has no Publish or Created time"
		if t := k.PublishedSince(); !t.IsZero() {
			since = "from " + timeline.Stamp(t)
		}
		log.Warningf("zone %s: ZSK %d (%s) is published by its timers (%s) but not in the signed DNSKEY set of %s: it cannot sign until a bundle that includes it is installed",
			z.Name, k.Tag(), k.Base, since, z.Timeline.Source())
	}
}

// logFailure logs err at most once a minute per zone.
func (z *Zone) logFailure(now time.Time, format string, args ...any) {
	last := z.logged.Load()
	if now.Unix()-last < 60 || !z.logged.CompareAndSwap(last, now.Unix()) {
		return
	}
	log.Errorf(format, args...)
}

// checkAlgorithm refuses to start a zone whose algorithm directive no ZSK
// signing in ks has, when auto-plan (which would make them) is off: the
// directive is never ignored.
func checkAlgorithm(cfg config.Config, ks *timeline.KeySet) error {
	if cfg.Algorithm == 0 || cfg.AutoPlan > 0 {
		return nil
	}
	var algs []string
	for _, z := range ks.ZSKs {
		if z.DNSKEY.Algorithm == cfg.Algorithm {
			return nil
		}
		algs = append(algs, dns.AlgorithmToString[z.DNSKEY.Algorithm])
	}
	return fmt.Errorf("zone %s: algorithm %s is set, but the ZSKs that sign have %s, and without auto-plan the server makes no keys: plan ZSKs of %s (livesign plan -corefile FILE -zone %s -until +90d -out FILE.ksr; with other keys an algorithm roll, see the README), or add auto-plan, or remove the algorithm directive",
		cfg.Zone, dns.AlgorithmToString[cfg.Algorithm], strings.Join(algs, " and "), dns.AlgorithmToString[cfg.Algorithm], strings.TrimSuffix(cfg.Zone, "."))
}
