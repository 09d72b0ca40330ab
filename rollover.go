package livesign

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// KeySet is what a zone serves during one stretch of time: the DNSKEY RRset
// with the offline KSK's signatures, CDS/CDNSKEY if the bundle has them, and
// the ZSK that signs everything else.
type KeySet struct {
	DNSKEY     []dns.RR // served DNSKEY RRset, canonical order
	DNSKEYSigs []dns.RR // the bundle's RRSIGs over DNSKEY
	CDS        []dns.RR
	CDSSigs    []dns.RR
	CDNSKEY    []dns.RR
	CDNSKEYSig []dns.RR
	ZSK        *keystore.Key // signs every other RRset
	// Fallback is set when ZSK signs past its Inactive time because no
	// successor is safely published yet.
	Fallback bool

	From  time.Time // first instant this set is in force
	Until time.Time // first instant it may no longer be: ask the Timeline again then
}

// Tag returns the key tag of the signing ZSK.
func (ks *KeySet) Tag() uint16 { return ks.ZSK.Tag() }

// Default rollover timing (DESIGN §3).
const (
	DefaultDNSKEYTTL        = time.Hour
	DefaultPropagationDelay = 5 * time.Minute
	DefaultMaxZoneTTL       = 24 * time.Hour
	DefaultRetireSafety     = time.Hour
)

// Timeline is the key timeline of one zone: the ZSKs from the keys directory
// and the offline-signed bundle, checked against the trust anchor. It reads no
// clock: At is a pure function of its inputs and t, so replicas sharing the
// same files pick the same keys at the same instant.
type Timeline struct {
	Zone   string
	ZSKs   []*keystore.Key
	Bundle *keystore.Bundle
	Anchor *keystore.Anchor // nil: the bundle's own KSK is trusted

	// Online KSK mode (no Bundle): KSKs sign the DNSKEY RRset themselves,
	// in windows aligned like the ZSK's (Validity, Refresh).
	KSKs     []*keystore.Key
	Validity time.Duration
	Refresh  time.Duration

	// A ZSK signs only once its DNSKEY has been served for DNSKEYTTL +
	// PropagationDelay, so that every validator can know it. Zero means the
	// default.
	DNSKEYTTL        time.Duration
	PropagationDelay time.Duration
	// With an online KSK, a ZSK that signed past its Inactive time stays
	// published MaxZoneTTL + PropagationDelay + RetireSafety after it
	// stopped. Zero means the default.
	MaxZoneTTL   time.Duration
	RetireSafety time.Duration

	retireOnce sync.Once
	retired    map[*keystore.Key]time.Time // retiredAt, computed once
	ttlOnce    sync.Once
	ttl        time.Duration // bundleTTL, computed once
}

// At returns the key set in force at t, or an error that says why no valid
// set exists at t (bundle expired or not yet valid, no usable ZSK, ...).
//
// The signer is, among the ZSKs with a private key that are in the served
// DNSKEY set: the active one activated last whose DNSKEY has propagated; else
// (no eligible successor) the last one that was active, past its Inactive
// time, flagged as Fallback; else, when nothing has propagated yet (a zone
// just signed for the first time), the active one activated last.
func (tl *Timeline) At(t time.Time) (*KeySet, error) {
	slot, idx, next, err := tl.slot(t)
	if err != nil {
		return nil, err
	}
	keys, err := tl.checkSlot(slot, t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tl.source(), err)
	}
	served := map[keyRef]bool{}
	for _, k := range keys {
		served[refOf(k)] = true
	}

	zsk, fallback, change := tl.signer(t, idx, served)
	if zsk == nil {
		return nil, fmt.Errorf("no ZSK with a private key in %s is active at %s and in the served DNSKEY set of %s: add one to the keys directory and sign a new bundle with it",
			tl.Zone, t.UTC().Format(time.RFC3339), tl.source())
	}

	ks := &KeySet{ZSK: zsk, Fallback: fallback, From: t, Until: next}
	for _, k := range keys {
		ks.DNSKEY = append(ks.DNSKEY, k)
	}
	for _, s := range slot.RRSIGs {
		switch s.TypeCovered {
		case dns.TypeDNSKEY:
			ks.DNSKEYSigs = append(ks.DNSKEYSigs, s)
		case dns.TypeCDS:
			ks.CDSSigs = append(ks.CDSSigs, s)
		case dns.TypeCDNSKEY:
			ks.CDNSKEYSig = append(ks.CDNSKEYSig, s)
		}
		if exp := keystore.SigTime(s.Expiration, t); exp.Before(ks.Until) {
			ks.Until = exp
		}
	}
	for _, r := range slot.CDS {
		ks.CDS = append(ks.CDS, r)
	}
	for _, r := range slot.CDNSKEY {
		ks.CDNSKEY = append(ks.CDNSKEY, r)
	}
	if change.After(t) && change.Before(ks.Until) {
		ks.Until = change
	}
	for _, k := range append(tl.KSKs, tl.ZSKs...) {
		events := []time.Time{k.Timers.Publish, k.Timers.Activate, k.Timers.Inactive, k.Timers.Delete}
		if tl.Bundle == nil && !k.IsKSK() && !k.Timers.Inactive.IsZero() {
			r := tl.retiredAt(k)
			events = append(events, r, r.Add(tl.iret()))
		}
		for _, e := range events {
			if e.After(t) && e.Before(ks.Until) {
				ks.Until = e
			}
		}
	}
	return ks, nil
}

