package keystore

import (
	"fmt"
	"slices"
	"time"
)

// Chains says which ZSK chains PlanChains keeps for a zone whose keys may
// be of more than one algorithm: an algorithm roll (RFC 6781 §4.1.4,
// DESIGN.md §3.1).
type Chains struct {
	// Algorithms are kept planned up to the plan's end. One that has no
	// ZSK yet while another has starts a new chain that signs PreSign
	// before its DNSKEY is published.
	Algorithms []uint8
	// Retire names algorithms whose DNSKEYs leave the DNSKEY set at the
	// time given (once the parent's DS no longer names their KSK); their
	// ZSKs keep signing until then + dnskey-ttl + propagation-delay, so
	// that no validator holding the old DNSKEY set misses a signature.
	Retire map[uint8]time.Time
}

// PreSign is how long a new algorithm's ZSK signs every RRset before its
// DNSKEY is published: max-zone-ttl + propagation-delay + publish-safety,
// so that when validators see the new algorithm in the DNSKEY set no
// cached RRset lacks its signature (RFC 6781 §4.1.4, conservative).
func (p Policy) PreSign() time.Duration { return p.MaxZoneTTL + p.PropagationDelay + p.PublishSafety }

// retireWait is how long a retired algorithm's ZSKs sign after its DNSKEYs
// leave the set: until the set without them has replaced the cached one.
func (p Policy) retireWait() time.Duration { return p.DNSKEYTTL + p.PropagationDelay }

