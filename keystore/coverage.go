package keystore

import (
	"sort"
	"time"

	"github.com/miekg/dns"
)

// Gap is the first stretch of time from some instant on in which a bundle
// has nothing the server can serve: the slot in force (the last one started)
// has a DNSKEY RRSIG that is expired or not valid yet, or no slot has
// started.
type Gap struct {
	// Start is the first instant not covered: the coverage ends there.
	Start time.Time
	// End is when a slot with valid signatures is in force again; zero when
	// none is (Start is the end of the bundle's last slot).
	End time.Time
	// Slot is the 1-based index of the slot in force at Start; 0 when Start
	// is before the first slot.
	Slot int
	// Next is the 1-based index of the slot in force at End (0 when End is
	// zero).
	Next int
}

// Inner reports whether the gap has a later slot that covers again, i.e.
// it is a hole between slots rather than the end of the bundle.
func (g Gap) Inner() bool { return !g.End.IsZero() }

// FirstGap returns the first gap in b's coverage at or after from: the
// coverage of b seen at from ends at its Start.
//
// The slot in force at t is the last slot that started at or before t (as
// the server picks it); it is usable at t when it holds an RRSIG over DNSKEY
// and all its RRSIGs (over DNSKEY, CDS, CDNSKEY) are valid at t: inception
// <= t < expiration. An SKR signed by keymgr sign-ksr from a KSR whose
// records are further apart than the policy's rrsig-lifetime has such a
// gap between two slots; the end of the last slot's RRSIGs is one too.
func (b *Bundle) FirstGap(from time.Time) Gap {
	slots := b.Slots
	// i is the slot in force at t, -1 before the first.
	i := sort.Search(len(slots), func(i int) bool { return slots[i].Start.After(from) }) - 1
	t := from
	for i >= 0 {
		inc, exp, ok := slots[i].Validity()
		if !ok || t.Before(inc) || !t.Before(exp) {
			break
		}
		if i+1 == len(slots) || exp.Before(slots[i+1].Start) {
			t = exp
			break
		}
		t, i = slots[i+1].Start, i+1
	}
	g := Gap{Start: t, Slot: i + 1}
	for j := max(i, 0); j < len(slots); j++ {
		inc, exp, ok := slots[j].Validity()
		if !ok {
			continue
		}
		lo := latest(slots[j].Start, inc, t)
		hi := exp
		if j+1 < len(slots) && slots[j+1].Start.Before(hi) {
			hi = slots[j+1].Start
		}
		if lo.Before(hi) {
			g.End, g.Next = lo, j+1
			break
		}
	}
	return g
}

// ServedSigs returns the slot's RRSIGs without the orphans (see Orphan)
// among those over each type, when a key of the slot made another RRSIG
// over that type: the RRSIGs a server serves with the slot's records.
func (s *Slot) ServedSigs() []*dns.RRSIG {
	var out []*dns.RRSIG
	for _, typ := range []uint16{dns.TypeDNSKEY, dns.TypeCDS, dns.TypeCDNSKEY} {
		out = append(out, signedBy(sigsOver(s.RRSIGs, typ), s.DNSKEY)...)
	}
	for _, sig := range s.RRSIGs {
		if sig.TypeCovered != dns.TypeDNSKEY && sig.TypeCovered != dns.TypeCDS && sig.TypeCovered != dns.TypeCDNSKEY {
			out = append(out, sig)
		}
	}
	return out
}

// Validity returns when all the slot's served RRSIGs (over DNSKEY, CDS,
// CDNSKEY; see ServedSigs) are valid: from the latest inception to the earliest expiration
// (exclusive); ok is false without an RRSIG over DNSKEY.
func (s *Slot) Validity() (inc, exp time.Time, ok bool) {
	for _, sig := range s.ServedSigs() {
		i, e := SigTime(sig.Inception, s.Start), SigTime(sig.Expiration, s.Start)
		if sig.TypeCovered == dns.TypeDNSKEY {
			ok = true
		}
		if inc.IsZero() || i.After(inc) {
			inc = i
		}
		if exp.IsZero() || e.Before(exp) {
			exp = e
		}
	}
	return inc, exp, ok
}

// latest returns the latest of ts.
func latest(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}
