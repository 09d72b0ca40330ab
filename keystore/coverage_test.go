package keystore

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// covDay is day n of the coverage tests' calendar.
func covDay(n float64) time.Time {
	return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n * float64(24*time.Hour)))
}

// covSig is an RRSIG over typ valid from day inc to day exp (only the times
// matter to FirstGap).
func covSig(typ uint16, inc, exp float64) *dns.RRSIG {
	return &dns.RRSIG{
		Hdr:         dns.RR_Header{Name: "example.org.", Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 3600},
		TypeCovered: typ, Algorithm: dns.ECDSAP256SHA256, Labels: 2, OrigTtl: 3600,
		Inception: uint32(covDay(inc).Unix()), Expiration: uint32(covDay(exp).Unix()), KeyTag: 1, SignerName: "example.org.",
	}
}

// covSlot is a slot starting on day start with the given RRSIGs.
func covSlot(start float64, sigs ...*dns.RRSIG) Slot {
	return Slot{Start: covDay(start), RRSIGs: sigs}
}

// covKnot is a slot as keymgr sign-ksr makes it: inception 90 minutes
// before the start, expiration the start plus life days.
func covKnot(start, life float64) Slot {
	return covSlot(start, covSig(dns.TypeDNSKEY, start-1.5/24, start+life))
}

func TestFirstGap(t *testing.T) {
	D := dns.TypeDNSKEY
	tests := []struct {
		name       string
		slots      []Slot
		from       float64
		start, end float64 // end < 0: no later slot covers again
		slot, next int
		inner      bool
	}{
		{name: "no slot", slots: nil, from: 0, start: 0, end: -1, slot: 0},
		{name: "one slot: ends at its expiration", slots: []Slot{covKnot(0, 14)}, from: 1, start: 14, end: -1, slot: 1},
		{name: "chained every 7d, 14d lifetime: no gap, ends with the last", slots: []Slot{covKnot(0, 14), covKnot(7, 14), covKnot(14, 14), covKnot(21, 14)}, from: 0, start: 35, end: -1, slot: 4},
		{name: "expiration exactly at the next start: no gap", slots: []Slot{covSlot(0, covSig(D, 0, 10)), covSlot(10, covSig(D, 10, 20))}, from: 0, start: 20, end: -1, slot: 2},
		{name: "keymgr records 30d apart, 14d lifetime: gap after slot 1", slots: []Slot{covKnot(0, 14), covKnot(30, 14), covKnot(60, 14)}, from: 1, start: 14, end: 30, slot: 1, next: 2, inner: true},
		{name: "second gap seen from after the first", slots: []Slot{covKnot(0, 14), covKnot(30, 14), covKnot(60, 14)}, from: 31, start: 44, end: 60, slot: 2, next: 3, inner: true},
		{name: "from inside a gap", slots: []Slot{covKnot(0, 14), covKnot(30, 14)}, from: 20, start: 20, end: 30, slot: 1, next: 2, inner: true},
		{name: "from before the first slot", slots: []Slot{covKnot(5, 14)}, from: 1, start: 1, end: 5, slot: 0, next: 1, inner: true},
		{name: "from after the end", slots: []Slot{covKnot(0, 14), covKnot(7, 14)}, from: 30, start: 30, end: -1, slot: 2},
		{name: "later slot's inception after its start", slots: []Slot{covSlot(0, covSig(D, 0, 14)), covSlot(7, covSig(D, 8, 21))}, from: 0, start: 7, end: 8, slot: 2, next: 2, inner: true},
		{name: "earliest of two DNSKEY RRSIGs counts (KSK roll)", slots: []Slot{covSlot(0, covSig(D, 0, 14), covSig(D, 0, 9)), covKnot(10, 14)}, from: 0, start: 9, end: 10, slot: 1, next: 2, inner: true},
		{name: "CDS RRSIG expiring first counts", slots: []Slot{covSlot(0, covSig(D, 0, 14), covSig(dns.TypeCDS, 0, 6)), covKnot(10, 14)}, from: 0, start: 6, end: 10, slot: 1, next: 2, inner: true},
		{name: "slot without RRSIG over DNSKEY is a gap", slots: []Slot{covKnot(0, 14), covSlot(7, covSig(dns.TypeCDS, 7, 21)), covKnot(14, 14)}, from: 0, start: 7, end: 14, slot: 2, next: 3, inner: true},
		{name: "gap end skips a slot that never covers", slots: []Slot{covKnot(0, 5), covSlot(7, covSig(D, 0, 6)), covKnot(20, 14)}, from: 0, start: 5, end: 20, slot: 1, next: 3, inner: true},
		{name: "last slot's shorter lifetime ends the coverage", slots: []Slot{covKnot(0, 14), covKnot(7, 3)}, from: 0, start: 10, end: -1, slot: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &Bundle{Slots: tc.slots, SKR: true}
			g := b.FirstGap(covDay(tc.from))
			if !g.Start.Equal(covDay(tc.start)) {
				t.Errorf("gap starts %s, want %s", g.Start.Format(time.RFC3339), covDay(tc.start).Format(time.RFC3339))
			}
			switch {
			case tc.end < 0 && !g.End.IsZero():
				t.Errorf("gap ends %s, want no end (the bundle's end)", g.End.Format(time.RFC3339))
			case tc.end >= 0 && !g.End.Equal(covDay(tc.end)):
				t.Errorf("gap ends %s, want %s", g.End.Format(time.RFC3339), covDay(tc.end).Format(time.RFC3339))
			}
			if g.Slot != tc.slot || g.Next != tc.next || g.Inner() != tc.inner {
				t.Errorf("slot %d next %d inner %v, want %d %d %v", g.Slot, g.Next, g.Inner(), tc.slot, tc.next, tc.inner)
			}
		})
	}
}

