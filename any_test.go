package livesign

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// signedSOA tells whether the authority section holds the zone's SOA with an
// RRSIG over it (verifySections checks that the RRSIG verifies).
func signedSOA(m *dns.Msg, zone string) bool {
	soa, sig := false, false
	for _, rr := range m.Ns {
		switch rr := rr.(type) {
		case *dns.SOA:
			soa = soa || strings.EqualFold(rr.Hdr.Name, zone)
		case *dns.RRSIG:
			sig = sig || rr.TypeCovered == dns.TypeSOA && strings.EqualFold(rr.Hdr.Name, zone)
		}
	}
	return soa && sig
}

// signedNSEC returns the NSEC at owner in the authority section if an RRSIG
// over it is there too, else nil.
func signedNSEC(m *dns.Msg, owner string) *dns.NSEC {
	n := findNSEC(m, owner)
	if n == nil {
		return nil
	}
	for _, rr := range m.Ns {
		if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == dns.TypeNSEC && strings.EqualFold(s.Hdr.Name, owner) {
			return n
		}
	}
	return nil
}

// TestAnyDenied: ANY at a name that does not exist gets the compact denial
// every other type gets there (RFC 9824: NOERROR, or NXDOMAIN with CO, and
// the signed NSEC with NXNAME), and ANY at an empty non-terminal gets a
// signed NODATA whose NSEC lists no type, not a synthesized HINFO that its
// own NSEC denies.
func TestAnyDenied(t *testing.T) {
	l := newTestPlugin(t)
	ks, err := l.zones[0].Keys(testNow)
	if err != nil {
		t.Fatal(err)
	}
	nx := []uint16{dns.TypeRRSIG, dns.TypeNSEC, TypeNXNAME}
	ent := []uint16{dns.TypeRRSIG, dns.TypeNSEC}
	tests := []struct {
		name   string
		co     bool
		rcode  int
		bitmap []uint16
	}{
		{"nope.example.net.", false, dns.RcodeSuccess, nx},
		{"nope.example.net.", true, dns.RcodeNameError, nx},
		{"deep.nope.example.net.", false, dns.RcodeSuccess, nx},
		{"deep.nope.example.net.", true, dns.RcodeNameError, nx},
		{"ent.example.net.", false, dns.RcodeSuccess, ent},
		{"ent.example.net.", true, dns.RcodeSuccess, ent},
		{"wild.example.net.", false, dns.RcodeSuccess, ent}, // only *.wild below it
		{"wc3.example.net.", false, dns.RcodeSuccess, ent},
	}
	for _, tc := range tests {
		co := map[bool]string{false: "", true: "/CO"}[tc.co]
		t.Run(tc.name+co, func(t *testing.T) {
			m := query(t, l, tc.name, dns.TypeANY, queryOpt{do: true, co: tc.co})
			if m.Rcode != tc.rcode {
				t.Errorf("rcode %s, want %s\n%s", dns.RcodeToString[m.Rcode], dns.RcodeToString[tc.rcode], m)
			}
			if len(m.Answer) != 0 {
				t.Errorf("want an empty answer section, got\n%s", m)
			}
			verifySections(t, m, "example.net.", ks.DNSKEY)
			if !signedSOA(m, "example.net.") {
				t.Errorf("no signed SOA in the authority section\n%s", m)
			}
			n := signedNSEC(m, tc.name)
			if n == nil {
				t.Fatalf("no signed NSEC at %s\n%s", tc.name, m)
			}
			if n.NextDomain != `\000.`+tc.name {
				t.Errorf("NSEC next = %s, want \\000.%s", n.NextDomain, tc.name)
			}
			if want := bitmap(tc.bitmap); !slices.Equal(n.TypeBitMap, want) {
				t.Errorf("bitmap %v, want %v", typeNames(n.TypeBitMap), typeNames(want))
			}
			if o := m.IsEdns0(); o == nil || !o.Do() || o.Co() != tc.co {
				t.Errorf("OPT does not echo DO (and CO=%v)\n%s", tc.co, m)
			}

			// The denial for ANY is the one for any other type at that name.
			a := query(t, l, tc.name, dns.TypeA, queryOpt{do: true, co: tc.co})
			if a.Rcode != m.Rcode {
				t.Errorf("ANY rcode %s, A rcode %s", dns.RcodeToString[m.Rcode], dns.RcodeToString[a.Rcode])
			}
			if na := findNSEC(a, tc.name); na == nil || !slices.Equal(na.TypeBitMap, n.TypeBitMap) {
				t.Errorf("ANY NSEC %v, A NSEC %v", n, na)
			}
		})
	}
}

// TestAnySynthesizedHINFO: at a name that owns RRsets, ANY still gets RFC
// 8482's single synthesized HINFO, signed, and nothing contradicts it at
// that name: the NSEC served there (for a query of type NSEC) and the
// NODATA for HINFO agree with each other, and name existing types only.
// The HINFO is an answer to ANY, not an RRset of the zone: listing it in the
// bitmap would make the NODATA for HINFO bogus.
func TestAnySynthesizedHINFO(t *testing.T) {
	l := newTestPlugin(t)
	ks, err := l.zones[0].Keys(testNow)
	if err != nil {
		t.Fatal(err)
	}
	do := queryOpt{do: true}
	for _, name := range []string{"www.example.net.", "example.net.", "leaf.ent.example.net.", "srv.example.net."} {
		t.Run(name, func(t *testing.T) {
			m := query(t, l, name, dns.TypeANY, do)
			verifySections(t, m, "example.net.", ks.DNSKEY)
			var hinfo *dns.HINFO
			sigs := 0
			for _, rr := range m.Answer {
				switch rr := rr.(type) {
				case *dns.HINFO:
					hinfo = rr
				case *dns.RRSIG:
					if rr.TypeCovered == dns.TypeHINFO && strings.EqualFold(rr.Hdr.Name, name) {
						sigs++
					}
				}
			}
			if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 2 || hinfo == nil || hinfo.Cpu != "RFC8482" || hinfo.Os != "" || sigs != 1 {
				t.Fatalf("want one signed HINFO \"RFC8482\" \"\", got\n%s", m)
			}
			if len(nsecIn(m.Ns)) != 0 {
				t.Errorf("a positive answer with an NSEC:\n%s", m)
			}

			nq := query(t, l, name, dns.TypeNSEC, do)
			verifySections(t, nq, "example.net.", ks.DNSKEY)
			ns := nsecIn(nq.Answer)
			if len(ns) != 1 {
				t.Fatalf("NSEC query: want one NSEC, got\n%s", nq)
			}
			bm := ns[0].TypeBitMap
			if slices.Contains(bm, TypeNXNAME) || len(bitmap(bm)) <= 2 {
				t.Errorf("NSEC at %s (%v) says the name is empty or absent, yet ANY answers HINFO", name, typeNames(bm))
			}
			hq := query(t, l, name, dns.TypeHINFO, do)
			verifySections(t, hq, "example.net.", ks.DNSKEY)
			hn := findNSEC(hq, name)
			if len(hq.Answer) != 0 || hn == nil || !slices.Equal(hn.TypeBitMap, bm) {
				t.Errorf("HINFO query: want NODATA with the bitmap %v, got\n%s", typeNames(bm), hq)
			}
			if slices.Contains(bm, dns.TypeHINFO) {
				t.Errorf("NSEC bitmap lists HINFO, which the zone does not hold at %s", name)
			}
		})
	}
}
