package livesign

import (
	"context"
	"github.com/coredns/coredns/plugin"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/file"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"
	"github.com/livesign/livesign/config"
	"github.com/miekg/dns"
)

// testNow lies inside the validity of the ldns-classic fixture bundle.
var testNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// copyKeys copies a fixture key directory into a temp dir with the modes
// livesign demands (git keeps none).
func copyKeys(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func testConfig(t *testing.T) config.Config {
	cfg := config.Default("example.net.")
	cfg.Keys = copyKeys(t, "testdata/ldns-classic/zsk")
	cfg.Bundle = "testdata/ldns-classic/bundle.zone"
	cfg.TrustAnchor = "testdata/ldns-classic/ksk.ds"
	return cfg
}

// newTestPlugin returns livesign over the file plugin serving the fixture zone.
func newTestPlugin(t *testing.T) *Livesign {
	t.Helper()
	l, err := New([]config.Config{testConfig(t)}, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/zone.db")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := file.Parse(f, "example.net.", "db.example.net", 0)
	if err != nil {
		t.Fatal(err)
	}
	l.Next = file.File{Zones: file.Zones{Z: map[string]*file.Zone{"example.net.": z}, Names: []string{"example.net."}}}
	return l
}

type queryOpt struct {
	do, co, tcp bool
	size        uint16
}

func query(t *testing.T, l *Livesign, name string, qtype uint16, o queryOpt) *dns.Msg {
	t.Helper()
	r := new(dns.Msg)
	r.SetQuestion(dns.Fqdn(name), qtype)
	if o.size == 0 {
		o.size = 4096
	}
	r.SetEdns0(o.size, o.do)
	if o.co {
		r.IsEdns0().SetCo()
	}
	w := &test.ResponseWriter{}
	if o.tcp {
		w.TCP = true
	}
	rec := dnstest.NewRecorder(w)
	rcode, err := l.ServeDNS(context.Background(), rec, r)
	if err != nil {
		t.Fatalf("%s %s: %v", name, dns.TypeToString[qtype], err)
	}
	if rec.Msg == nil {
		t.Fatalf("%s %s: no reply", name, dns.TypeToString[qtype])
	}
	if !plugin.ClientWrite(rcode) {
		// CoreDNS's server then writes a reply of its own: a second one.
		t.Errorf("%s %s: wrote a reply and returned rcode %s, after which CoreDNS writes another", name, dns.TypeToString[qtype], dns.RcodeToString[rcode])
	}
	return rec.Msg
}

// verifySections checks that every in-zone RRset in answer and authority,
// except delegation NS, carries an RRSIG that verifies with one of keys and
// is valid at testNow, and that no RRSIG is left over.
func verifySections(t *testing.T, m *dns.Msg, zone string, keys []dns.RR) {
	t.Helper()
	verifySectionsAt(t, m, zone, keys, testNow)
}

// verifySectionsAt is verifySections at the instant at.
func verifySectionsAt(t *testing.T, m *dns.Msg, zone string, keys []dns.RR, at time.Time) {
	t.Helper()
	for _, sec := range [][]dns.RR{m.Answer, m.Ns} {
		var sigs []*dns.RRSIG
		for _, rr := range sec {
			if s, ok := rr.(*dns.RRSIG); ok {
				sigs = append(sigs, s)
			}
		}
		for _, set := range rrsets(strip(sec)) {
			h := set[0].Header()
			if !dns.IsSubDomain(zone, h.Name) || (h.Rrtype == dns.TypeNS && !strings.EqualFold(h.Name, zone)) {
				continue
			}
			ok := false
			for _, s := range sigs {
				if s.TypeCovered != h.Rrtype || !strings.EqualFold(s.Hdr.Name, h.Name) {
					continue
				}
				for _, k := range keys {
					k := k.(*dns.DNSKEY)
					if k.KeyTag() != s.KeyTag {
						continue
					}
					if err := s.Verify(k, set); err != nil {
						t.Errorf("RRSIG over %s %s does not verify: %v", h.Name, dns.TypeToString[h.Rrtype], err)
					} else if !s.ValidityPeriod(at) {
						t.Errorf("RRSIG over %s %s not valid at %s", h.Name, dns.TypeToString[h.Rrtype], at)
					} else if s.OrigTtl != h.Ttl {
						t.Errorf("RRSIG over %s %s: OrigTTL %d, RRset TTL %d", h.Name, dns.TypeToString[h.Rrtype], s.OrigTtl, h.Ttl)
					} else {
						ok = true
					}
				}
			}
			if !ok {
				t.Errorf("no valid RRSIG over %s %s in\n%s", h.Name, dns.TypeToString[h.Rrtype], m)
			}
		}
	}
}

func findNSEC(m *dns.Msg, owner string) *dns.NSEC {
	for _, rr := range m.Ns {
		if n, ok := rr.(*dns.NSEC); ok && strings.EqualFold(n.Hdr.Name, owner) {
			return n
		}
	}
	return nil
}

func TestServeSigned(t *testing.T) {
	l := newTestPlugin(t)
	ks, err := l.zones[0].Keys(testNow)
	if err != nil {
		t.Fatal(err)
	}
	keys := ks.DNSKEY
	do := queryOpt{do: true}
	tests := []struct {
		name    string
		qtype   uint16
		o       queryOpt
		rcode   int
		answers int      // RRs of qtype (or CNAME) in the answer
		nsec    string   // owner of the expected NSEC, if any
		bitmap  []uint16 // its expected bitmap
	}{
		{"www.example.net.", dns.TypeA, do, dns.RcodeSuccess, 1, "", nil},
		{"www.example.net.", dns.TypeAAAA, do, dns.RcodeSuccess, 1, "", nil},
		{"example.net.", dns.TypeMX, do, dns.RcodeSuccess, 1, "", nil},
		{"example.net.", dns.TypeTXT, do, dns.RcodeSuccess, 1, "", nil},
		{"example.net.", dns.TypeNS, do, dns.RcodeSuccess, 1, "", nil},
		{"example.net.", dns.TypeSOA, do, dns.RcodeSuccess, 1, "", nil},
		{"alias.example.net.", dns.TypeA, do, dns.RcodeSuccess, 2, "", nil},
		{"nope.example.net.", dns.TypeA, do, dns.RcodeSuccess, 0, "nope.example.net.", []uint16{dns.TypeRRSIG, dns.TypeNSEC, TypeNXNAME}},
		{"nope.example.net.", dns.TypeA, queryOpt{do: true, co: true}, dns.RcodeNameError, 0, "nope.example.net.", []uint16{dns.TypeRRSIG, dns.TypeNSEC, TypeNXNAME}},
		{"deep.nope.example.net.", dns.TypeTXT, do, dns.RcodeSuccess, 0, "deep.nope.example.net.", []uint16{dns.TypeRRSIG, dns.TypeNSEC, TypeNXNAME}},
		{"www.example.net.", dns.TypeMX, do, dns.RcodeSuccess, 0, "www.example.net.", []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeRRSIG, dns.TypeNSEC}},
		{"example.net.", dns.TypeA, do, dns.RcodeSuccess, 0, "example.net.", []uint16{dns.TypeNS, dns.TypeSOA, dns.TypeMX, dns.TypeTXT, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeDNSKEY}},
		{"ent.example.net.", dns.TypeA, do, dns.RcodeSuccess, 0, "ent.example.net.", []uint16{dns.TypeRRSIG, dns.TypeNSEC}},
		// ANY gets the same denials: compact NXDOMAIN, NODATA at an empty non-terminal.
		{"nope.example.net.", dns.TypeANY, do, dns.RcodeSuccess, 0, "nope.example.net.", []uint16{dns.TypeRRSIG, dns.TypeNSEC, TypeNXNAME}},
		{"nope.example.net.", dns.TypeANY, queryOpt{do: true, co: true}, dns.RcodeNameError, 0, "nope.example.net.", []uint16{dns.TypeRRSIG, dns.TypeNSEC, TypeNXNAME}},
		{"ent.example.net.", dns.TypeANY, do, dns.RcodeSuccess, 0, "ent.example.net.", []uint16{dns.TypeRRSIG, dns.TypeNSEC}},
		{"x.wild.example.net.", dns.TypeMX, do, dns.RcodeSuccess, 0, "x.wild.example.net.", []uint16{dns.TypeA, dns.TypeTXT, dns.TypeRRSIG, dns.TypeNSEC}},
		{"secure.example.net.", dns.TypeDS, do, dns.RcodeSuccess, 1, "", nil},
		{"insecure.example.net.", dns.TypeDS, do, dns.RcodeSuccess, 0, "insecure.example.net.", []uint16{dns.TypeNS, dns.TypeRRSIG, dns.TypeNSEC}},
		{"host.insecure.example.net.", dns.TypeA, do, dns.RcodeSuccess, 0, "insecure.example.net.", []uint16{dns.TypeNS, dns.TypeRRSIG, dns.TypeNSEC}},
		{"host.secure.example.net.", dns.TypeA, do, dns.RcodeSuccess, 0, "", nil},
		{"example.net.", dns.TypeDNSKEY, do, dns.RcodeSuccess, 2, "", nil},
		{"big.example.net.", dns.TypeTXT, queryOpt{do: true, tcp: true}, dns.RcodeSuccess, 1, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/"+dns.TypeToString[tc.qtype], func(t *testing.T) {
			m := query(t, l, tc.name, tc.qtype, tc.o)
			if m.Rcode != tc.rcode {
				t.Fatalf("rcode %s, want %s\n%s", dns.RcodeToString[m.Rcode], dns.RcodeToString[tc.rcode], m)
			}
			n := 0
			for _, rr := range m.Answer {
				if t := rr.Header().Rrtype; t == tc.qtype || t == dns.TypeCNAME {
					n++
				}
			}
			if n != tc.answers {
				t.Errorf("%d answers, want %d\n%s", n, tc.answers, m)
			}
			verifySections(t, m, "example.net.", keys)
			if tc.nsec != "" {
				nsec := findNSEC(m, tc.nsec)
				if nsec == nil {
					t.Fatalf("no NSEC at %s\n%s", tc.nsec, m)
				}
				if nsec.NextDomain != `\000.`+tc.nsec {
					t.Errorf("NSEC next = %s", nsec.NextDomain)
				}
				want := bitmap(tc.bitmap)
				if !slices.Equal(nsec.TypeBitMap, want) {
					t.Errorf("bitmap %v, want %v", typeNames(nsec.TypeBitMap), typeNames(want))
				}
				if slices.Contains(nsec.TypeBitMap, tc.qtype) {
					t.Errorf("bitmap lists the queried type %s", dns.TypeToString[tc.qtype])
				}
			}
			if tc.o.co {
				if o := m.IsEdns0(); o == nil || !o.Co() {
					t.Errorf("CO flag not echoed")
				}
			} else if o := m.IsEdns0(); o != nil && o.Co() {
				t.Errorf("CO flag set without CO in the query")
			}
		})
	}
}

