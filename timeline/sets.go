package timeline

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// dnskeySets is where the signed DNSKEY sets come from: a bundle the KSK
// signed offline, or the online KSK, which signs them as they are needed.
// The two modes differ in these things only.
type dnskeySets interface {
	// name names the source, for messages.
	name() string
	// at returns the signed DNSKEY set in force at t, its index among the
	// bundle's slots (-1 online), and when it stops being in force.
	at(tl *Timeline, t time.Time) (slot *keystore.Slot, idx int, next time.Time, err error)
	// added returns the ZSKs the server adds at t to the set as signed.
	added(tl *Timeline, t time.Time) []*dns.DNSKEY
	// asSigned tells whether a set is served as signed even when key files
	// the server would add do not fit it (a bundle: only the KSK can sign
	// another set).
	asSigned() bool
	// retires tells whether a ZSK that signed past its Inactive time is
	// kept published until its signatures have left the caches (only an
	// online KSK can sign a set with it).
	retires() bool
	// inSetSince returns since when k has been in the served set without
	// a break up to the set of index idx, as far as the source tells;
	// since is what k's timers say.
	inSetSince(k *keystore.Key, idx int, since time.Time) time.Time
	// ttl returns the longest TTL the source serves the DNSKEY set with
	// (0: dnskey-ttl).
	ttl() time.Duration
	end(now time.Time) time.Time
	// heldBack returns the newest set before the one of index idx that
	// checks out at t, when that one is signed only by KSKs the anchor
	// does not name (err says which); or err.
	heldBack(tl *Timeline, idx int, t time.Time, err error) (*keystore.Slot, int, []*dns.DNSKEY, error)
	dsDeadline(tl *Timeline, now time.Time) (time.Time, []*dns.DNSKEY, bool)
	check(tl *Timeline, now time.Time) error
	notes(tl *Timeline, now time.Time) []string
}

// bundleSets are the slots of a bundle signed offline.
type bundleSets struct{ b *keystore.Bundle }

func (s *bundleSets) name() string   { return s.b.File }
func (s *bundleSets) asSigned() bool { return true }
func (s *bundleSets) retires() bool  { return false }

func (s *bundleSets) at(tl *Timeline, t time.Time) (*keystore.Slot, int, time.Time, error) {
	idx, next, err := s.slotAt(t)
	if err != nil {
		return nil, 0, next, err
	}
	return &s.b.Slots[idx], idx, next, nil
}

// slotAt returns the index of the slot in force at t: the newest whose start
// is not after t. The last slot stays in force until its signatures expire.
// next is the start of the following slot, or a far future time.
func (s *bundleSets) slotAt(t time.Time) (int, time.Time, error) {
	slots := s.b.Slots
	i := sort.Search(len(slots), func(i int) bool { return slots[i].Start.After(t) })
	if i == 0 {
		if len(slots) == 0 {
			return 0, t, fmt.Errorf("%s: the bundle holds no DNSKEY set", s.b.File)
		}
		return 0, t, fmt.Errorf("%s: the bundle is not valid before %s: its first DNSKEY signature starts then",
			s.b.File, slots[0].Start.UTC().Format(time.RFC3339))
	}
	next := farFuture
	if i < len(slots) {
		next = slots[i].Start
	}
	return i - 1, next, nil
}

// added returns the ZSKs the server adds to a single signed RRset: those of
// the keys directory published at t and the other providers'. An SKR slot
// is complete as signed.
func (s *bundleSets) added(tl *Timeline, t time.Time) []*dns.DNSKEY {
	if s.b.SKR {
		return nil
	}
	var out []*dns.DNSKEY
	for _, k := range tl.zsks {
		if k.PublishedAt(t) {
			out = append(out, k.DNSKEY)
		}
	}
	return append(out, tl.foreignZSKs()...)
}

// inSetSince counts, for keys the bundle itself lists, from the start of
// the run of slots up to idx that list it.
func (s *bundleSets) inSetSince(k *keystore.Key, idx int, since time.Time) time.Time {
	id := RefOf(k.DNSKEY)
	first := time.Time{}
	for i := idx; i >= 0; i-- {
		if !slotHas(&s.b.Slots[i], id) {
			break
		}
		first = s.b.Slots[i].Start
	}
	if !s.b.SKR && len(s.b.Slots) == 1 && !first.IsZero() {
		// A single bundle's signatures start when it was signed, often
		// backdated an hour for clock skew (livesign bundle, BIND):
		// count its keys from an hour after, at the earliest when it
		// was made.
		first = first.Add(singleBundleBackdate)
	}
	return latest(since, first)
}

// singleBundleBackdate is how far before its making a single signed
// DNSKEY RRset's signatures are assumed to start.
const singleBundleBackdate = time.Hour

// ttl returns the longest original TTL of the bundle's RRSIGs over DNSKEY.
func (s *bundleSets) ttl() time.Duration {
	var ttl time.Duration
	for _, sl := range s.b.Slots {
		for _, sig := range sl.RRSIGs {
			if d := time.Duration(sig.OrigTtl) * time.Second; sig.TypeCovered == dns.TypeDNSKEY && d > ttl {
				ttl = d
			}
		}
	}
	return ttl
}

