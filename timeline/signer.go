package timeline

import (
	"slices"
	"time"

	"github.com/livesign/livesign/keystore"
)

// signers returns the ZSKs that sign at t, the primary first (see At and
// KeySet.ZSKs): for each algorithm of the ZSKs, the one signer picks among
// that algorithm's keys in the served set; the primary is the best of
// those (propagated before fallback before not yet propagated; ties go to
// the algorithm signing longest). An algorithm none of whose ZSKs is served
// still signs when one of its keys is active by an explicit Activate timer
// and some other algorithm is the primary: a new algorithm before its
// DNSKEYs are published, an old one after its DNSKEYs are gone (RFC 6781
// §4.1.4). fallback and change are the primary's.
func (tl *Timeline) signers(t time.Time, slot int, served map[KeyRef]bool) (zsks []*keystore.Key, fallback bool, change time.Time) {
	change = farFuture
	var algs []uint8
	for _, k := range tl.zsks {
		if k.Signer != nil && !slices.Contains(algs, k.DNSKEY.Algorithm) {
			algs = append(algs, k.DNSKEY.Algorithm)
		}
	}
	slices.Sort(algs)
	type pick struct {
		key      *keystore.Key
		rank     int
		fallback bool
	}
	var picks []pick
	var shadows []*keystore.Key
	for _, alg := range algs {
		k, rank, fb, ch := tl.signer(t, slot, served, alg)
		if ch.Before(change) {
			change = ch
		}
		if k != nil {
			picks = append(picks, pick{k, rank, fb})
			continue
		}
		var shadow *keystore.Key
		for _, c := range tl.zsks {
			if c.Signer != nil && c.DNSKEY.Algorithm == alg && !c.Timers.Activate.IsZero() && c.ActiveAt(t) &&
				(shadow == nil || c.ActiveSince().After(shadow.ActiveSince())) {
				shadow = c
			}
		}
		if shadow != nil {
			shadows = append(shadows, shadow)
		}
	}
	if len(picks) == 0 {
		return nil, false, change
	}
	slices.SortStableFunc(picks, func(a, b pick) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return a.key.ActiveSince().Compare(b.key.ActiveSince())
	})
	for _, p := range picks {
		zsks = append(zsks, p.key)
	}
	return append(zsks, shadows...), picks[0].fallback, change
}

// Ranks of the signer of an algorithm, best first.
const (
	rankActive = iota
	rankEarly
	rankFallback
	rankFresh
)

// signer picks the ZSK of algorithm alg that signs at t (see At), among
// its keys with a private half in the served DNSKEY set, in this order of
// preference (rank): the
// active key activated last whose DNSKEY has propagated; a successor that
// has propagated but whose Activate time is still ahead (the active key's
// files are gone); the last key past its Inactive time that has propagated
// (fallback: no successor is ready); the active key that has been in the
// set longest although not for long enough (a zone signed for the first
// time, or a new single bundle that starts the run of every key in it;
// ties go to the one activated first, the incumbent). change is the
// next instant a key becomes ready, when the choice may change.
func (tl *Timeline) signer(t time.Time, slot int, served map[KeyRef]bool, alg uint8) (best *keystore.Key, rank int, fallback bool, change time.Time) {
	wait := tl.wait()
	change = farFuture
	var active, early, retired, fresh *keystore.Key
	var freshReady time.Time
	later := func(a, b *keystore.Key) bool {
		return b == nil || a.ActiveSince().After(b.ActiveSince()) || (a.ActiveSince().Equal(b.ActiveSince()) && a.Tag() < b.Tag())
	}
	var pending []time.Time // when keys not propagated yet will be
	for _, k := range tl.zsks {
		if k.Signer == nil || k.DNSKEY.Algorithm != alg || !served[RefOf(k.DNSKEY)] {
			continue
		}
		ready := tl.sets.inSetSince(k, slot, k.PublishedSince()).Add(wait)
		propagated := !ready.After(t)
		if !propagated {
			pending = append(pending, ready)
			if k.ActiveAt(t) && ready.Before(change) {
				change = ready // it will outrank the key signing now
			}
		}
		switch {
		case k.ActiveAt(t) && propagated:
			if later(k, active) {
				active = k
			}
		case k.ActiveSince().After(t) && propagated:
			if early == nil || k.ActiveSince().Before(early.ActiveSince()) {
				early = k
			}
		case !k.ActiveSince().After(t) && propagated:
			if later(k, retired) {
				retired = k
			}
		case k.ActiveAt(t):
			// Nothing has propagated as far as the files tell (a new
			// bundle starts the run of its keys): the key that has been
			// in the set longest is the one validators most likely know.
			if fresh == nil || ready.Before(freshReady) || ready.Equal(freshReady) && later(fresh, k) {
				fresh, freshReady = k, ready
			}
		}
	}
	if active != nil {
		return active, rankActive, false, change // only Activate/Inactive timers change this
	}
	for _, p := range pending {
		if p.Before(change) {
			change = p
		}
	}
	switch {
	case early != nil && retired != nil: // the signing key vanished: its ready successor goes first
		return early, rankEarly, false, change
	case retired != nil:
		return retired, rankFallback, true, change
	default:
		return fresh, rankFresh, false, change
	}
}

// stillNeeded tells whether k must stay in the DNSKEY set at t although its
// timers have removed it: it signed past its Inactive time (no successor
// was ready) and resolvers may still hold its signatures, for Iret =
// propagation-delay + max-zone-ttl + retire-safety after it stopped. Only
// an online KSK can act on it; a bundle's set is what the KSK signed.
func (tl *Timeline) stillNeeded(k *keystore.Key, t time.Time) bool {
	if k.Timers.Inactive.IsZero() || t.Before(k.ActiveSince()) || t.Before(k.PublishedSince()) {
		return false // not retiring, or never published yet (a new algorithm signing ahead)
	}
	return t.Before(tl.retiredAt(k).Add(tl.policy.Iret()))
}

// retiredAt returns when k stops signing: the first instant from its
// Inactive time on at which another ZSK is active and has been published
// for dnskey-ttl + propagation-delay.
func (tl *Timeline) retiredAt(k *keystore.Key) time.Time {
	if r, ok := tl.retired[k]; ok {
		return r
	}
	return tl.computeRetiredAt(k)
}

func (tl *Timeline) computeRetiredAt(k *keystore.Key) time.Time {
	end := farFuture
	for _, j := range tl.zsks {
		if j == k || j.Signer == nil || j.DNSKEY.Algorithm != k.DNSKEY.Algorithm || !j.ActiveSince().After(k.ActiveSince()) {
			continue // not a successor: its algorithm's chain goes on alone
		}
		ready := latest(k.Timers.Inactive, j.PublishedSince().Add(tl.wait()))
		if (j.Timers.Inactive.IsZero() || ready.Before(j.Timers.Inactive)) && ready.Before(end) {
			end = ready
		}
	}
	return end
}
