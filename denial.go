package livesign

import (
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// TypeNXNAME is the RFC 9824 NXNAME pseudo-type: in a compact-denial NSEC
// bitmap it says the name does not exist. miekg/dns has no constant for it.
const TypeNXNAME uint16 = 128

// compactNSEC returns the RFC 9824 NSEC at name: next name \000.name, so it
// covers nothing else, and a bitmap of types plus NSEC and RRSIG.
func compactNSEC(name string, ttl uint32, types []uint16) *dns.NSEC {
	return &dns.NSEC{
		Hdr:        dns.RR_Header{Name: name, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: ttl},
		NextDomain: successor(name),
		TypeBitMap: bitmap(types, dns.TypeNSEC, dns.TypeRRSIG),
	}
}

// coveringNSEC returns a minimally covering NSEC (RFC 4470 epsilon
// functions) that proves name does not exist: owner just before name, next
// name the sibling just after it. Wildcard answers need it to show that the
// query name itself is absent (RFC 4035 §5.3.4). The next name is a sibling,
// not \000.name: validators derive the closest encloser from the names
// the NSEC shares with the query name, and \000.name would make that the
// query name itself instead of the wildcard's parent.
func coveringNSEC(name string, ttl uint32) *dns.NSEC {
	return &dns.NSEC{
		Hdr:        dns.RR_Header{Name: predecessor(name), Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: ttl},
		NextDomain: nextSibling(name),
		TypeBitMap: []uint16{dns.TypeRRSIG, dns.TypeNSEC},
	}
}

// bitmap returns the sorted, de-duplicated union of types and extra.
func bitmap(types []uint16, extra ...uint16) []uint16 {
	all := append(append([]uint16(nil), types...), extra...)
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	out := all[:0]
	for i, t := range all {
		if i == 0 || t != all[i-1] {
			out = append(out, t)
		}
	}
	return out
}

// successor returns the first name after name in canonical order:
// \000.name, or when that would be too long, the next sibling.
func successor(name string) string {
	if wireLen(name)+2 > 255 {
		return nextSibling(name)
	}
	return `\000.` + name
}

// wireLen returns the length of name in wire format.
func wireLen(name string) int {
	n := 1
	for _, l := range dns.SplitDomainName(name) {
		n += 1 + len(unescapeLabel(l))
	}
	return n
}

// nextSibling returns the first name after name and all its descendants
// in canonical order: the first label with a \000 octet appended.
func nextSibling(name string) string {
	labels := dns.SplitDomainName(name)
	if len(labels) == 0 {
		return successor(name)
	}
	first := unescapeLabel(strings.ToLower(labels[0]))
	switch {
	case len(first) < 63 && wireLen(name) < 255:
		first = append(first, 0)
	case first[len(first)-1] < 0xff: // no room to grow the label: bump its last octet
		first[len(first)-1]++
	default:
		return `\000.` + name // cannot happen for a name that fits: some label is short
	}
	if len(labels) == 1 {
		return escapeLabel(first) + "."
	}
	return escapeLabel(first) + "." + dns.Fqdn(strings.Join(labels[1:], "."))
}

// predecessor returns a name just before name in canonical order, under
// the same parent: the first label with its last octet decremented and
// \255 appended. Between it and name lie only labels starting with those
// octets and their children, which no real zone uses.
func predecessor(name string) string {
	labels := dns.SplitDomainName(name)
	if len(labels) == 0 {
		return name
	}
	first := unescapeLabel(strings.ToLower(labels[0]))
	parent := dns.Fqdn(strings.Join(labels[1:], "."))
	if len(labels) == 1 {
		parent = "."
	}
	last := first[len(first)-1]
	var label []byte
	if last == 0 {
		label = first[:len(first)-1]
		if len(label) == 0 {
			return parent
		}
	} else {
		last--
		if last >= 'A' && last <= 'Z' { // upper case sorts as lower case: skip the letters
			last = 'A' - 1
		}
		label = append(append([]byte(nil), first[:len(first)-1]...), last)
		if len(label) < 63 && wireLen(name) < 255 {
			label = append(label, 0xff)
		}
	}
	if parent == "." {
		return escapeLabel(label) + "."
	}
	return escapeLabel(label) + "." + parent
}

// unescapeLabel turns a label in presentation format into its octets.
func unescapeLabel(s string) []byte {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			out = append(out, c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			out = append(out, byte((int(s[i+1]-'0')*100)+(int(s[i+2]-'0')*10)+int(s[i+3]-'0')))
			i += 3
			continue
		}
		out = append(out, s[i+1])
		i++
	}
	return out
}

// escapeLabel writes octets as a label in presentation format.
func escapeLabel(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', isDigit(c), c == '-', c == '_', c == '*':
			sb.WriteByte(c)
		default:
			sb.WriteByte('\\')
			sb.WriteByte('0' + c/100)
			sb.WriteByte('0' + c/10%10)
			sb.WriteByte('0' + c%10)
		}
	}
	return sb.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
