package livesign

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/file"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/pkg/nonwriter"
	"github.com/coredns/coredns/plugin/test"
	"github.com/coredns/coredns/request"
	"github.com/livesign/livesign/config"
	"github.com/miekg/dns"
)

// spoofingUpstream resolves the file plugin's CNAME targets as a server
// does: names in the zone through livesign again, and names outside it
// from "the internet", which here answers every name with a CNAME back into
// the zone and forged data there: whatever comes back from outside must
// never be signed.
type spoofingUpstream struct {
	l    *Livesign
	zone string
}

func (u spoofingUpstream) Lookup(ctx context.Context, state request.Request, name string, typ uint16) (*dns.Msg, error) {
	req := state.NewWithQuestion(name, typ)
	if !inZone(name, u.zone) {
		m := new(dns.Msg)
		m.SetReply(req.Req)
		m.Answer = append(m.Answer,
			test.CNAME(name+" 300 IN CNAME www."+u.zone),
			test.A("www."+u.zone+" 300 IN A 203.0.113.66"),
			test.TXT("forged."+u.zone+" 300 IN TXT \"forged\""))
		return m, nil
	}
	nw := nonwriter.New(state.W)
	if _, err := u.l.ServeDNS(ctx, nw, req.Req); err != nil {
		return nil, err
	}
	return nw.Msg, nil
}

