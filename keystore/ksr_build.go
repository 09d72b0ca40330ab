package keystore

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DefaultKnotResign is how far apart at most livesign writes the records of
// a KSR in Knot's layout: keymgr sign-ksr 3.2 signs each record for its
// policy's rrsig-lifetime (14d by default) and, unless rrsig-refresh or
// zone-max-ttl is set in the policy, adds no re-signed record of its own in
// between. Records 7 days apart chain with a week of overlap under Knot's
// default policy.
const DefaultKnotResign = 7 * 24 * time.Hour

// DefaultResign is the re-sign interval BuildKSR uses for layout:
// DefaultKnotResign for Knot's, none (0) for BIND's, whose dnssec-ksr sign
// re-signs between the records by itself (as livesign sign-ksr does).
func DefaultResign(layout Layout) time.Duration {
	if layout == LayoutKnot {
		return DefaultKnotResign
	}
	return 0
}

// BuildKSR makes the KSR that asks for the DNSKEY sets of keys (ZSKs with
// their timers; KSKs are skipped) from start to end, with the layout's
// default re-sign interval (DefaultResign); see BuildKSRResign.
func BuildKSR(zone string, keys []*Key, start, end time.Time, ttl time.Duration, layout Layout, generated time.Time) (*KSR, error) {
	return BuildKSRResign(zone, keys, start, end, ttl, layout, generated, DefaultResign(layout))
}

// minResign is the shortest re-sign interval BuildKSRResign takes.
const minResign = time.Hour

// BuildKSRResign makes the KSR that asks for the DNSKEY sets of keys (ZSKs
// with their timers; KSKs are skipped) from start to end: a slot at start,
// at every Publish and Delete in between that changes the set, and one at
// end (as Knot's generate-ksr ends its period), each listing the ZSKs
// published then, with TTL ttl, in canonical order. With resign > 0 it adds
// slots with the same ZSKs between those, resign after the slot before
// (as keymgr sign-ksr re-signs between KSR records), so that no two slots
// are more than resign apart: a signer that signs each record for a fixed
// lifetime longer than resign leaves no gap. resign 0 means key events only.
func BuildKSRResign(zone string, keys []*Key, start, end time.Time, ttl time.Duration, layout Layout, generated time.Time, resign time.Duration) (*KSR, error) {
	zone = strings.ToLower(dns.Fqdn(zone))
	start, end = start.UTC(), end.UTC()
	if end.Before(start) {
		return nil, fmt.Errorf("keystore: KSR end %s is before its start %s", fmtTime(end), fmtTime(start))
	}
	if resign < 0 || resign > 0 && resign < minResign {
		return nil, fmt.Errorf("keystore: KSR re-sign interval %s: give 0 (key events only) or at least %s", resign, minResign)
	}
	times := []time.Time{start}
	for _, k := range keys {
		for _, e := range []time.Time{k.Timers.Publish, k.Timers.Delete} {
			if e.After(start) && e.Before(end) {
				times = append(times, e.UTC())
			}
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	times = append(times, end)
	k := &KSR{Zone: zone, Layout: layout, Generated: generated.UTC().Truncate(time.Second)}
	add := func(t time.Time) error {
		set := ksrSet(zone, keys, t, ttl)
		if len(set) == 0 {
			return fmt.Errorf("keystore: no ZSK of %s is published at %s: plan keys that cover the KSR period", zone, fmtTime(t))
		}
		k.Slots = append(k.Slots, KSRSlot{Start: t, DNSKEY: set})
		return nil
	}
	prev := ""
	for i, t := range times {
		if i > 0 && !t.After(k.Slots[len(k.Slots)-1].Start) {
			continue
		}
		set := ksrSet(zone, keys, t, ttl)
		if len(set) == 0 {
			return nil, fmt.Errorf("keystore: no ZSK of %s is published at %s: plan keys that cover the KSR period", zone, fmtTime(t))
		}
		id := zskIDs(set)
		if id == prev && i != len(times)-1 {
			continue
		}
		prev = id
		if resign > 0 && len(k.Slots) > 0 {
			for r := k.Slots[len(k.Slots)-1].Start.Add(resign); r.Before(t); r = r.Add(resign) {
				if err := add(r); err != nil {
					return nil, err
				}
			}
		}
		k.Slots = append(k.Slots, KSRSlot{Start: t, DNSKEY: set})
	}
	return k, nil
}

// ksrSet returns the ZSKs of keys published at t as DNSKEY records of zone
// with TTL ttl, in canonical order.
func ksrSet(zone string, keys []*Key, t time.Time, ttl time.Duration) []*dns.DNSKEY {
	var set []*dns.DNSKEY
	for _, key := range keys {
		if key.IsKSK() || !key.PublishedAt(t) {
			continue
		}
		c := dns.Copy(key.DNSKEY).(*dns.DNSKEY)
		c.Hdr = dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: uint32(ttl / time.Second)}
		set = append(set, c)
	}
	canonicalSort(set)
	return set
}