func (s *bundleSets) end(now time.Time) time.Time { return s.b.FirstGap(now).Start }

func (s *bundleSets) heldBack(tl *Timeline, idx int, t time.Time, err error) (*keystore.Slot, int, []*dns.DNSKEY, error) {
	for i := idx - 1; i >= 0; i-- {
		sl := &s.b.Slots[i]
		if keys, e := tl.checkSlot(sl, t); e == nil {
			return sl, i, keys, nil
		}
	}
	if idx == 0 {
		return nil, idx, nil, err
	}
	return nil, idx, nil, fmt.Errorf("no earlier DNSKEY set signed by an anchored KSK is valid now: %w", err)
}

func (s *bundleSets) dsDeadline(tl *Timeline, now time.Time) (time.Time, []*dns.DNSKEY, bool) {
	for _, i := range s.upcoming(now) {
		sl := &s.b.Slots[i]
		at := latest(sl.Start, now)
		var ue *keystore.UnanchoredError
		if _, err := tl.checkSlot(sl, at); errors.As(err, &ue) {
			return at, ue.KSKs, true
		}
	}
	return time.Time{}, nil, false
}

func (s *bundleSets) check(tl *Timeline, now time.Time) error {
	if _, _, err := s.slotAt(now); err != nil {
		return err
	}
	for _, i := range s.upcoming(now) {
		sl := &s.b.Slots[i]
		at := latest(sl.Start, now)
		var ue *keystore.UnanchoredError
		if _, err := tl.checkSlot(sl, at); errors.As(err, &ue) {
			continue // the parent's new DS is due then (DSDeadline); At holds back until the anchor has it
		} else if err != nil {
			return fmt.Errorf("%s: slot %d (%s): %w", s.b.File, i+1, Stamp(sl.Start), err)
		}
		if _, err := tl.At(at); err != nil && len(tl.zsks) > 0 { // livesign check may have no keys
			return fmt.Errorf("%s: slot %d (%s): %w", s.b.File, i+1, Stamp(sl.Start), err)
		}
	}
	return nil
}

func (s *bundleSets) notes(tl *Timeline, now time.Time) []string {
	var notes []string
	if ttl := s.ttl(); ttl > tl.policy.DNSKEYTTL {
		notes = append(notes, fmt.Sprintf("the bundle serves the DNSKEY set with TTL %s, longer than dnskey-ttl %s: a new ZSK signs only after %s in the set; make them agree (dnskey-ttl in the Corefile, and in plan and the KSK side's policy)",
			ttl, tl.policy.DNSKEYTTL, tl.wait()))
	}
	seen := map[*keystore.Key]bool{}
	seenForeign := map[KeyRef]bool{}
	for _, i := range s.upcoming(now) {
		sl := &s.b.Slots[i]
		at := latest(sl.Start, now)
		in := map[KeyRef]bool{}
		for _, k := range sl.DNSKEY {
			in[RefOf(k)] = true
		}
		where := fmt.Sprintf("the signed DNSKEY set of slot %d (%s)", i+1, Stamp(sl.Start))
		if !s.b.SKR {
			if !hasZSK(sl) {
				continue // a KSK-only set: the server adds the published ZSKs
			}
			where = "the bundle's signed DNSKEY set"
		}
		for _, f := range tl.foreign {
			if id := RefOf(f); s.b.SKR && !in[id] && !seenForeign[id] {
				seenForeign[id] = true
				notes = append(notes, fmt.Sprintf("the other provider's %s %d (foreign-keys) is not in %s: validators that got the DNSKEY set here cannot validate that provider's answers; plan with -foreign (or sign-ksr -foreign for a KSK) and install the new SKR",
					keyRole(f), f.KeyTag(), where))
			}
		}
		for _, k := range tl.zsks {
			if seen[k] {
				continue
			}
			switch pub := k.PublishedAt(at); {
			case pub && !in[RefOf(k.DNSKEY)]:
				seen[k] = true
				notes = append(notes, fmt.Sprintf("ZSK %d (%s) is published by its timers from %s but %s lacks it: it cannot sign until the offline side signs a bundle with it (a new SKR from the KSR of auto-plan or livesign plan, or livesign bundle) and it is installed",
					k.Tag(), k.Base, Stamp(latest(k.Timers.Publish, k.Timers.Created)), where))
			case !pub && in[RefOf(k.DNSKEY)] && s.b.SKR:
				seen[k] = true
				notes = append(notes, fmt.Sprintf("ZSK %d (%s) is in %s but its timers do not publish it then: it is served as signed",
					k.Tag(), k.Base, where))
			}
		}
	}
	return notes
}

// upcoming returns the indexes of the bundle's slots in force at or after now.
func (s *bundleSets) upcoming(now time.Time) []int {
	var out []int
	slots := s.b.Slots
	for i := range slots {
		if i+1 < len(slots) && !slots[i+1].Start.After(now) {
			continue // over
		}
		out = append(out, i)
	}
	return out
}

