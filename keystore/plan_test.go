package keystore

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const day = 24 * time.Hour

var planFrom = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// planKey makes a ZSK with the given timers (no private key needed here).
func planKey(t *testing.T, tm Timers) *Key {
	t.Helper()
	k, err := GenerateKey("example.org", dns.ECDSAP256SHA256, false, tm.Created)
	if err != nil {
		t.Fatal(err)
	}
	k.Timers = tm
	k.Base = fmt.Sprintf("K%d", k.Tag())
	return k
}

// applied returns the keys of s with their planned timers, generating the
// new ones, plus the dropped ones (their files stay in the keys directory).
func applied(t *testing.T, s *Schedule) []*Key {
	t.Helper()
	out := append([]*Key{}, s.Dropped...)
	for _, pk := range s.Keys {
		k := pk.Key
		if k == nil {
			k = planKey(t, pk.Timers)
		} else {
			c := *k
			k = &c
		}
		k.Timers = pk.Timers
		out = append(out, k)
	}
	return out
}

// checkSchedule checks the RFC 7583 invariants of s over [from, until].
func checkSchedule(t *testing.T, p Policy, s *Schedule, from, until time.Time) {
	t.Helper()
	keys := s.Keys
	if len(keys) == 0 {
		t.Fatal("no keys")
	}
	if s.Start.After(from) || !s.End.After(until) {
		t.Errorf("KSR period %v..%v does not cover %v..%v", s.Start, s.End, from, until)
	}
	for i, k := range keys {
		tm := k.Timers
		if tm.Publish.After(tm.Activate) || !tm.Activate.Before(tm.Inactive) || tm.Inactive.After(tm.Delete) {
			t.Errorf("key %d: timers out of order: %+v", i, tm)
		}
		if got := tm.Delete.Sub(tm.Inactive); got < p.Iret() {
			t.Errorf("key %d: kept %s after Inactive, want >= Iret %s", i, got, p.Iret())
		}
		if tm.Activate.After(from) {
			if got := tm.Activate.Sub(tm.Publish); got < p.Ipub() {
				t.Errorf("key %d: published %s before it activates, want >= Ipub %s", i, got, p.Ipub())
			}
		}
		if i > 0 && !keys[i-1].Timers.Inactive.Equal(tm.Activate) {
			t.Errorf("key %d activates at %v, key %d goes inactive at %v: gap or overlap", i, tm.Activate, i-1, keys[i-1].Timers.Inactive)
		}
	}
	// Exactly one key active at every instant, sampled every 7 hours plus the events.
	var at []time.Time
	for x := from; !x.After(until); x = x.Add(7 * time.Hour) {
		at = append(at, x)
	}
	for _, k := range keys {
		for _, e := range []time.Time{k.Timers.Activate, k.Timers.Inactive} {
			if !e.Before(from) && !e.After(until) {
				at = append(at, e, e.Add(-time.Second))
			}
		}
	}
	for _, x := range at {
		if x.Before(from) {
			continue
		}
		n := 0
		for _, k := range keys {
			if !x.Before(k.Timers.Activate) && x.Before(k.Timers.Inactive) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d keys active at %v", n, x)
		}
	}
}

func TestPlanProperties(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 60; i++ {
		p := DefaultPolicy()
		p.ZSKLifetime = time.Duration(3+rng.Intn(60)) * day
		p.MaxZoneTTL = time.Duration(1+rng.Intn(48)) * time.Hour
		p.DNSKEYTTL = time.Duration(1+rng.Intn(24)) * time.Hour
		from := planFrom.Add(time.Duration(rng.Intn(1000)) * time.Minute)
		until := from.Add(time.Duration(1+rng.Intn(400)) * day)
		var existing []*Key
		switch i % 4 {
		case 1: // a key without timers, as ldns-keygen makes them
			existing = []*Key{planKey(t, Timers{})}
		case 2: // a key made by keygen some days ago
			existing = []*Key{planKey(t, Timers{Created: from.Add(-time.Duration(rng.Intn(90)) * day)})}
		case 3: // the outcome of an earlier plan
			s, err := p.Plan(nil, from.Add(-time.Duration(rng.Intn(200))*day), from.Add(time.Duration(rng.Intn(50))*day))
			if err != nil {
				t.Fatal(err)
			}
			existing = applied(t, s)
		}
		t.Run(fmt.Sprintf("%d", i), func(t *testing.T) {
			s, err := p.Plan(existing, from, until)
			if err != nil {
				t.Fatal(err)
			}
			checkSchedule(t, p, s, from, until)
			// Planning again from the result changes nothing.
			again, err := p.Plan(applied(t, s), from, until)
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Keys) != len(s.Keys) || !again.Start.Equal(s.Start) || !again.End.Equal(s.End) {
				t.Fatalf("second plan: %d keys %v..%v, first: %d keys %v..%v", len(again.Keys), again.Start, again.End, len(s.Keys), s.Start, s.End)
			}
			for j, k := range again.Keys {
				if k.Key == nil || k.Changed {
					t.Errorf("second plan: key %d new or changed: %+v", j, k)
				}
			}
		})
	}
}

