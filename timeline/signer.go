package timeline

import (
	"time"

	"github.com/livesign/livesign/keystore"
)

// signer picks the ZSK that signs at t (see At), among the keys with a
// private half in the served DNSKEY set, in this order of preference: the
// active key activated last whose DNSKEY has propagated; a successor that
// has propagated but whose Activate time is still ahead (the active key's
// files are gone); the last key past its Inactive time that has propagated
// (fallback: no successor is ready); the active key that has been in the
// set longest although not for long enough (a zone signed for the first
// time, or a new single bundle that starts the run of every key in it;
// ties go to the one activated first, the incumbent). change is the
// next instant a key becomes ready, when the choice may change.
func (tl *Timeline) signer(t time.Time, slot int, served map[KeyRef]bool) (best *keystore.Key, fallback bool, change time.Time) {
	wait := tl.wait()
	change = farFuture
	var active, early, retired, fresh *keystore.Key
	var freshReady time.Time
	later := func(a, b *keystore.Key) bool {
		return b == nil || a.ActiveSince().After(b.ActiveSince()) || (a.ActiveSince().Equal(b.ActiveSince()) && a.Tag() < b.Tag())
	}
	var pending []time.Time // when keys not propagated yet will be
	for _, k := range tl.zsks {
		if k.Signer == nil || !served[RefOf(k.DNSKEY)] {
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
		return active, false, change // only Activate/Inactive timers change this
	}
	for _, p := range pending {
		if p.Before(change) {
			change = p
		}
	}
	switch {
	case early != nil && retired != nil: // the signing key vanished: its ready successor goes first
		return early, false, change
	case retired != nil:
		return retired, true, change
	default:
		return fresh, false, change
	}
}

// stillNeeded tells whether k must stay in the DNSKEY set at t although its
// timers have removed it: it signed past its Inactive time (no successor
// was ready) and resolvers may still hold its signatures, for Iret =
// propagation-delay + max-zone-ttl + retire-safety after it stopped. Only
// an online KSK can act on it; a bundle's set is what the KSK signed.
func (tl *Timeline) stillNeeded(k *keystore.Key, t time.Time) bool {
	if k.Timers.Inactive.IsZero() || t.Before(k.ActiveSince()) {
		return false
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
		if j == k || j.Signer == nil || !j.ActiveSince().After(k.ActiveSince()) {
			continue // not a successor
		}
		ready := latest(k.Timers.Inactive, j.PublishedSince().Add(tl.wait()))
		if (j.Timers.Inactive.IsZero() || ready.Before(j.Timers.Inactive)) && ready.Before(end) {
			end = ready
		}
	}
	return end
}
