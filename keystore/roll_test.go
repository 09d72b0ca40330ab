package keystore

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestPlanChainsAlgorithmRoll: a new algorithm's chain starts signing
// PreSign before its first DNSKEY is published, the old chain goes on while
// both are kept, and retiring the old algorithm takes its DNSKEYs out at the
// time given and lets them sign retireWait longer; planning again changes
// nothing.
func TestPlanChainsAlgorithmRoll(t *testing.T) {
	dir := t.TempDir()
	p := DefaultPolicy()
	from := fixtureTime
	if _, _, err := PlanChains(dir, "roll.example.", Chains{Algorithms: []uint8{dns.ECDSAP256SHA256}}, p, from, from.AddDate(0, 0, 40)); err != nil {
		t.Fatal(err)
	}
	start := from.AddDate(0, 0, 10)
	_, applied, err := PlanChains(dir, "roll.example.", Chains{Algorithms: []uint8{dns.ECDSAP256SHA256, dns.ED25519}}, p, start, start.AddDate(0, 0, 40))
	if err != nil {
		t.Fatal(err)
	}
	var first *Key
	for _, a := range applied {
		if k := a.Key; k.DNSKEY.Algorithm == dns.ED25519 && (first == nil || k.ActiveSince().Before(first.ActiveSince())) {
			first = k
		}
	}
	if first == nil || !first.Timers.Activate.Equal(start) || !first.Timers.Publish.Equal(start.Add(p.PreSign())) {
		t.Fatalf("first ED25519 key %+v: want Activate %s and Publish PreSign (%s) later", first, start, p.PreSign())
	}
	ecdsaUntil := time.Time{}
	for _, a := range applied {
		if k := a.Key; k.DNSKEY.Algorithm == dns.ECDSAP256SHA256 && k.Timers.Inactive.After(ecdsaUntil) {
			ecdsaUntil = k.Timers.Inactive
		}
	}
	if !ecdsaUntil.After(start.AddDate(0, 0, 40)) {
		t.Errorf("the ECDSA chain stops at %s, before the plan's end", ecdsaUntil)
	}

	r := start.AddDate(0, 0, 5)
	c := Chains{Algorithms: []uint8{dns.ED25519}, Retire: map[uint8]time.Time{dns.ECDSAP256SHA256: r}}
	_, applied, err = PlanChains(dir, "roll.example.", c, p, start.AddDate(0, 0, 1), start.AddDate(0, 0, 40))
	if err != nil {
		t.Fatal(err)
	}
	stop := r.Add(p.DNSKEYTTL + p.PropagationDelay)
	signsAt := func(t time.Time) bool {
		for _, a := range applied {
			if k := a.Key; k.DNSKEY.Algorithm == dns.ECDSAP256SHA256 && k.ActiveAt(t) {
				return true
			}
		}
		return false
	}
	for _, a := range applied {
		k := a.Key
		if k.DNSKEY.Algorithm != dns.ECDSAP256SHA256 || a.State == "dropped" {
			continue
		}
		if k.PublishedAt(r) || k.Timers.Inactive.After(stop) {
			t.Errorf("ECDSA ZSK %d after retiring: %+v, want out of the set at %s, inactive by %s", k.Tag(), k.Timers, r, stop)
		}
	}
	if !signsAt(stop.Add(-time.Second)) || signsAt(stop) {
		t.Errorf("the retired algorithm must sign until %s and not after", stop)
	}
	_, again, err := PlanChains(dir, "roll.example.", c, p, start.AddDate(0, 0, 2), start.AddDate(0, 0, 40))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range again {
		if a.Key.DNSKEY.Algorithm == dns.ECDSAP256SHA256 && a.State != "reused" && a.State != "dropped" {
			t.Errorf("planning again %s ECDSA ZSK %d", a.State, a.Key.Tag())
		}
	}
}
