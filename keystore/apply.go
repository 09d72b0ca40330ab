package keystore

import (
	"fmt"
	"time"
)

// Applied says what ApplySchedule did with one key of a Schedule.
type Applied struct {
	Key   *Key
	State string // "generated", "updated" (timers written) or "reused"
	Notes []string
}

// ApplySchedule makes the keys directory dir match sched: it generates the
// keys the schedule asks for (algorithm alg, never reusing a tag in used or
// already in dir), writes the timers of existing keys it changed (files
// written atomically, .private 0600), and returns every key of the schedule,
// the dropped ones first, with what was done. Callers that may run
// concurrently with another process hold Lock(dir) around Plan and this.
func ApplySchedule(dir, zone string, alg uint8, sched *Schedule, used map[uint16]bool) ([]Applied, error) {
	var out []Applied
	for _, k := range sched.Dropped {
		out = append(out, Applied{Key: k, State: "dropped"})
	}
	for _, pk := range sched.Keys {
		k, state := pk.Key, "reused"
		switch {
		case k == nil:
			state = "generated"
			for k == nil || used[k.Tag()] {
				var err error
				if k, err = GenerateKey(zone, alg, false, pk.Timers.Created); err != nil {
					return out, err
				}
			}
			used[k.Tag()] = true
			k.Timers = pk.Timers
		case pk.Changed:
			state = "updated"
			c := *k
			c.Timers = pk.Timers
			k = &c
		}
		if state != "reused" {
			if _, err := WriteKey(dir, k); err != nil {
				return out, err
			}
		}
		out = append(out, Applied{Key: k, State: state, Notes: pk.Notes})
	}
	return out, nil
}

// Keys returns the keys of a schedule application, in order.
func Keys(applied []Applied) []*Key {
	keys := make([]*Key, len(applied))
	for i, a := range applied {
		keys[i] = a.Key
	}
	return keys
}

// PlanDir plans the ZSKs of zone in dir from from to until under p and
// applies the plan (see Policy.Plan and ApplySchedule), holding Lock(dir)
// so that two processes sharing dir never generate keys at once. New keys
// get algorithm alg (see ZSKAlgorithm); no tag of a key in dir is reused.
func PlanDir(dir, zone string, alg uint8, p Policy, from, until time.Time) (*Schedule, []Applied, error) {
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
	sched, err := p.Plan(zsks, from, until)
	if err != nil {
		return nil, nil, err
	}
	applied, err := ApplySchedule(dir, zone, alg, sched, used)
	if err != nil {
		return sched, applied, fmt.Errorf("keystore: applying the key plan in %s: %w", dir, err)
	}
	return sched, applied, nil
}
