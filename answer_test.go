package livesign

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// nsecIn returns the NSEC records of a section.
func nsecIn(rrs []dns.RR) []*dns.NSEC {
	var out []*dns.NSEC
	for _, rr := range rrs {
		if n, ok := rr.(*dns.NSEC); ok {
			out = append(out, n)
		}
	}
	return out
}

func TestWildcardCNAMEIntoParent(t *testing.T) {
	l := newTestPlugin(t)
	ks, _ := l.zones[0].Keys(testNow)
	m := query(t, l, "x.wc3.example.net.", dns.TypeA, queryOpt{do: true})
	verifySections(t, m, "example.net.", ks.DNSKEY)
	for _, rr := range m.Answer {
		s, ok := rr.(*dns.RRSIG)
		if !ok {
			continue
		}
		want := map[uint16]uint8{dns.TypeCNAME: 3, dns.TypeA: 4}[s.TypeCovered]
		if s.Labels != want {
			t.Errorf("RRSIG over %s %s: labels %d, want %d", s.Hdr.Name, dns.TypeToString[s.TypeCovered], s.Labels, want)
		}
	}
	for _, n := range nsecIn(m.Ns) {
		if canonicalLess(n.Hdr.Name, "real.wc3.example.net.") && canonicalLess("real.wc3.example.net.", n.NextDomain) {
			t.Errorf("NSEC %s..%s denies the existing real.wc3", n.Hdr.Name, n.NextDomain)
		}
		if !(canonicalLess(n.Hdr.Name, "x.wc3.example.net.") && canonicalLess("x.wc3.example.net.", n.NextDomain)) {
			t.Errorf("NSEC %s..%s does not cover x.wc3", n.Hdr.Name, n.NextDomain)
		}
	}
	if len(nsecIn(m.Ns)) != 1 {
		t.Errorf("want one wildcard proof, got\n%s", m)
	}
}

func TestChainEndsInDenial(t *testing.T) {
	l := newTestPlugin(t)
	ks, _ := l.zones[0].Keys(testNow)
	tests := []struct {
		name   string
		qtype  uint16
		target string
		bitmap []uint16
	}{
		// cnx -> gone.example.net (NXDOMAIN) needs the file plugin's upstream,
		// which newTestPlugin does not set: see TestCNAMEToNonexistent.
		{"cnodata.example.net.", dns.TypeMX, "www.example.net.", []uint16{dns.TypeA, dns.TypeAAAA}},
	}
	for _, tc := range tests {
		m := query(t, l, tc.name, tc.qtype, queryOpt{do: true})
		verifySections(t, m, "example.net.", ks.DNSKEY)
		if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 2 {
			t.Errorf("%s: want NOERROR with the signed CNAME, got\n%s", tc.name, m)
		}
		n := findNSEC(m, tc.target)
		if n == nil {
			t.Fatalf("%s: no NSEC at the chain's end %s\n%s", tc.name, tc.target, m)
		}
		if want := bitmap(tc.bitmap, dns.TypeNSEC, dns.TypeRRSIG); !slices.Equal(n.TypeBitMap, want) {
			t.Errorf("%s: bitmap %v, want %v", tc.name, typeNames(n.TypeBitMap), typeNames(want))
		}
	}
}