// checkSlot verifies slot at t and returns the DNSKEY set to serve. A ZSK of
// the keys directory that its timers publish but a single signed set lacks
// (a bundle older than the key) is left out: the set is served as signed,
// and that key cannot sign until a bundle includes it (see Notes).
func (tl *Timeline) checkSlot(slot *keystore.Slot, t time.Time) ([]*dns.DNSKEY, error) {
	added := tl.addedZSKs(t)
	keys, err := keystore.CheckSlot(slot, tl.Zone, added, tl.Anchor, t)
	if err == nil || tl.Bundle == nil || !hasZSK(slot) {
		return keys, err
	}
	own, err2 := keystore.CheckSlot(slot, tl.Zone, nil, tl.Anchor, t)
	if err2 != nil {
		return keys, err
	}
	for _, a := range added {
		for _, k := range own {
			if a.KeyTag() == k.KeyTag() && refOf(a) != refOf(k) {
				return nil, fmt.Errorf("a ZSK of the keys directory has key tag %d, as a key of the signed DNSKEY set: 2 keys with one tag; remove that ZSK's files and make another (livesign keygen)", a.KeyTag())
			}
		}
	}
	return own, nil
}

// End returns when the bundle's coverage ends, seen from now: the first
// instant at or after now at which the slot in force has no valid DNSKEY
// RRSIG (a gap between slots, or the end of the last one); see
// keystore.Bundle.FirstGap. An online KSK never runs out.
func (tl *Timeline) End(now time.Time) time.Time {
	if tl.Bundle == nil {
		return farFuture
	}
	return tl.Bundle.FirstGap(now).Start
}

// slot returns the DNSKEY set in force at t with its signatures: the
// bundle's slot (and its index), or in online KSK mode one signed now for
// the aligned window around t (index -1). next is when it stops being in
// force.
func (tl *Timeline) slot(t time.Time) (*keystore.Slot, int, time.Time, error) {
	if tl.Bundle != nil {
		idx, next, err := tl.slotAt(t)
		if err != nil {
			return nil, 0, next, err
		}
		return &tl.Bundle.Slots[idx], idx, next, nil
	}
	var ksks []*keystore.Key
	for _, k := range tl.KSKs {
		if k.Signer != nil && k.PublishedAt(t) && k.ActiveAt(t) {
			ksks = append(ksks, k)
		}
	}
	if len(ksks) == 0 {
		return nil, -1, t, fmt.Errorf("no KSK with a private key is active at %s for %s: add one to the ksk directory", t.UTC().Format(time.RFC3339), tl.Zone)
	}
	others := tl.addedZSKs(t)
	for _, k := range tl.KSKs {
		if k.PublishedAt(t) && !k.ActiveAt(t) {
			others = append(others, k.DNSKEY)
		}
	}
	base := alignedBase(t, tl.Refresh)
	ttl, incep, expir := uint32(tl.dnskeyTTL()/time.Second), base.Add(-time.Hour), base.Add(tl.Validity)
	s, err := keystore.SignDNSKEYs(tl.Zone, ksks, others, ttl, incep, expir)
	if err == nil {
		err = keystore.AddCDS(s, tl.Zone, ksks, ttl, incep, expir)
	}
	if err != nil {
		return nil, -1, t, err
	}
	return s, -1, base.Add(tl.Refresh), nil
}

