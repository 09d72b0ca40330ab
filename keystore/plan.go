package keystore

import (
	"fmt"
	"sort"
	"time"
)

// PlannedKey is one ZSK of a Schedule: an existing key (Key set) or one to
// generate (Key nil), with the timers it must have.
type PlannedKey struct {
	Key     *Key   // nil: generate a key with Timers
	Timers  Timers // the timers to give it
	Changed bool   // an existing key whose timers must be written
	Notes   []string
}

// Schedule is the outcome of Policy.Plan: the ZSKs in activation order and
// the period a KSR for them covers.
type Schedule struct {
	Keys []PlannedKey
	// Start is the last DNSKEY-set change at or before the plan's start;
	// End is when the last key stops signing (after the plan's end): a KSR
	// covers [Start, End].
	Start, End time.Time
	// Dropped lists existing ZSKs whose Delete time has passed: they are no
	// longer published and take no part in the plan.
	Dropped []*Key
}

// Plan computes the ZSK timers that cover [from, until] with the RFC 7583
// pre-publication roll of p. It is a pure function: it changes neither
// existing nor anything else.
//
// KSKs in existing are ignored. Existing ZSKs are reused. A key without
// timers is adopted as BIND's dnssec-policy adopts keys: Activate = Publish =
// Created (from when it has no Created either). Keys are chained in
// activation order: Inactive(N) = Act(N+1), and the last one gets
// Act + zsk-lifetime; an Inactive already set must agree with the chain for
// keys still active at from, else Plan fails and names both keys. Successors
// are added while the last key goes inactive at or before until:
// Act(N+1) = Act(N) + lifetime, Pub(N+1) = Act(N+1) - Ipub,
// Created = from. Every key gets Delete = Inactive + Iret (a Delete already
// set is moved later when it is earlier). When a successor cannot be
// published Ipub before its predecessor's Inactive (because that lies less
// than Ipub after from), the predecessor keeps signing until it can: its
// Inactive moves to from + Ipub.
func (p Policy) Plan(existing []*Key, from, until time.Time) (*Schedule, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	from, until = from.UTC().Truncate(time.Second), until.UTC().Truncate(time.Second)
	if !until.After(from) {
		return nil, fmt.Errorf("keystore: plan end %s is not after its start %s", until.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	s := &Schedule{}
	var events []time.Time
	for _, k := range existing {
		if k.IsKSK() {
			continue
		}
		pk := PlannedKey{Key: k, Timers: adopt(k.Timers, from)}
		pk.Changed = pk.Timers != k.Timers
		if pk.Changed {
			pk.Notes = append(pk.Notes, "adopted: timers filled in from Created")
		}
		if d := pk.Timers.Delete; !d.IsZero() && !d.After(from) {
			s.Dropped = append(s.Dropped, k)
			events = append(events, d)
			continue
		}
		s.Keys = append(s.Keys, pk)
	}
	sort.SliceStable(s.Keys, func(i, j int) bool {
		a, b := s.Keys[i].Timers.Activate, s.Keys[j].Timers.Activate
		if !a.Equal(b) {
			return a.Before(b)
		}
		return s.Keys[i].Key.Tag() < s.Keys[j].Key.Tag()
	})
	if err := p.chain(s, from); err != nil {
		return nil, err
	}
	for len(s.Keys) == 0 || !s.Keys[len(s.Keys)-1].Timers.Inactive.After(until) {
		s.Keys = append(s.Keys, p.successor(s.Keys, from))
	}
	for i := range s.Keys {
		t := &s.Keys[i].Timers
		if want := t.Inactive.Add(p.Iret()); t.Delete.Before(want) {
			if !t.Delete.IsZero() && s.Keys[i].Key != nil {
				s.Keys[i].Notes = append(s.Keys[i].Notes, "Delete moved to Inactive + Iret")
			}
			t.Delete = want
		}
		if k := s.Keys[i].Key; k != nil && *t != k.Timers {
			s.Keys[i].Changed = true
		}
		events = append(events, t.Publish, t.Delete)
	}
	for _, e := range events {
		if !e.After(from) && e.After(s.Start) {
			s.Start = e
		}
	}
	s.End = s.Keys[len(s.Keys)-1].Timers.Inactive
	return s, nil
}

// adopt fills the timers of a key that has none the way dnssec-policy does.
func adopt(t Timers, from time.Time) Timers {
	if t.Activate.IsZero() {
		base := first(t.Created, t.Publish, from)
		if t.Created.IsZero() {
			t.Created = base
		}
		t.Activate = base
	}
	if t.Publish.IsZero() {
		t.Publish = t.Activate
		if !t.Created.IsZero() && t.Created.Before(t.Activate) {
			t.Publish = t.Created
		}
	}
	if t.Created.IsZero() {
		t.Created = t.Publish
	}
	return t
}

// chain links the existing keys' active periods and checks future activations
// against Ipub.
func (p Policy) chain(s *Schedule, from time.Time) error {
	keys := s.Keys
	if len(keys) > 0 && keys[0].Timers.Activate.After(from) {
		return fmt.Errorf("keystore: the first ZSK, %d (%s), activates only at %s, after the plan starts (%s): nothing would sign until then; set its Activate earlier (dnssec-settime -A) or start the plan then (-now)",
			keys[0].Key.Tag(), keys[0].Key.Base, fmtTime(keys[0].Timers.Activate), fmtTime(from))
	}
	for i := range keys {
		t := &keys[i].Timers
		if i+1 < len(keys) {
			next := keys[i+1].Timers.Activate
			switch {
			case t.Inactive.IsZero():
				t.Inactive = next
			case !t.Inactive.Equal(next) && (t.Inactive.After(from) || next.After(from)):
				return fmt.Errorf("keystore: ZSK %d (%s) is inactive from %s but ZSK %d (%s) activates at %s: active periods must follow each other without gap or overlap; fix one key's timers (dnssec-settime -I or -A) or remove the key that is not wanted",
					keys[i].Key.Tag(), keys[i].Key.Base, fmtTime(t.Inactive), keys[i+1].Key.Tag(), keys[i+1].Key.Base, fmtTime(next))
			}
		} else if t.Inactive.IsZero() {
			t.Inactive = t.Activate.Add(p.ZSKLifetime)
		}
		if i == 0 || !t.Activate.After(from) || t.Activate.Sub(t.Publish) >= p.Ipub() {
			continue
		}
		// A future successor published too late: publish it earlier if it
		// is not yet published, else delay its activation.
		if t.Publish.After(from) {
			t.Publish = maxTime(from, t.Activate.Add(-p.Ipub()))
			keys[i].Notes = append(keys[i].Notes, "Publish moved earlier to Activate - Ipub")
		}
		if act := t.Publish.Add(p.Ipub()); act.After(t.Activate) {
			if !t.Inactive.IsZero() && !act.Before(t.Inactive) {
				return fmt.Errorf("keystore: ZSK %d (%s) activates at %s, less than Ipub (%s) after it is published (%s), and cannot be delayed before its Inactive %s: fix its timers (dnssec-settime -P/-A/-I) or remove it",
					keys[i].Key.Tag(), keys[i].Key.Base, fmtTime(t.Activate), p.Ipub(), fmtTime(t.Publish), fmtTime(t.Inactive))
			}
			t.Activate = act
			keys[i-1].Timers.Inactive = act
			keys[i].Notes = append(keys[i].Notes, "Activate delayed to Publish + Ipub")
			keys[i-1].Notes = append(keys[i-1].Notes, "Inactive delayed: keeps signing until its successor is published long enough")
		}
	}
	return nil
}

// successor plans the key after the last one of keys (or the first key).
func (p Policy) successor(keys []PlannedKey, from time.Time) PlannedKey {
	if len(keys) == 0 {
		return PlannedKey{Timers: Timers{Created: from, Publish: from, Activate: from, Inactive: from.Add(p.ZSKLifetime)}}
	}
	last := &keys[len(keys)-1]
	act := last.Timers.Inactive
	if earliest := from.Add(p.Ipub()); act.Before(earliest) {
		act = earliest
		last.Timers.Inactive = act
		last.Notes = append(last.Notes, "Inactive delayed: keeps signing until its successor is published long enough")
	}
	return PlannedKey{Timers: Timers{Created: from, Publish: act.Add(-p.Ipub()), Activate: act, Inactive: act.Add(p.ZSKLifetime)}}
}

// maxTime returns the later of a and b.
func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