func TestPlanCases(t *testing.T) {
	p := DefaultPolicy()
	from, until := planFrom, planFrom.Add(90*day)
	tests := []struct {
		name     string
		existing []Timers
		keys     int // planned keys
		changed  []bool
		want     string // error substring
		check    func(t *testing.T, s *Schedule)
	}{
		{name: "empty keys directory", keys: 4, check: func(t *testing.T, s *Schedule) {
			if k := s.Keys[0].Timers; !k.Activate.Equal(from) || !k.Publish.Equal(from) {
				t.Errorf("first key %+v", k)
			}
			if k := s.Keys[1].Timers; !k.Activate.Equal(from.Add(30*day)) || !k.Publish.Equal(from.Add(30*day-p.Ipub())) {
				t.Errorf("second key %+v", k)
			}
		}},
		{name: "ldns key without timers is adopted", existing: []Timers{{}}, keys: 4, changed: []bool{true}},
		{name: "fully timed key is kept", existing: []Timers{{Created: from, Publish: from, Activate: from, Inactive: from.Add(30 * day), Delete: from.Add(30*day + p.Iret())}}, keys: 4, changed: []bool{false}},
		{name: "key expiring now keeps signing", existing: []Timers{{Created: from.Add(-40 * day), Activate: from.Add(-40 * day), Inactive: from.Add(time.Hour)}}, keys: 4, changed: []bool{true}, check: func(t *testing.T, s *Schedule) {
			if got := s.Keys[0].Timers.Inactive; !got.Equal(from.Add(p.Ipub())) {
				t.Errorf("Inactive %v, want from + Ipub", got)
			}
		}},
		{name: "deleted key is dropped", existing: []Timers{{Created: from.Add(-90 * day), Activate: from.Add(-90 * day), Inactive: from.Add(-60 * day), Delete: from.Add(-59 * day)}}, keys: 4, check: func(t *testing.T, s *Schedule) {
			if len(s.Dropped) != 1 {
				t.Errorf("%d dropped", len(s.Dropped))
			}
		}},
		{name: "gap between keys", existing: []Timers{
			{Created: from, Activate: from, Inactive: from.Add(10 * day)},
			{Created: from, Publish: from, Activate: from.Add(20 * day)},
		}, want: "active periods must follow each other"},
		{name: "first key activates later", existing: []Timers{{Created: from, Publish: from, Activate: from.Add(day)}}, want: "nothing would sign until then"},
		{name: "late-published successor is published earlier", existing: []Timers{
			{Created: from, Activate: from},
			{Created: from.Add(5 * day), Publish: from.Add(10 * day), Activate: from.Add(10 * day)},
		}, keys: 4, changed: []bool{true, true}, check: func(t *testing.T, s *Schedule) {
			if got := s.Keys[1].Timers.Publish; !got.Equal(from.Add(10*day - p.Ipub())) {
				t.Errorf("Publish %v", got)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var existing []*Key
			for _, tm := range tc.existing {
				existing = append(existing, planKey(t, tm))
			}
			s, err := p.Plan(existing, from, until)
			wantErr(t, err, tc.want)
			if err != nil {
				return
			}
			checkSchedule(t, p, s, from, until)
			if len(s.Keys) != tc.keys {
				t.Errorf("%d keys, want %d", len(s.Keys), tc.keys)
			}
			for i, c := range tc.changed {
				if s.Keys[i].Changed != c {
					t.Errorf("key %d changed = %v, want %v (%v)", i, s.Keys[i].Changed, c, s.Keys[i].Notes)
				}
			}
			if tc.check != nil {
				tc.check(t, s)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	p := DefaultPolicy()
	if p.Ipub() != 2*time.Hour+5*time.Minute || p.Iret() != 25*time.Hour+5*time.Minute {
		t.Errorf("Ipub %s Iret %s", p.Ipub(), p.Iret())
	}
	tests := []struct {
		name string
		mut  func(*Policy)
		want string
	}{
		{"defaults", func(*Policy) {}, ""},
		{"zero lifetime", func(p *Policy) { p.ZSKLifetime = 0 }, "zsk-lifetime 0s: give a positive duration"},
		{"negative safety", func(p *Policy) { p.PublishSafety = -time.Hour }, "publish-safety"},
		{"lifetime below Ipub", func(p *Policy) { p.ZSKLifetime = 2 * time.Hour }, "must exceed propagation-delay + dnskey-ttl + publish-safety"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := DefaultPolicy()
			tc.mut(&q)
			wantErr(t, q.Validate(), tc.want)
		})
	}
	if _, err := p.Plan(nil, planFrom, planFrom); err == nil {
		t.Error("plan with until == from accepted")
	}
}
