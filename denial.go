package livesign

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// TypeNXNAME is the RFC 9824 NXNAME pseudo-type: in a compact-denial NSEC
// bitmap it says the name does not exist. miekg/dns has no constant for it.
const TypeNXNAME uint16 = 128

// compactNSEC returns the RFC 9824 NSEC at name in the zone apex: its next
// name is the first name after it in canonical order, \000.name, so that it
// denies no other name; a bitmap of types plus NSEC and RRSIG. A name with
// no room for a child gets the first name after it and its descendants, or
// the apex when that lies outside the zone (the zone's last NSEC).
func compactNSEC(name, apex string, ttl uint32, types []uint16) *dns.NSEC {
	return &dns.NSEC{
		Hdr:        dns.RR_Header{Name: strings.ToLower(name), Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: ttl},
		NextDomain: successor(name, apex),
		TypeBitMap: bitmap(types, dns.TypeNSEC, dns.TypeRRSIG),
	}
}

// successor returns the next name of name's compact NSEC.
func successor(name, apex string) string {
	if len(name)+3 <= dnsLimits.wire {
		// The presentation format is never shorter than the wire format
		// less one: \000.name fits.
		return `\000.` + strings.ToLower(name)
	}
	n, ok := parseName(name)
	if !ok {
		return `\000.` + strings.ToLower(name) // the signing gate refuses it
	}
	if c, ok := dnsLimits.firstChild(n); ok {
		return c.String()
	}
	z, _ := parseName(apex)
	if a, ok := dnsLimits.after(n); ok && a.isBelow(z) {
		return a.String()
	}
	return z.String()
}

// coveringNSEC returns a minimally covering NSEC (RFC 4470) that proves
// that name does not exist: owner the name just before it (predecessor),
// next name the first after it and its descendants, so that it denies name
// and nothing else. ownerTypes are the owner's types, for the rare owner
// that exists (name is \000.parent, whose predecessor is the parent).
// Wildcard answers need it for the next closer name (RFC 4035 §5.3.4).
func coveringNSEC(name dname, ttl uint32, ownerTypes []uint16) (*dns.NSEC, bool) {
	owner, ok1 := dnsLimits.predecessor(name)
	next, ok2 := dnsLimits.after(name)
	if !ok1 || !ok2 {
		return nil, false
	}
	return &dns.NSEC{
		Hdr:        dns.RR_Header{Name: owner.String(), Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: ttl},
		NextDomain: next.String(),
		TypeBitMap: bitmap(ownerTypes, dns.TypeNSEC, dns.TypeRRSIG),
	}, true
}

// bitmap returns the sorted, de-duplicated union of types and extra.
func bitmap(types []uint16, extra ...uint16) []uint16 {
	all := make([]uint16, 0, len(types)+len(extra))
	all = append(append(all, types...), extra...)
	slices.Sort(all)
	return slices.Compact(all)
}