func TestWildcardAnswer(t *testing.T) {
	l := newTestPlugin(t)
	ks, _ := l.zones[0].Keys(testNow)
	m := query(t, l, "a.b.wild.example.net.", dns.TypeA, queryOpt{do: true})
	verifySections(t, m, "example.net.", ks.DNSKEY)
	var sig *dns.RRSIG
	for _, rr := range m.Answer {
		if s, ok := rr.(*dns.RRSIG); ok {
			sig = s
		}
	}
	if sig == nil || sig.Labels != 3 || sig.Hdr.Name != "a.b.wild.example.net." {
		t.Fatalf("want an RRSIG at the query name with 3 labels (*.wild.example.net), got %v", sig)
	}
	var cover *dns.NSEC
	for _, rr := range m.Ns {
		if n, ok := rr.(*dns.NSEC); ok {
			cover = n
		}
	}
	// It must cover the next closer name b.wild.example.net, and so the query name below it.
	for _, n := range []string{"b.wild.example.net.", "a.b.wild.example.net."} {
		if cover == nil || !canonicalLess(cover.Hdr.Name, n) || !canonicalLess(n, cover.NextDomain) {
			t.Fatalf("want an NSEC covering %s, got %v", n, cover)
		}
	}
	if !canonicalLess("a.wild.example.net.", cover.Hdr.Name) || !canonicalLess(cover.NextDomain, "b0.wild.example.net.") {
		t.Errorf("NSEC %s..%s covers more than the query name", cover.Hdr.Name, cover.NextDomain)
	}
}

