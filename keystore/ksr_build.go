package keystore

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// BuildKSR makes the KSR that asks for the DNSKEY sets of keys (ZSKs with
// their timers; KSKs are skipped) from start to end: a slot at start, at
// every Publish and Delete in between that changes the set, and one at end
// (as Knot's generate-ksr ends its period), each listing the ZSKs published
// then, with TTL ttl, in canonical order.
func BuildKSR(zone string, keys []*Key, start, end time.Time, ttl time.Duration, layout Layout, generated time.Time) (*KSR, error) {
	zone = strings.ToLower(dns.Fqdn(zone))
	start, end = start.UTC(), end.UTC()
	if end.Before(start) {
		return nil, fmt.Errorf("keystore: KSR end %s is before its start %s", fmtTime(end), fmtTime(start))
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
	prev := ""
	for i, t := range times {
		if i > 0 && !t.After(k.Slots[len(k.Slots)-1].Start) {
			continue
		}
		var set []*dns.DNSKEY
		for _, key := range keys {
			if key.IsKSK() || !key.PublishedAt(t) {
				continue
			}
			c := dns.Copy(key.DNSKEY).(*dns.DNSKEY)
			c.Hdr = dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: uint32(ttl / time.Second)}
			set = append(set, c)
		}
		if len(set) == 0 {
			return nil, fmt.Errorf("keystore: no ZSK of %s is published at %s: plan keys that cover the KSR period", zone, fmtTime(t))
		}
		canonicalSort(set)
		id := zskIDs(set)
		if id == prev && i != len(times)-1 {
			continue
		}
		prev = id
		k.Slots = append(k.Slots, KSRSlot{Start: t, DNSKEY: set})
	}
	return k, nil
}