// source names where the DNSKEY set comes from, for errors.
func (tl *Timeline) source() string {
	if tl.Bundle != nil {
		return tl.Bundle.File
	}
	return "the online KSK"
}

// alignedBase is floor(t, step) counted from the Unix epoch: the base of
// the validity windows every replica agrees on.
func alignedBase(t time.Time, step time.Duration) time.Time {
	s := int64(step / time.Second)
	if s < 1 {
		s = 1
	}
	sec := t.Unix()
	return time.Unix(sec-((sec%s)+s)%s, 0).UTC()
}

// addedZSKs returns the ZSKs the server adds to a single signed RRset: those
// of the keys directory published at t. An SKR slot is complete as signed.
func (tl *Timeline) addedZSKs(t time.Time) []*dns.DNSKEY {
	if tl.Bundle != nil && tl.Bundle.SKR {
		return nil
	}
	var out []*dns.DNSKEY
	for _, k := range tl.ZSKs {
		if !k.IsKSK() && (k.PublishedAt(t) || tl.Bundle == nil && tl.stillNeeded(k, t)) {
			out = append(out, k.DNSKEY)
		}
	}
	return out
}

// stillNeeded tells whether k must stay in the DNSKEY set at t although its
// timers have removed it: it signed past its Inactive time (no successor
// was ready) and resolvers may still hold its signatures, for Iret =
// propagation-delay + max-zone-ttl + retire-safety after it stopped. Only
// an online KSK can act on it; a bundle's set is what the KSK signed.
func (tl *Timeline) stillNeeded(k *keystore.Key, t time.Time) bool {
	if k.Timers.Inactive.IsZero() || t.Before(activation(k)) {
		return false
	}
	return t.Before(tl.retiredAt(k).Add(tl.iret()))
}

// retiredAt returns when k stops signing: the first instant from its
// Inactive time on at which another ZSK is active and has been published
// for dnskey-ttl + propagation-delay.
func (tl *Timeline) retiredAt(k *keystore.Key) time.Time {
	tl.retireOnce.Do(func() {
		tl.retired = map[*keystore.Key]time.Time{}
		for _, k := range tl.ZSKs {
			tl.retired[k] = tl.computeRetiredAt(k)
		}
	})
	if r, ok := tl.retired[k]; ok {
		return r
	}
	return tl.computeRetiredAt(k)
}

func (tl *Timeline) computeRetiredAt(k *keystore.Key) time.Time {
	end := farFuture
	for _, j := range tl.ZSKs {
		if j == k || j.IsKSK() || j.Signer == nil {
			continue
		}
		if !activation(j).After(activation(k)) {
			continue // not a successor
		}
		pub := j.Timers.Publish
		if pub.IsZero() {
			pub = j.Timers.Created
		}
		ready := latest(k.Timers.Inactive, pub.Add(tl.wait()))
		if (j.Timers.Inactive.IsZero() || ready.Before(j.Timers.Inactive)) && ready.Before(end) {
			end = ready
		}
	}
	return end
}

