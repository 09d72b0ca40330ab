package livesign

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// canonicalLess orders names as RFC 4034 §6.1 does.
func canonicalLess(a, b string) bool {
	la, lb := dns.SplitDomainName(strings.ToLower(a)), dns.SplitDomainName(strings.ToLower(b))
	for i := 1; i <= len(la) && i <= len(lb); i++ {
		x, y := unescapeLabel(la[len(la)-i]), unescapeLabel(lb[len(lb)-i])
		if c := bytes.Compare(x, y); c != 0 {
			return c < 0
		}
	}
	return len(la) < len(lb)
}

func TestPredecessorSuccessorCover(t *testing.T) {
	names := []string{
		"x.wild.example.net.", "a.example.net.", "www.example.net.", "[.example.net.",
		"a\\000.example.net.", "Ab.Example.NET.", "0.example.net.", "-.example.net.",
		"b.a.wild.example.net.", strings.Repeat("a", 63) + ".example.net.",
		// 253 octets on the wire: no room for \000. in front
		strings.Repeat(strings.Repeat("c", 62)+".", 3) + strings.Repeat("d", 45) + ".example.net.",
	}
	for _, n := range names {
		p, s, sib := predecessor(n), successor(n), nextSibling(n)
		if !canonicalLess(n, sib) || !canonicalLess("zzz."+n, sib) || !canonicalLess(s, sib) {
			t.Errorf("nextSibling(%q) = %q does not sort after the name and its children", n, sib)
		}
		if dns.CountLabel(sib) != dns.CountLabel(n) {
			t.Errorf("nextSibling(%q) = %q is not a sibling", n, sib)
		}
		if _, ok := dns.IsDomainName(p); !ok {
			t.Errorf("predecessor(%q) = %q: not a domain name", n, p)
		}
		if !canonicalLess(p, n) {
			t.Errorf("predecessor(%q) = %q does not sort before it", n, p)
		}
		if !canonicalLess(n, s) {
			t.Errorf("successor(%q) = %q does not sort after it", n, s)
		}
		if wireLen(s) > 255 || wireLen(p) > 255 || wireLen(sib) > 255 {
			t.Errorf("%q: a name longer than 255 octets: %d %d %d", n, wireLen(p), wireLen(s), wireLen(sib))
		}
		if dns.CountLabel(p) != dns.CountLabel(n) || !dns.IsSubDomain(strings.ToLower(n[strings.Index(n, ".")+1:]), strings.ToLower(p)) {
			t.Errorf("predecessor(%q) = %q is not a sibling", n, p)
		}
	}
}

func TestCompactNSEC(t *testing.T) {
	tests := []struct {
		types []uint16
		want  []uint16
	}{
		{[]uint16{TypeNXNAME}, []uint16{dns.TypeRRSIG, dns.TypeNSEC, TypeNXNAME}},
		{nil, []uint16{dns.TypeRRSIG, dns.TypeNSEC}},
		{[]uint16{dns.TypeMX, dns.TypeA, dns.TypeA}, []uint16{dns.TypeA, dns.TypeMX, dns.TypeRRSIG, dns.TypeNSEC}},
	}
	for _, tc := range tests {
		n := compactNSEC("nope.example.net.", 300, tc.types)
		if n.NextDomain != `\000.nope.example.net.` {
			t.Errorf("next = %q", n.NextDomain)
		}
		if !slices.Equal(n.TypeBitMap, tc.want) {
			t.Errorf("bitmap(%v) = %v, want %v", tc.types, n.TypeBitMap, tc.want)
		}
		// The record must survive a round trip through the wire format.
		buf := make([]byte, 512)
		off, err := dns.PackRR(n, buf, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		rr, _, err := dns.UnpackRR(buf[:off], 0)
		if err != nil || !dns.IsDuplicate(rr, n) {
			t.Errorf("round trip: %v %v", rr, err)
		}
	}
}

func TestInZone(t *testing.T) {
	for _, tc := range []struct {
		name, zone string
		want       bool
	}{
		{"example.net.", "example.net.", true},
		{"WWW.Example.NET.", "example.net.", true},
		{"a.b.example.net.", "example.net.", true},
		{"badexample.net.", "example.net.", false},
		{"a\\.example.net.", "example.net.", false},
		{"a\\\\.example.net.", "example.net.", true},
		{"net.", "example.net.", false},
		{"anything.", ".", true},
	} {
		if got := inZone(tc.name, tc.zone); got != tc.want || got != dns.IsSubDomain(tc.zone, tc.name) {
			t.Errorf("inZone(%q, %q) = %v, want %v (dns.IsSubDomain %v)", tc.name, tc.zone, got, tc.want, dns.IsSubDomain(tc.zone, tc.name))
		}
	}
}