func TestNoDOPassesThrough(t *testing.T) {
	l := newTestPlugin(t)
	m := query(t, l, "www.example.net.", dns.TypeA, queryOpt{})
	for _, rr := range append(m.Answer, m.Ns...) {
		if rr.Header().Rrtype == dns.TypeRRSIG || rr.Header().Rrtype == dns.TypeNSEC {
			t.Fatalf("DNSSEC record in a reply to a query without DO: %s", rr)
		}
	}
	m = query(t, l, "nope.example.net.", dns.TypeA, queryOpt{})
	if m.Rcode != dns.RcodeNameError {
		t.Errorf("without DO NXDOMAIN stays NXDOMAIN, got %s", dns.RcodeToString[m.Rcode])
	}
	m = query(t, l, "example.net.", dns.TypeDNSKEY, queryOpt{})
	if len(m.Answer) != 2 {
		t.Errorf("DNSKEY without DO: %d records, want the 2 keys", len(m.Answer))
	}
}

func TestNXNAMEQueryIsFormErr(t *testing.T) {
	l := newTestPlugin(t)
	m := query(t, l, "www.example.net.", TypeNXNAME, queryOpt{do: true})
	if m.Rcode != dns.RcodeFormatError {
		t.Fatalf("rcode %s, want FORMERR", dns.RcodeToString[m.Rcode])
	}
}

func TestTruncation(t *testing.T) {
	l := newTestPlugin(t)
	m := query(t, l, "big.example.net.", dns.TypeTXT, queryOpt{do: true, size: 1232})
	if !m.Truncated {
		t.Fatalf("reply of %d bytes over a 1232-byte UDP buffer is not truncated", m.Len())
	}
	if len(m.Answer)+len(m.Ns) != 0 {
		t.Errorf("truncated reply still carries %d RRs", len(m.Answer)+len(m.Ns))
	}
	m = query(t, l, "www.example.net.", dns.TypeA, queryOpt{do: true, size: 1232})
	if m.Truncated {
		t.Errorf("small reply truncated")
	}
}

func TestBackendMessageNotMutated(t *testing.T) {
	l := newTestPlugin(t)
	var seen *dns.Msg
	var copyOf *dns.Msg
	next := l.Next
	l.Next = handlerFunc(func(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
		rec := dnstest.NewRecorder(w)
		rc, err := next.ServeDNS(ctx, rec, r)
		seen, copyOf = rec.Msg, rec.Msg.Copy()
		w.WriteMsg(rec.Msg)
		return rc, err
	})
	query(t, l, "nope.example.net.", dns.TypeA, queryOpt{do: true})
	if seen.String() != copyOf.String() {
		t.Fatalf("backend message changed:\n%s\nwas\n%s", seen, copyOf)
	}
}