// newTruthPlugin returns livesign over the file plugin serving zone text db
// for example.net (with the ldns-classic keys), CNAME targets resolved by
// spoofingUpstream, and the truth to check its replies against.
func newTruthPlugin(t testing.TB, db string) (*Livesign, *zoneTruth, []dns.RR) {
	t.Helper()
	cfg := testConfig(t.(*testing.T))
	cfg.MaxSigners = 1 // one worker: a CNAME target looked up through livesign again must not wait for it
	l, err := New([]config.Config{cfg}, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	z, err := file.Parse(strings.NewReader(db), "example.net.", "db", 0)
	if err != nil {
		t.Fatal(err)
	}
	z.Upstream = spoofingUpstream{l: l, zone: "example.net."}
	l.Next = file.File{Zones: file.Zones{Z: map[string]*file.Zone{"example.net.": z}, Names: []string{"example.net."}}}
	ks, err := l.zones[0].Keys(testNow)
	if err != nil {
		t.Fatal(err)
	}
	truth, err := newZoneTruth("example.net.", db, keyTypesOf(ks))
	if err != nil {
		t.Fatal(err)
	}
	return l, truth, ks.DNSKEY
}

// trustZone is testdata/zone.db with what the attacks of issue 13 need: a
// wildcard at the apex, CNAMEs to names only a wildcard matches, an empty
// non-terminal below a wildcard, a CNAME to the apex and one out of the zone.
func trustZone(t testing.TB) string {
	b, err := os.ReadFile("testdata/zone.db")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + `
* IN TXT "wild"
cw IN CNAME x.wild.example.net.
c2 IN CNAME cw.example.net.
cwc IN CNAME y.wc3.example.net.
*.wc IN TXT "wc"
a.b.wc IN A 192.0.2.60
toapex IN CNAME example.net.
out IN CNAME x.outside.test.
`
}

// ask sends one query through l and returns the reply.
func askMsg(t testing.TB, l *Livesign, r *dns.Msg) *dns.Msg {
	t.Helper()
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	if _, err := l.ServeDNS(context.Background(), rec, r); err != nil {
		t.Fatalf("%s: %v", r.Question[0].String(), err)
	}
	if rec.Msg == nil {
		t.Fatalf("%s: no reply", r.Question[0].String())
	}
	return rec.Msg
}

func doQuery(name string, qtype uint16) *dns.Msg {
	r := new(dns.Msg)
	r.SetQuestion(name, qtype)
	r.SetEdns0(4096, true)
	return r
}

// TestNeverSignALie replays the attacks of issue 13 and checks every reply
// against the zone's ground truth (truth_test.go): every RRSIG verifies,
// every signed RRset is the zone's, every signed NSEC is true. Each case
// also says what the reply must be.
func TestNeverSignALie(t *testing.T) {
	long := strings.Repeat(`\255`, 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("e", 49) + ".example.net."
	tests := []struct {
		name  string
		qtype uint16
		want  func(m *dns.Msg) string // "" when the reply is right
	}{
		// 1: a next closer name ending in \000 made the covering NSEC's
		// owner the real sibling.
		{`www\000.example.net.`, dns.TypeTXT, wildAnswer},
		{`WWW\000.example.net.`, dns.TypeTXT, wildAnswer},
		{`ns1\000.example.net.`, dns.TypeTXT, wildAnswer},
		{`\000.example.net.`, dns.TypeTXT, wildAnswer},
		{`a.www\000.example.net.`, dns.TypeTXT, wildAnswer},
		{`x\000.wc3.example.net.`, dns.TypeA, signedData},
		{`x\000.wild.example.net.`, dns.TypeA, signedData},
		// 2: attribution leaking from CNAME-target lookups, and the file
		// plugin's wildcard at an empty non-terminal.
		{"cw.example.net.", dns.TypeA, signedData},
		{"c2.example.net.", dns.TypeA, signedData},
		{"c2.example.net.", dns.TypeMX, anyRcode},
		{"cwc.example.net.", dns.TypeA, signedData},
		{"b.wc.example.net.", dns.TypeTXT, noDataAt("b.wc.example.net.")},
		{"z.b.wc.example.net.", dns.TypeTXT, anyRcode},
		{"q.wc.example.net.", dns.TypeTXT, wildAnswer},
		// 4: data from beyond an out-of-zone CNAME.
		{"out.example.net.", dns.TypeA, anyRcode},
		{"outside.example.net.", dns.TypeA, anyRcode},
		// 5: '*' that is not a wildcard label, 255-octet names, a CNAME to
		// the apex asked for DNSKEY.
		{`*x.www.example.net.`, dns.TypeTXT, anyRcode},
		{`*x.example.net.`, dns.TypeTXT, wildAnswer},
		{`\042.example.net.`, dns.TypeTXT, signedData},
		{long, dns.TypeTXT, anyRcode},
		{long, dns.TypeNSEC, anyRcode},
		{"toapex.example.net.", dns.TypeDNSKEY, signedData},
		{"toapex.example.net.", dns.TypeCDS, anyRcode},
		// Ordinary names stay right.
		{"www.example.net.", dns.TypeA, signedData},
		{"www.example.net.", dns.TypeTXT, noDataAt("www.example.net.")},
		{"nope.www.example.net.", dns.TypeA, noDataOrNX},
		{"leaf.ent.example.net.", dns.TypeTXT, noDataAt("leaf.ent.example.net.")},
		{"ent.example.net.", dns.TypeA, noDataAt("ent.example.net.")},
		{"x.y.example.net.", dns.TypeA, anyRcode},
		{"example.net.", dns.TypeDS, noDataAt("example.net.")},
		{"insecure.example.net.", dns.TypeDS, noDataAt("insecure.example.net.")},
		{"www.insecure.example.net.", dns.TypeA, anyRcode},
	}
	l, truth, keys := newTruthPlugin(t, trustZone(t))
	for _, tc := range tests {
		for _, qtype := range []uint16{tc.qtype, dns.TypeNSEC, dns.TypeANY} {
			name := tc.name + "/" + dns.TypeToString[qtype]
			m := askMsg(t, l, doQuery(tc.name, qtype))
			for _, p := range truth.checkReply(m, keys, testNow) {
				t.Errorf("%s: %s\n%s", name, p, m)
			}
			if qtype == tc.qtype {
				if p := tc.want(m); p != "" {
					t.Errorf("%s: %s\n%s", name, p, m)
				}
			}
		}
	}
}

// signedData wants a NOERROR reply with signed data in the answer.
func signedData(m *dns.Msg) string {
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) == 0 || sigsIn(&dns.Msg{Answer: m.Answer}) == 0 {
		return "want a signed answer"
	}
	return ""
}

// wildAnswer wants a signed answer synthesized from a wildcard, with one
// proof NSEC.
func wildAnswer(m *dns.Msg) string {
	if p := signedData(m); p != "" {
		return p
	}
	for _, rr := range m.Answer {
		if s, ok := rr.(*dns.RRSIG); ok && int(s.Labels) >= dns.CountLabel(s.Hdr.Name) {
			return "want the answer signed as a wildcard"
		}
	}
	if len(nsecIn(m.Ns)) != 1 {
		return "want one NSEC proving no closer name exists"
	}
	return ""
}

// noDataAt wants NOERROR, no answer, and the signed NSEC at name.
func noDataAt(name string) func(*dns.Msg) string {
	return func(m *dns.Msg) string {
		if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || findNSEC(m, name) == nil {
			return "want NODATA with the NSEC at " + name
		}
		return ""
	}
}

// noDataOrNX wants a signed denial.
func noDataOrNX(m *dns.Msg) string {
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || len(nsecIn(m.Ns)) == 0 {
		return "want a signed denial"
	}
	return ""
}

// anyRcode accepts any reply the truth check passes; SERVFAIL included.
func anyRcode(*dns.Msg) string { return "" }

// TestNotifyPassesThrough: livesign handles QUERY only. A NOTIFY with DO
// (spoofable over UDP) once got the backend's empty ack signed as NODATA
// and cached under the QUERY key, then served for the apex SOA.
func TestNotifyPassesThrough(t *testing.T) {
	l, truth, keys := newTruthPlugin(t, trustZone(t))
	for _, op := range []int{dns.OpcodeNotify, dns.OpcodeUpdate, dns.OpcodeStatus, dns.OpcodeIQuery, 7} {
		r := doQuery("example.net.", dns.TypeSOA)
		r.Opcode = op
		rec := dnstest.NewRecorder(&test.ResponseWriter{})
		l.ServeDNS(context.Background(), rec, r)
		if m := rec.Msg; m != nil && sigsIn(m) != 0 { // the file plugin drops a NOTIFY: no reply at all
			n := sigsIn(m)
			t.Errorf("opcode %s: %d RRSIGs in the reply\n%s", dns.OpcodeToString[op], n, m)
		}
	}
	r := doQuery("example.net.", dns.TypeSOA)
	r.Question[0].Qclass = dns.ClassCHAOS
	if n := sigsIn(askMsg(t, l, r)); n != 0 {
		t.Errorf("class CH: %d RRSIGs", n)
	}
	m := askMsg(t, l, doQuery("example.net.", dns.TypeSOA))
	if len(m.Answer) != 2 || m.Answer[0].Header().Rrtype != dns.TypeSOA {
		t.Errorf("SOA after NOTIFY: want the signed SOA, got\n%s", m)
	}
	for _, p := range truth.checkReply(m, keys, testNow) {
		t.Error(p)
	}
}

// TestOutOfZoneDataNeverSigned: a chain that leaves the zone ends the
// zone's part of the answer: what comes back from outside, even names of
// the zone, goes out unsigned.
func TestOutOfZoneDataNeverSigned(t *testing.T) {
	l, _, _ := newTruthPlugin(t, trustZone(t))
	m := askMsg(t, l, doQuery("out.example.net.", dns.TypeA))
	signed := map[string]bool{}
	for _, rr := range m.Answer {
		if s, ok := rr.(*dns.RRSIG); ok {
			signed[strings.ToLower(s.Hdr.Name)+"/"+dns.TypeToString[s.TypeCovered]] = true
		}
	}
	if !signed["out.example.net./CNAME"] {
		t.Errorf("the zone's own CNAME is not signed\n%s", m)
	}
	if len(signed) != 1 {
		t.Errorf("signed %v: only out.example.net CNAME is the zone's\n%s", signed, m)
	}
}