// TestFirstGapFixtures: the SKRs of BIND 9.20 dnssec-ksr sign and Knot
// keymgr sign-ksr (re-signed every 9 days by their policies) have no gap;
// the Knot one without its re-signed slots has the gap keymgr leaves with
// no rrsig-refresh in its policy.
func TestFirstGapFixtures(t *testing.T) {
	for _, f := range []struct{ file, zone string }{{td("bind920", "example.org.skr"), "example.org"}, {td("knot", "example.com.skr"), "example.com"}} {
		b, err := ReadBundle(f.file, f.zone)
		if err != nil {
			t.Fatal(err)
		}
		g := b.FirstGap(fixtureTime)
		if want := time.Date(2027, 5, 15, 0, 0, 0, 0, time.UTC); g.Inner() || !g.Start.Equal(want) || g.Slot != len(b.Slots) {
			t.Errorf("%s: %+v, want the end of the last slot at %s", f.file, g, want)
		}
		for at := b.Slots[0].Start; at.Before(g.Start); at = at.Add(6 * time.Hour) {
			if h := b.FirstGap(at); !h.Start.Equal(g.Start) {
				t.Fatalf("%s from %s: gap at %s, want none before %s", f.file, at, h.Start, g.Start)
			}
		}
	}

	b, err := ReadBundle(td("knot", "example.com.skr"), "example.com")
	if err != nil {
		t.Fatal(err)
	}
	ksr, err := ReadKSR(td("knot", "example.com.ksr"), "")
	if err != nil {
		t.Fatal(err)
	}
	inKSR := map[time.Time]bool{}
	for _, s := range ksr.Slots {
		inKSR[s.Start] = true
	}
	var kept []Slot
	for _, s := range b.Slots {
		if inKSR[s.Start] {
			kept = append(kept, s)
		}
	}
	b.Slots = kept
	g := b.FirstGap(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	wantStart, wantEnd := time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if !g.Inner() || !g.Start.Equal(wantStart) || !g.End.Equal(wantEnd) || g.Slot != 1 || g.Next != 2 {
		t.Errorf("Knot SKR without re-signed slots: %+v, want a gap after slot 1 from %s to %s", g, wantStart, wantEnd)
	}
}
