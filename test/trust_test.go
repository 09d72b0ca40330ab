package test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
)

// trustZoneText is testdata/zone.db with what the attacks of issue 13 need: a
// wildcard at the apex, CNAMEs to names only a wildcard matches, an empty
// non-terminal below a wildcard, a CNAME to the apex.
func trustZoneText(t *testing.T) string {
	b, err := os.ReadFile("../testdata/zone.db")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + `
* IN TXT "wild"
cw IN CNAME x.wild.example.net.
c2 IN CNAME cw.example.net.
*.wc IN TXT "wc"
a.b.wc IN A 192.0.2.60
toapex IN CNAME example.net.
`
}

// TestEndToEndNoPoisoning is issue 13's attack through a real validating
// resolver with aggressive use of the validated cache (RFC 8198, unbound's
// aggressive-nsec): crafted queries first, each of which once made the ZSK
// sign an NSEC that denies an existing name; then every RRset of the zone
// must still validate with its data, and every empty non-terminal with a
// validated NODATA. One crafted query used to black out www for every
// client of the resolver.
func TestEndToEndNoPoisoning(t *testing.T) {
	validators.Require(t, "unbound")
	dir := t.TempDir()
	text := trustZoneText(t)
	db := filepath.Join(dir, "db")
	if err := os.WriteFile(db, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	kf := livesignCeremony(t, "example.net", "ECDSAP256SHA256")
	kf.db = db
	server := startServer(t, "example.net", kf)
	u := validators.StartUnbound(t, "example.net.", server, kf.anchor)

	long := strings.Repeat(`\255`, 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("e", 49) + ".example.net."
	crafted := []struct {
		name  string
		qtype uint16
	}{
		{`www\000.example.net.`, dns.TypeTXT},
		{`WWW\000.example.net.`, dns.TypeTXT},
		{`ns1\000.example.net.`, dns.TypeTXT},
		{`mail\000.example.net.`, dns.TypeTXT},
		{`\000.example.net.`, dns.TypeTXT},
		{`a.www\000.example.net.`, dns.TypeTXT},
		{`x\000.wc3.example.net.`, dns.TypeA},
		{`leaf\000.ent.example.net.`, dns.TypeTXT},
		{"cw.example.net.", dns.TypeA},
		{"c2.example.net.", dns.TypeA},
		{"b.wc.example.net.", dns.TypeTXT},
		{"q.wc.example.net.", dns.TypeTXT},
		{`*x.www.example.net.`, dns.TypeTXT},
		{long, dns.TypeTXT},
		{"toapex.example.net.", dns.TypeDNSKEY},
	}
	for _, q := range crafted {
		m := u.Query(t, q.name, q.qtype)
		if m.Rcode == dns.RcodeServerFailure {
			t.Errorf("crafted %s %s: SERVFAIL through unbound (validation failed?)\n%s", q.name, dns.TypeToString[q.qtype], m)
		} else if !m.AuthenticatedData {
			t.Errorf("crafted %s %s: answer not validated\n%s", q.name, dns.TypeToString[q.qtype], m)
		}
	}

	// Every RRset of the zone, as its zone file has it.
	type key struct {
		name  string
		qtype uint16
	}
	want := map[key][]dns.RR{}
	ents := map[string]bool{}
	zp := dns.NewZoneParser(strings.NewReader(text), "example.net.", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		name := strings.ToLower(h.Name)
		if strings.HasPrefix(name, "*.") || dns.IsSubDomain("insecure.example.net.", name) || dns.IsSubDomain("secure.example.net.", name) {
			continue // wildcards are asked through names they synthesize; delegations have their own tests
		}
		if h.Rrtype == dns.TypeCNAME {
			continue // followed below, through the names that own them
		}
		want[key{name, h.Rrtype}] = append(want[key{name, h.Rrtype}], rr)
		labels := dns.SplitDomainName(name)
		for i := 1; i < len(labels)-2; i++ {
			ents[dns.Fqdn(strings.Join(labels[i:], "."))] = true
		}
	}
	for k, rrs := range want {
		m := u.Query(t, k.name, k.qtype)
		if m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData {
			t.Errorf("after the attacks, %s %s: want a validated answer, got\n%s", k.name, dns.TypeToString[k.qtype], m)
			continue
		}
		for _, rr := range rrs {
			if !slices.ContainsFunc(m.Answer, func(a dns.RR) bool {
				return a.Header().Rrtype == rr.Header().Rrtype && strings.EqualFold(a.Header().Name, rr.Header().Name) &&
					strings.EqualFold(dns.Field(a, 1), dns.Field(rr, 1))
			}) {
				t.Errorf("after the attacks, %s %s: %s missing from\n%s", k.name, dns.TypeToString[k.qtype], rr, m)
			}
		}
	}
	for name := range ents {
		if _, held := want[key{name, dns.TypeA}]; held {
			continue
		}
		m := u.Query(t, name, dns.TypeA)
		if m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData {
			t.Errorf("after the attacks, %s A (a name with descendants): want a validated NOERROR, got\n%s", name, m)
		}
	}
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"alias.example.net.", dns.TypeA}, {"cw.example.net.", dns.TypeA}, {"x.wild.example.net.", dns.TypeTXT}, {"a.b.wc.example.net.", dns.TypeA}} {
		m := u.Query(t, q.name, q.qtype)
		if m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData || len(m.Answer) == 0 {
			t.Errorf("after the attacks, %s %s: want validated data, got\n%s", q.name, dns.TypeToString[q.qtype], m)
		}
	}
}
