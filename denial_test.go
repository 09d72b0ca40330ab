package livesign

import (
	"slices"
	"testing"

	"github.com/miekg/dns"
)

// canonicalLess orders names as RFC 4034 §6.1 does.
func canonicalLess(a, b string) bool {
	x, ok1 := parseName(a)
	y, ok2 := parseName(b)
	return ok1 && ok2 && compareNames(x, y) < 0
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
		n := compactNSEC("nope.example.net.", "example.net.", 300, tc.types)
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