func (tl *Timeline) iret() time.Duration {
	return orDefault(tl.PropagationDelay, DefaultPropagationDelay) + orDefault(tl.MaxZoneTTL, DefaultMaxZoneTTL) + orDefault(tl.RetireSafety, DefaultRetireSafety)
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Check verifies every slot that is or will be in force at or after now,
// each at the first instant it is in force: its signatures, and that a ZSK
// with a private key can sign then. The error names the slot. Key files
// whose timers disagree with the signed sets are not errors (the sets are
// served as signed, see checkSlot): Notes tells about them.
func (tl *Timeline) Check(now time.Time) error {
	if tl.Bundle == nil {
		_, err := tl.At(now)
		return err
	}
	if _, _, err := tl.slotAt(now); err != nil {
		return err
	}
	for _, i := range tl.upcoming(now) {
		s := &tl.Bundle.Slots[i]
		at := latest(s.Start, now)
		if _, err := tl.checkSlot(s, at); err != nil {
			return fmt.Errorf("%s: slot %d (%s): %w", tl.Bundle.File, i+1, s.Start.UTC().Format(time.RFC3339), err)
		}
		if _, err := tl.At(at); err != nil && len(tl.ZSKs) > 0 { // livesign check may have no keys
			return fmt.Errorf("%s: slot %d (%s): %w", tl.Bundle.File, i+1, s.Start.UTC().Format(time.RFC3339), err)
		}
	}
	return nil
}

// Notes tells, one line per key, where the key files' timers and the signed
// DNSKEY sets in force at or after now disagree, and what to do: a ZSK the
// timers publish but a set lacks cannot sign until a bundle with it is
// installed (the key in force keeps signing, past its Inactive time if it
// must); a ZSK a set holds that its timers do not publish is served anyway.
// Both happen normally after auto-plan or livesign plan made new keys that
// the offline side has not signed yet.
func (tl *Timeline) Notes(now time.Time) []string {
	if tl.Bundle == nil {
		return nil
	}
	var notes []string
	if ttl := tl.bundleTTL(); ttl > tl.dnskeyTTL() {
		notes = append(notes, fmt.Sprintf("the bundle serves the DNSKEY set with TTL %s, longer than dnskey-ttl %s: a new ZSK signs only after %s in the set; make them agree (dnskey-ttl in the Corefile, and in plan and the KSK side's policy)",
			ttl, tl.dnskeyTTL(), tl.wait()))
	}
	seen := map[*keystore.Key]bool{}
	for _, i := range tl.upcoming(now) {
		s := &tl.Bundle.Slots[i]
		at := latest(s.Start, now)
		in := map[keyRef]bool{}
		for _, k := range s.DNSKEY {
			in[refOf(k)] = true
		}
		where := fmt.Sprintf("the signed DNSKEY set of slot %d (%s)", i+1, s.Start.UTC().Format(time.RFC3339))
		if !tl.Bundle.SKR {
			if !hasZSK(s) {
				continue // a KSK-only set: the server adds the published ZSKs
			}
			where = "the bundle's signed DNSKEY set"
		}
		for _, k := range tl.ZSKs {
			if k.IsKSK() || seen[k] {
				continue
			}
			switch pub := k.PublishedAt(at); {
			case pub && !in[refOf(k.DNSKEY)]:
				seen[k] = true
				notes = append(notes, fmt.Sprintf("ZSK %d (%s) is published by its timers from %s but %s lacks it: it cannot sign until the offline side signs a bundle with it (a new SKR from the KSR of auto-plan or livesign plan, or livesign bundle) and it is installed",
					k.Tag(), k.Base, stamp(latest(k.Timers.Publish, k.Timers.Created)), where))
			case !pub && in[refOf(k.DNSKEY)] && tl.Bundle.SKR:
				seen[k] = true
				notes = append(notes, fmt.Sprintf("ZSK %d (%s) is in %s but its timers do not publish it then: it is served as signed",
					k.Tag(), k.Base, where))
			}
		}
	}
	return notes
}

// upcoming returns the indexes of the bundle's slots in force at or after now.
func (tl *Timeline) upcoming(now time.Time) []int {
	var out []int
	slots := tl.Bundle.Slots
	for i := range slots {
		if i+1 < len(slots) && !slots[i+1].Start.After(now) {
			continue // over
		}
		out = append(out, i)
	}
	return out
}

// slotAt returns the index of the slot in force at t: the newest whose start
// is not after t. The last slot stays in force until its signatures expire.
// next is the start of the following slot, or a far future time.
func (tl *Timeline) slotAt(t time.Time) (int, time.Time, error) {
	slots := tl.Bundle.Slots
	i := sort.Search(len(slots), func(i int) bool { return slots[i].Start.After(t) })
	if i == 0 {
		if len(slots) == 0 {
			return 0, t, fmt.Errorf("%s: the bundle holds no DNSKEY set", tl.Bundle.File)
		}
		return 0, t, fmt.Errorf("%s: the bundle is not valid before %s: its first DNSKEY signature starts then",
			tl.Bundle.File, slots[0].Start.UTC().Format(time.RFC3339))
	}
	next := farFuture
	if i < len(slots) {
		next = slots[i].Start
	}
	return i - 1, next, nil
}

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
func (tl *Timeline) signer(t time.Time, slot int, served map[keyRef]bool) (best *keystore.Key, fallback bool, change time.Time) {
	wait := tl.wait()
	change = farFuture
	var active, early, retired, fresh *keystore.Key
	var freshReady time.Time
	later := func(a, b *keystore.Key) bool {
		return b == nil || activation(a).After(activation(b)) || (activation(a).Equal(activation(b)) && a.Tag() < b.Tag())
	}
	var pending []time.Time // when keys not propagated yet will be
	for _, k := range tl.ZSKs {
		if k.IsKSK() || k.Signer == nil || !served[refOf(k.DNSKEY)] {
			continue
		}
		ready := tl.inSetSince(k, t, slot).Add(wait)
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
		case activation(k).After(t) && propagated:
			if early == nil || activation(k).Before(activation(early)) {
				early = k
			}
		case !activation(k).After(t) && propagated:
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

// inSetSince returns since when k has been in the served DNSKEY set without
// a break, as far as the files tell: its publication time, and for keys the
// bundle itself lists, the start of the run of slots up to slot that list it.
func (tl *Timeline) inSetSince(k *keystore.Key, t time.Time, slot int) time.Time {
	since := k.Timers.Publish
	if since.IsZero() {
		since = k.Timers.Created
	}
	if tl.Bundle == nil {
		return since
	}
	id := refOf(k.DNSKEY)
	first := time.Time{}
	for i := slot; i >= 0; i-- {
		if !slotHas(&tl.Bundle.Slots[i], id) {
			break
		}
		first = tl.Bundle.Slots[i].Start
	}
	if !tl.Bundle.SKR && len(tl.Bundle.Slots) == 1 && !first.IsZero() {
		// A single bundle's signatures start when it was signed, often
		// backdated an hour for clock skew (livesign bundle, BIND):
		// count its keys from an hour after, at the earliest when it
		// was made.
		first = first.Add(singleBundleBackdate)
	}
	if first.After(since) {
		since = first
	}
	return since
}

// wait is how long a ZSK's DNSKEY must have been served before it signs:
// the DNSKEY TTL plus propagation-delay. The TTL is dnskey-ttl or, when
// the bundle serves its DNSKEY set with a longer one, that: validators
// cache the set for the TTL they are given.
func (tl *Timeline) wait() time.Duration {
	return max(tl.dnskeyTTL(), tl.bundleTTL()) + orDefault(tl.PropagationDelay, DefaultPropagationDelay)
}

// bundleTTL returns the longest TTL the bundle serves its DNSKEY set with:
// the original TTL of its RRSIGs over DNSKEY.
func (tl *Timeline) bundleTTL() time.Duration {
	tl.ttlOnce.Do(func() {
		if tl.Bundle == nil {
			return
		}
		for _, s := range tl.Bundle.Slots {
			for _, sig := range s.RRSIGs {
				if d := time.Duration(sig.OrigTtl) * time.Second; sig.TypeCovered == dns.TypeDNSKEY && d > tl.ttl {
					tl.ttl = d
				}
			}
		}
	})
	return tl.ttl
}

func (tl *Timeline) dnskeyTTL() time.Duration { return orDefault(tl.DNSKEYTTL, DefaultDNSKEYTTL) }

// hasZSK tells whether the slot's signed DNSKEY set holds a ZSK.
func hasZSK(s *keystore.Slot) bool {
	for _, k := range s.DNSKEY {
		if k.Flags&dns.SEP == 0 {
			return true
		}
	}
	return false
}

func slotHas(s *keystore.Slot, id keyRef) bool {
	for _, k := range s.DNSKEY {
		if refOf(k) == id {
			return true
		}
	}
	return false
}

// keyRef identifies a DNSKEY by its RDATA, whatever its owner and TTL.
type keyRef struct {
	flags     uint16
	protocol  uint8
	algorithm uint8
	publicKey string
}

func refOf(k *dns.DNSKEY) keyRef {
	return keyRef{k.Flags, k.Protocol, k.Algorithm, k.PublicKey}
}

func activation(k *keystore.Key) time.Time {
	if !k.Timers.Activate.IsZero() {
		return k.Timers.Activate
	}
	return k.Timers.Created
}

var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// singleBundleBackdate is how far before its making a single signed
// DNSKEY RRset's signatures are assumed to start.
const singleBundleBackdate = time.Hour
