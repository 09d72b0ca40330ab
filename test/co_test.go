package test

import (
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
)

// TestEndToEndCompactNXDOMAIN checks both forms of RFC 9824 NXDOMAIN through
// validators: without CO (rcode NOERROR, NXNAME in the bitmap) and with CO
// (rcode NXDOMAIN, CO echoed), which unbound must accept as validated.
// unbound 1.17 predates RFC 9824: seeing an NSEC that matches the query name
// under an NXDOMAIN rcode, it validates the proof and reports NOERROR, so
// through it either rcode counts, with AD; the server's own rcode is checked
// directly.
func TestEndToEndCompactNXDOMAIN(t *testing.T) {
	kf := livesignCeremony(t, "example.net", "ECDSAP256SHA256")
	server := startServer(t, "example.net", kf)

	// Direct, with CO: the server answers NXDOMAIN and echoes CO.
	q := new(dns.Msg)
	q.SetQuestion("nope.example.net.", dns.TypeA)
	q.SetEdns0(1232, true)
	q.IsEdns0().SetCo()
	r, err := dns.Exchange(q, server)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeNameError || r.IsEdns0() == nil || !r.IsEdns0().Co() {
		t.Fatalf("CO query: want NXDOMAIN with CO echoed, got\n%s", r)
	}

	plain := validators.StartUnbound(t, "example.net.", server, kf.anchor)
	withCO := validators.StartUnbound(t, "example.net.", coProxy(t, server), kf.anchor)
	for _, tc := range []struct {
		u      *validators.Unbound
		name   string
		rcodes []int
	}{
		{plain, "nope.example.net.", []int{dns.RcodeSuccess}},
		{withCO, "nope.example.net.", []int{dns.RcodeNameError, dns.RcodeSuccess}},
		{withCO, "deeper.nope.example.net.", []int{dns.RcodeNameError, dns.RcodeSuccess}},
		{withCO, "www.example.net.", []int{dns.RcodeSuccess}},
	} {
		m := tc.u.Query(t, tc.name, dns.TypeA)
		if !slices.Contains(tc.rcodes, m.Rcode) || !m.AuthenticatedData || len(m.Answer) != 0 && tc.rcodes[0] != dns.RcodeSuccess {
			t.Errorf("%s A: rcode %s AD=%v, want %s with AD\n%s\n%s", tc.name, dns.RcodeToString[m.Rcode], m.AuthenticatedData,
				dns.RcodeToString[tc.rcodes[0]], m, tc.u.Log())
		}
	}
}

// TestEndToEndBehindCache runs livesign behind the cache plugin, as most
// Corefiles do: answers still validate, concurrent queries share cached
// signatures safely (run with -race), and CO gets the NOERROR form.
func TestEndToEndBehindCache(t *testing.T) {
	kf := livesignCeremony(t, "example.net", "ECDSAP256SHA256")
	server := startServer(t, "example.net", kf, "cache 30")
	u := validators.StartUnbound(t, "example.net.", server, kf.anchor)

	done := make(chan struct{})
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			c := new(dns.Client)
			for i := range 50 {
				q := new(dns.Msg)
				q.SetQuestion([]string{"www.example.net.", "nope.example.net.", "example.net.", "x.wild.example.net."}[(i+w)%4],
					[]uint16{dns.TypeA, dns.TypeDNSKEY}[i%2])
				q.SetEdns0(1232, true)
				c.Exchange(q, server)
			}
		}()
	}
	for range 4 {
		<-done
	}
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"www.example.net.", dns.TypeA}, {"nope.example.net.", dns.TypeA}, {"example.net.", dns.TypeDNSKEY}, {"x.wild.example.net.", dns.TypeA}} {
		if m := u.Query(t, q.name, q.qtype); m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData {
			t.Errorf("%s %s behind cache: not validated\n%s", q.name, dns.TypeToString[q.qtype], m)
		}
	}
	q := new(dns.Msg)
	q.SetQuestion("nope.example.net.", dns.TypeA)
	q.SetEdns0(1232, true)
	q.IsEdns0().SetCo()
	r, err := dns.Exchange(q, server)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeSuccess {
		t.Errorf("CO query behind cache: rcode %s, want NOERROR", dns.RcodeToString[r.Rcode])
	}
}