func slotHas(s *keystore.Slot, id KeyRef) bool {
	for _, k := range s.DNSKEY {
		if RefOf(k) == id {
			return true
		}
	}
	return false
}

// onlineSets are the DNSKEY sets an online KSK signs, for the aligned
// window around each instant (signature-validity, signature-refresh).
type onlineSets struct{ ksks []*keystore.Key }

func (s *onlineSets) name() string                        { return "the online KSK" }
func (s *onlineSets) asSigned() bool                      { return false }
func (s *onlineSets) retires() bool                       { return true }
func (s *onlineSets) ttl() time.Duration                  { return 0 }
func (s *onlineSets) end(time.Time) time.Time             { return farFuture }
func (s *onlineSets) notes(*Timeline, time.Time) []string { return nil }

func (s *onlineSets) inSetSince(_ *keystore.Key, _ int, since time.Time) time.Time { return since }

func (s *onlineSets) heldBack(_ *Timeline, _ int, _ time.Time, err error) (*keystore.Slot, int, []*dns.DNSKEY, error) {
	return nil, -1, nil, err // the online KSK signs one set: nothing to hold back to
}

func (s *onlineSets) dsDeadline(*Timeline, time.Time) (time.Time, []*dns.DNSKEY, bool) {
	return time.Time{}, nil, false
}

func (s *onlineSets) check(tl *Timeline, now time.Time) error {
	_, err := tl.At(now)
	return err
}

// at signs the DNSKEY set in force at t (and the KSKs' CDS and CDNSKEY)
// with the KSKs active then, for the aligned window around t.
func (s *onlineSets) at(tl *Timeline, t time.Time) (*keystore.Slot, int, time.Time, error) {
	on := s.algorithms(tl, t)
	var ksks []*keystore.Key
	for _, k := range s.ksks {
		if s.signs(k, t) && on[k.DNSKEY.Algorithm] {
			ksks = append(ksks, k)
		}
	}
	if len(ksks) == 0 {
		return nil, -1, t, fmt.Errorf("no KSK with a private key is active at %s for %s with a ZSK of its algorithm published: add one to the ksk directory, or a ZSK of the KSK's algorithm to the keys directory", Stamp(t), tl.zone)
	}
	others := s.added(tl, t)
	for _, k := range s.ksks {
		if k.PublishedAt(t) && !k.ActiveAt(t) && on[k.DNSKEY.Algorithm] {
			others = append(others, k.DNSKEY)
		}
	}
	var foreignKSKs []*dns.DNSKEY
	for _, k := range tl.foreign {
		if k.Flags&dns.SEP != 0 {
			foreignKSKs = append(foreignKSKs, k)
			others = append(others, k)
		}
	}
	p := tl.policy
	base := WindowBase(t, p.SignatureRefresh)
	ttl, incep, expir := uint32(p.DNSKEYTTL/time.Second), base.Add(-time.Hour), base.Add(p.SignatureValidity)
	sl, err := keystore.SignDNSKEYs(tl.zone, ksks, others, ttl, incep, expir)
	if err == nil {
		err = keystore.AddCDS(sl, tl.zone, ksks, foreignKSKs, ttl, incep, expir)
	}
	if err != nil {
		return nil, -1, t, err
	}
	return sl, -1, base.Add(p.SignatureRefresh), nil
}

// signs tells whether KSK k signs the DNSKEY set at t.
func (s *onlineSets) signs(k *keystore.Key, t time.Time) bool {
	return k.Signer != nil && k.PublishedAt(t) && k.ActiveAt(t)
}

// algorithms returns the algorithms of the DNSKEY set at t: those with both
// a KSK that signs and a ZSK published (or still needed). A new
// algorithm's KSK waits for its ZSK, whose Publish comes once it has
// signed every RRset long enough (auto-plan, keystore.PlanChains); a
// retired one's ZSK leaves with its KSK and signs on unpublished (RFC 6781
// §4.1.4, DESIGN.md §3.1).
func (s *onlineSets) algorithms(tl *Timeline, t time.Time) map[uint8]bool {
	kskAlgs := map[uint8]bool{}
	for _, k := range s.ksks {
		if s.signs(k, t) {
			kskAlgs[k.DNSKEY.Algorithm] = true
		}
	}
	on := map[uint8]bool{}
	for _, k := range tl.zsks {
		if a := k.DNSKEY.Algorithm; kskAlgs[a] && (k.PublishedAt(t) || tl.stillNeeded(k, t)) {
			on[a] = true
		}
	}
	return on
}

// added returns the ZSKs published at t, and those still needed: a ZSK
// that signed past its Inactive time stays until its signatures have left
// the caches; only of the algorithms of the set (algorithms); and the
// other providers' ZSKs.
func (s *onlineSets) added(tl *Timeline, t time.Time) []*dns.DNSKEY {
	on := s.algorithms(tl, t)
	var out []*dns.DNSKEY
	for _, k := range tl.zsks {
		if on[k.DNSKEY.Algorithm] && (k.PublishedAt(t) || tl.stillNeeded(k, t)) {
			out = append(out, k.DNSKEY)
		}
	}
	return append(out, tl.foreignZSKs()...)
}
