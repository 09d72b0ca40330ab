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

// TestAnyOneRealRRset: at a name that owns RRsets, ANY gets one of them,
// the one of the lowest type, signed (RFC 8482 §4.1): data the zone holds,
// never a synthesized HINFO, which would give resolvers a signed HINFO that
// the zone does not have (and, at a name with a real HINFO, a false one).
// At a name a wildcard synthesizes, the wildcard's RRset comes signed as
// the wildcard, with the proof that no closer name exists.
func TestAnyOneRealRRset(t *testing.T) {
	l := newTestPlugin(t)
	ks, err := l.zones[0].Keys(testNow)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		want   uint16
		labels uint8 // of the RRSIG
		proofs int
	}{
		{"www.example.net.", dns.TypeA, 3, 0},
		{"example.net.", dns.TypeNS, 2, 0},
		{"leaf.ent.example.net.", dns.TypeA, 4, 0},
		{"srv.example.net.", dns.TypeSRV, 3, 0},
		{"x.wild.example.net.", dns.TypeA, 3, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := query(t, l, tc.name, dns.TypeANY, queryOpt{do: true})
			verifySections(t, m, "example.net.", ks.DNSKEY)
			var sig *dns.RRSIG
			for _, rr := range m.Answer {
				if s, ok := rr.(*dns.RRSIG); ok {
					sig = s
				} else if rr.Header().Rrtype != tc.want || !strings.EqualFold(rr.Header().Name, tc.name) {
					t.Errorf("answer holds %s, want only %s RRs at %s", rr, dns.TypeToString[tc.want], tc.name)
				}
			}
			if m.Rcode != dns.RcodeSuccess || sig == nil || sig.TypeCovered != tc.want || sig.Labels != tc.labels {
				t.Fatalf("want the signed %s RRset (RRSIG labels %d), got\n%s", dns.TypeToString[tc.want], tc.labels, m)
			}
			if got := len(nsecIn(m.Ns)); got != tc.proofs {
				t.Errorf("%d NSECs, want %d\n%s", got, tc.proofs, m)
			}
			direct := query(t, l, tc.name, tc.want, queryOpt{do: true})
			for _, rr := range m.Answer {
				if rr.Header().Rrtype != dns.TypeRRSIG && !slices.ContainsFunc(direct.Answer, func(d dns.RR) bool { return dns.IsDuplicate(d, rr) }) {
					t.Errorf("ANY answers %s, which a query for %s does not", rr, dns.TypeToString[tc.want])
				}
			}
		})
	}
}