func TestQueryTypesAnsweredSpecially(t *testing.T) {
	l := newTestPlugin(t)
	ks, _ := l.zones[0].Keys(testNow)
	do := queryOpt{do: true}

	m := query(t, l, "www.example.net.", dns.TypeNSEC, do)
	verifySections(t, m, "example.net.", ks.DNSKEY)
	if n := nsecIn(m.Answer); len(n) != 1 || !slices.Equal(n[0].TypeBitMap, []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeRRSIG, dns.TypeNSEC}) {
		t.Errorf("www NSEC: want the NSEC with A AAAA RRSIG NSEC as the answer, got\n%s", m)
	}
	m = query(t, l, "nope.example.net.", dns.TypeNSEC, do)
	verifySections(t, m, "example.net.", ks.DNSKEY)
	if n := nsecIn(m.Answer); m.Rcode != dns.RcodeSuccess || len(n) != 1 || !slices.Contains(n[0].TypeBitMap, TypeNXNAME) {
		t.Errorf("nope NSEC: want the NXNAME NSEC as the answer, got\n%s", m)
	}

	m = query(t, l, "www.example.net.", dns.TypeANY, do)
	verifySections(t, m, "example.net.", ks.DNSKEY)
	if len(m.Answer) != 2 || m.Answer[0].Header().Rrtype != dns.TypeA {
		t.Errorf("www ANY: want the A RRset (RFC 8482 §4.1), got\n%s", m)
	}

	m = query(t, l, "www.example.net.", dns.TypeRRSIG, do)
	if m.Rcode != dns.RcodeRefused {
		t.Errorf("www RRSIG: rcode %s, want REFUSED", dns.RcodeToString[m.Rcode])
	}
	m = query(t, l, "www.example.net.", TypeNXNAME, do)
	if m.Rcode != dns.RcodeFormatError || m.IsEdns0() == nil {
		t.Errorf("www NXNAME: want FORMERR with OPT, got\n%s", m)
	}
}

// TestCompactWithCache: behind the cache plugin a CO query still gets the
// NOERROR form, since cache would replay it to clients without CO.
func TestCompactWithCache(t *testing.T) {
	l := newTestPlugin(t)
	l.compact.Store(false)
	m := query(t, l, "nope.example.net.", dns.TypeA, queryOpt{do: true, co: true})
	if m.Rcode != dns.RcodeSuccess || m.IsEdns0().Co() {
		t.Fatalf("want NOERROR without CO, got\n%s", m)
	}
}

// TestProbeFailureIsServfail: a backend that fails a type lookup must not
// yield a NODATA bitmap with holes.
func TestProbeFailureIsServfail(t *testing.T) {
	l := newTestPlugin(t)
	next := l.Next
	l.Next = handlerFunc(func(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
		if o := r.IsEdns0(); r.Question[0].Qtype == dns.TypeTXT && (o == nil || !o.Do()) {
			m := new(dns.Msg)
			m.SetRcode(r, dns.RcodeServerFailure)
			w.WriteMsg(m)
			return dns.RcodeServerFailure, nil
		}
		return next.ServeDNS(ctx, w, r)
	})
	m := query(t, l, "www.example.net.", dns.TypeMX, queryOpt{do: true})
	if m.Rcode != dns.RcodeServerFailure {
		t.Fatalf("want SERVFAIL, got\n%s", m)
	}
	if o := m.IsEdns0(); o == nil || len(o.Option) == 0 || o.Option[0].Option() != dns.EDNS0EDE {
		t.Errorf("SERVFAIL without an Extended DNS Error:\n%s", m)
	}
	if strings.Contains(m.String(), "testdata") {
		t.Errorf("EDE text shows a server path:\n%s", m)
	}
}

// TestExpiredBundle: once the bundle's signatures have expired, DO queries
// get SERVFAIL with an EDE, queries without DO still get answers, and the
// zone is not ready.
func TestExpiredBundle(t *testing.T) {
	l := newTestPlugin(t)
	now := time.Date(2027, 11, 2, 0, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	if l.Ready() {
		t.Error("ready with an expired bundle")
	}
	m := query(t, l, "www.example.net.", dns.TypeA, queryOpt{do: true})
	if m.Rcode != dns.RcodeServerFailure || len(m.Answer) != 0 {
		t.Errorf("DO query: want SERVFAIL, got\n%s", m)
	}
	m = query(t, l, "www.example.net.", dns.TypeA, queryOpt{})
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		t.Errorf("query without DO: want the plain answer, got\n%s", m)
	}
	m = query(t, l, "example.net.", dns.TypeDNSKEY, queryOpt{})
	if m.Rcode != dns.RcodeServerFailure {
		t.Errorf("DNSKEY without DO: want SERVFAIL (no valid set), got\n%s", m)
	}
}