// PlanChains plans the ZSKs of zone in dir from from to until, one chain
// per algorithm of c (see Policy.Plan for a chain), holding Lock(dir). New
// keys of a chain get its algorithm. It returns the schedule of all chains
// (for the KSR) and what was done to each key.
func PlanChains(dir, zone string, c Chains, p Policy, from, until time.Time) (*Schedule, []Applied, error) {
	if !until.After(from) {
		return nil, nil, fmt.Errorf("keystore: plan end %s is not after its start %s", until.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	unlock, err := Lock(dir)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	all, err := ReadKeys(dir, Selection{Zone: zone})
	if err != nil {
		return nil, nil, err
	}
	used := map[uint16]bool{}
	for _, k := range all {
		used[k.Tag()] = true
	}
	zsks, err := ReadKeys(dir, Selection{Zone: zone, Role: ZSKRole, Private: PrivateRequired})
	if err != nil {
		return nil, nil, err
	}
	algs := slices.Clone(c.Algorithms)
	for alg := range c.Retire {
		if !slices.Contains(algs, alg) {
			algs = append(algs, alg)
		}
	}
	slices.Sort(algs)
	total := &Schedule{}
	var applied []Applied
	for _, alg := range algs {
		var keys []*Key
		for _, k := range zsks {
			if k.DNSKEY.Algorithm == alg {
				keys = append(keys, k)
			}
		}
		end, retire := until, time.Time{}
		r, retiring := c.Retire[alg]
		if retiring {
			retire, end = r, minTime(until, r)
		}
		var app []Applied
		live := keys
		if _, done := retiredAt(keys); retiring && done {
			live = nil // retired already: the keys stay as they are
			for _, k := range keys {
				app = append(app, Applied{Key: k, State: "reused"})
			}
		}
		if end.After(from) && (len(live) > 0 || !retiring) {
			sched, err := p.Plan(live, from, end)
			if err != nil {
				return nil, nil, err
			}
			rollFrom := slices.ContainsFunc(zsks, func(k *Key) bool {
				return k.DNSKEY.Algorithm != alg && slices.Contains(c.Algorithms, k.DNSKEY.Algorithm)
			})
			if len(keys) == 0 && rollFrom && len(sched.Keys) > 0 {
				// A new algorithm: every RRset is signed with it PreSign
				// before its DNSKEY is published.
				t := &sched.Keys[0].Timers
				t.Publish = t.Activate.Add(p.PreSign())
				if min := t.Inactive.Add(p.Iret()); t.Delete.Before(min) {
					t.Delete = min
				}
				sched.Keys[0].Notes = append(sched.Keys[0].Notes, "a new algorithm: signs from Activate, published "+p.PreSign().String()+" later (RFC 6781 §4.1.4)")
			}
			planned, err := ApplySchedule(dir, zone, alg, sched, used)
			if err != nil {
				return nil, applied, err
			}
			app = append(app, planned...)
			mergeSchedule(total, sched)
		} else {
			for _, k := range live {
				app = append(app, Applied{Key: k, State: "reused"})
			}
		}
		if retiring {
			if app, err = p.retire(dir, app, retire); err != nil {
				return nil, applied, err
			}
			for _, a := range app {
				if a.State != "dropped" && a.Key.Timers.Inactive.After(total.End) {
					total.End = a.Key.Timers.Inactive
				}
			}
		}
		applied = append(applied, app...)
	}
	if total.Start.IsZero() {
		total.Start = from
	}
	if total.End.IsZero() {
		total.End = until
	}
	return total, applied, nil
}

// retire gives the keys of a retired chain their last timers: out of the
// DNSKEY set at r, signing until r + retireWait, and writes those that
// changed. Keys already retired at or before r are left alone.
func (p Policy) retire(dir string, app []Applied, r time.Time) ([]Applied, error) {
	stop := r.Add(p.retireWait())
	var last *Key // the key active at r, or the last one activated before
	for _, a := range app {
		k := a.Key
		if a.State == "dropped" || k.ActiveSince().After(r) {
			continue
		}
		if last == nil || k.ActiveSince().After(last.ActiveSince()) {
			last = k
		}
	}
	for i, a := range app {
		if a.State == "dropped" {
			continue
		}
		k := a.Key
		if !k.Timers.Delete.IsZero() && !k.Timers.Delete.After(r) {
			continue // retired already
		}
		t := k.Timers
		t.Delete = r
		if t.Inactive.IsZero() || t.Inactive.After(stop) || k == last {
			t.Inactive = stop
		}
		if t == k.Timers {
			continue
		}
		c := *k
		c.Timers = t
		if _, err := WriteKey(dir, &c); err != nil {
			return app, err
		}
		app[i] = Applied{Key: &c, State: "retired", Notes: append(a.Notes, "algorithm retired: out of the DNSKEY set at "+fmtTime(r)+", signs until "+fmtTime(stop))}
	}
	return app, nil
}

// mergeSchedule adds s to total: its keys, and the span both cover.
func mergeSchedule(total, s *Schedule) {
	total.Keys = append(total.Keys, s.Keys...)
	total.Dropped = append(total.Dropped, s.Dropped...)
	if total.Start.IsZero() || s.Start.Before(total.Start) {
		total.Start = s.Start
	}
	if s.End.After(total.End) {
		total.End = s.End
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// ChainInputs are what DecideChains decides from.
type ChainInputs struct {
	Zone string
	// Want is the algorithm asked for (the algorithm directive or
	// -algorithm); 0: none.
	Want uint8
	// KSKs are the online KSKs (Online) or the bundle's KSKs.
	KSKs   []*Key
	Online bool
	// ZSKs are the keys directory's ZSKs.
	ZSKs []*Key
	// RetireOld, when set, is when the algorithms other than the target
	// leave the DNSKEY set (livesign plan -retire-old: the offline side's
	// end of an algorithm roll, once the parent's DS names the new KSK).
	RetireOld time.Time
}

// DecideChains decides the ZSK chains of a zone at now (DESIGN.md §3.1),
// and the target: the algorithm new chains get (ZSKAlgorithm, from the KSKs
// still live and the ZSKs not retired). Every other algorithm with ZSKs
// keeps its chain while the roll lasts: with an online KSK, as long as a
// KSK of it is live (none: it retires now; all of them given a Delete time:
// it retires then); offline, until RetireOld. An algorithm retired already
// (its last ZSK leaves the DNSKEY set before it stops signing) stays so.
// With an online KSK the target needs a KSK of its own.
func DecideChains(in ChainInputs, now time.Time) (Chains, uint8, error) {
	byAlg := map[uint8][]*Key{}
	var algs []uint8
	for _, k := range in.ZSKs {
		a := k.DNSKEY.Algorithm
		if byAlg[a] == nil {
			algs = append(algs, a)
		}
		byAlg[a] = append(byAlg[a], k)
	}
	retired := map[uint8]time.Time{}
	var live []*Key
	for _, a := range algs {
		if r, ok := retiredAt(byAlg[a]); ok {
			retired[a] = r
			continue
		}
		live = append(live, byAlg[a]...)
	}
	var ksks []*Key
	for _, k := range in.KSKs {
		if !in.Online || k.Timers.Delete.IsZero() || k.Timers.Delete.After(now) {
			ksks = append(ksks, k)
		}
	}
	target, err := ZSKAlgorithm(in.Zone, in.Want, ksks, live)
	if err != nil {
		return Chains{}, 0, err
	}
	if in.Online && len(ksks) > 0 && !slices.ContainsFunc(ksks, func(k *Key) bool { return k.DNSKEY.Algorithm == target }) {
		return Chains{}, 0, fmt.Errorf("keystore: algorithm %s is set, but no KSK of %s has it (KSK %s): add one to start an algorithm roll (livesign keygen -zone %s -ksk -algorithm %s -dir KSKDIR), or set the algorithm to the KSK's",
			algName(target), in.Zone, kskAlgs(ksks), zoneArg(in.Zone, ksks[0]), dnsAlgorithmName(target))
	}
	c := Chains{Algorithms: []uint8{target}, Retire: retired}
	for _, a := range algs {
		if a == target || !retired[a].IsZero() {
			continue
		}
		switch {
		case !in.Online && in.RetireOld.IsZero():
			c.Algorithms = append(c.Algorithms, a)
		case !in.Online:
			c.Retire[a] = in.RetireOld
		default:
			r, keep := time.Time{}, false
			for _, k := range ksks {
				if k.DNSKEY.Algorithm != a {
					continue
				}
				if k.Timers.Delete.IsZero() {
					keep = true
				} else if k.Timers.Delete.After(r) {
					r = k.Timers.Delete
				}
			}
			switch {
			case keep:
				c.Algorithms = append(c.Algorithms, a)
			case r.IsZero():
				c.Retire[a] = now // no KSK of it left: out of the DNSKEY set now
			default:
				c.Retire[a] = r
			}
		}
	}
	return c, target, nil
}

// retiredAt tells whether the ZSKs of one algorithm are retired (see
// Policy.retire): the one activated last leaves the DNSKEY set before it
// stops signing, which no ZSK roll does. It returns when it leaves.
func retiredAt(keys []*Key) (time.Time, bool) {
	var last *Key
	for _, k := range keys {
		if last == nil || k.ActiveSince().After(last.ActiveSince()) {
			last = k
		}
	}
	if last == nil {
		return time.Time{}, false
	}
	t := last.Timers
	return t.Delete, !t.Delete.IsZero() && !t.Inactive.IsZero() && !t.Delete.After(t.Inactive)
}
