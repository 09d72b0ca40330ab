package livesign

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/file"
	"github.com/coredns/coredns/plugin/pkg/nonwriter"
	"github.com/coredns/coredns/request"
	"github.com/livesign/livesign/config"
	"github.com/miekg/dns"
)

// selfUpstream resolves the file plugin's CNAME targets through livesign
// and the file plugin again, as upstream.Upstream does in a running server
// (the query keeps its EDNS, DO and CO).
type selfUpstream struct{ l *Livesign }

func (u selfUpstream) Lookup(ctx context.Context, state request.Request, name string, typ uint16) (*dns.Msg, error) {
	req := state.NewWithQuestion(name, typ)
	nw := nonwriter.New(state.W)
	if _, err := u.l.ServeDNS(ctx, nw, req.Req); err != nil {
		return nil, err
	}
	return nw.Msg, nil
}

// newTestPluginDB returns livesign over the file plugin serving the zone
// file db for example.net, with CNAME targets resolved as in a server.
func newTestPluginDB(t *testing.T, db string) *Livesign {
	t.Helper()
	l, err := New([]config.Config{testConfig(t)}, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := file.Parse(f, "example.net.", db, 0)
	if err != nil {
		t.Fatal(err)
	}
	z.Upstream = selfUpstream{l}
	l.Next = file.File{Zones: file.Zones{Z: map[string]*file.Zone{"example.net.": z}, Names: []string{"example.net."}}}
	return l
}

// cuts are the delegations in testdata/cname-cut.db, and whether each has a DS.
var cuts = map[string]bool{"secure.example.net.": true, "insecure.example.net.": false}

// checkNoNSECBelowCuts fails when m carries an NSEC owned by a name below a
// zone cut, or at a cut without being the cut's own NSEC (NS in the
// bitmap): the parent is not authoritative for those names.
func checkNoNSECBelowCuts(t *testing.T, m *dns.Msg) {
	t.Helper()
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, n := range nsecIn(sec) {
			for cut := range cuts {
				switch {
				case strings.EqualFold(n.Hdr.Name, cut):
					if !slices.Contains(n.TypeBitMap, dns.TypeNS) {
						t.Errorf("NSEC at the cut %s without NS in its bitmap: %s", cut, n)
					}
				case dns.IsSubDomain(cut, n.Hdr.Name):
					t.Errorf("NSEC below the zone cut %s, which the parent is not authoritative for: %s", cut, n)
				}
			}
		}
	}
}

// referralPart returns the authority section of m without RRSIGs, as
// strings, and the types the RRSIGs there cover, by owner.
func referralPart(m *dns.Msg) ([]string, []string) {
	var rrs, sigs []string
	for _, rr := range m.Ns {
		if s, ok := rr.(*dns.RRSIG); ok {
			sigs = append(sigs, strings.ToLower(s.Hdr.Name)+" "+dns.TypeToString[s.TypeCovered])
			continue
		}
		rrs = append(rrs, rr.String())
	}
	slices.Sort(rrs)
	slices.Sort(sigs)
	return rrs, sigs
}

// TestCNAMEIntoDelegation: a CNAME whose target lies at or below a zone cut
// gets the signed CNAME and the referral, signed as a direct query below
// the cut would get it (NS unsigned, DS signed, or the cut's NSEC proving
// there is no DS), and never an NSEC for a name in the child zone.
func TestCNAMEIntoDelegation(t *testing.T) {
	l := newTestPluginDB(t, "testdata/cname-cut.db")
	ks, _ := l.zones[0].Keys(testNow)
	tests := []struct {
		name   string
		qtype  uint16
		o      queryOpt
		cut    string
		direct string // a name below the cut, asked directly for comparison
		cnames int
	}{
		{"tosecure.example.net.", dns.TypeA, queryOpt{do: true}, "secure.example.net.", "www.secure.example.net.", 1},
		{"tosecure.example.net.", dns.TypeAAAA, queryOpt{do: true, co: true}, "secure.example.net.", "www.secure.example.net.", 1},
		{"tosecure.example.net.", dns.TypeDS, queryOpt{do: true}, "secure.example.net.", "www.secure.example.net.", 1},
		{"tosecure.example.net.", dns.TypeANY, queryOpt{do: true}, "secure.example.net.", "www.secure.example.net.", 1},
		{"tosecure.example.net.", dns.TypeNSEC, queryOpt{do: true}, "secure.example.net.", "www.secure.example.net.", 1},
		{"toinsecure.example.net.", dns.TypeA, queryOpt{do: true}, "insecure.example.net.", "www.insecure.example.net.", 1},
		{"toinsecure.example.net.", dns.TypeMX, queryOpt{do: true, co: true}, "insecure.example.net.", "www.insecure.example.net.", 1},
		{"chain.example.net.", dns.TypeA, queryOpt{do: true}, "secure.example.net.", "www.secure.example.net.", 2},
		{"tocut.example.net.", dns.TypeA, queryOpt{do: true}, "secure.example.net.", "secure.example.net.", 1},
		{"toinsecurecut.example.net.", dns.TypeTXT, queryOpt{do: true}, "insecure.example.net.", "insecure.example.net.", 1},
		{"x.wcut.example.net.", dns.TypeA, queryOpt{do: true}, "secure.example.net.", "www.secure.example.net.", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/"+dns.TypeToString[tc.qtype], func(t *testing.T) {
			m := query(t, l, tc.name, tc.qtype, tc.o)
			if m.Rcode != dns.RcodeSuccess {
				t.Fatalf("rcode %s, want NOERROR\n%s", dns.RcodeToString[m.Rcode], m)
			}
			verifySections(t, m, "example.net.", ks.DNSKEY)
			checkNoNSECBelowCuts(t, m)

			var cnames int
			for _, rr := range m.Answer {
				switch rr.Header().Rrtype {
				case dns.TypeCNAME:
					cnames++
				case dns.TypeRRSIG:
				default:
					t.Errorf("answer holds %s", rr)
				}
			}
			if cnames != tc.cnames {
				t.Errorf("%d CNAMEs in the answer, want %d\n%s", cnames, tc.cnames, m)
			}
			if c := cnameChain(tc.name, dns.TypeA, strip(m.Answer)); !dns.IsSubDomain(tc.cut, c[len(c)-1]) {
				end := c[len(c)-1]
				t.Fatalf("chain ends at %s, not at or below %s", end, tc.cut)
			}

			// The referral: NS at the cut (unsigned), and DS signed or the
			// cut's NSEC with NS in the bitmap, as for a direct query.
			var ns, ds, soa int
			for _, rr := range m.Ns {
				h := rr.Header()
				switch h.Rrtype {
				case dns.TypeNS:
					ns++
					if !strings.EqualFold(h.Name, tc.cut) {
						t.Errorf("NS in the authority section at %s, want %s", h.Name, tc.cut)
					}
				case dns.TypeDS:
					ds++
				case dns.TypeSOA:
					soa++
				case dns.TypeRRSIG:
					if s := rr.(*dns.RRSIG); s.TypeCovered == dns.TypeNS {
						t.Errorf("the delegation NS is signed: %s", s)
					}
				}
			}
			if ns == 0 || soa != 0 {
				t.Errorf("want a referral to %s (NS, no SOA), got\n%s", tc.cut, m)
			}
			if cuts[tc.cut] {
				if ds == 0 {
					t.Errorf("no DS for the signed child %s\n%s", tc.cut, m)
				}
			} else {
				n := findNSEC(m, tc.cut)
				if n == nil {
					t.Fatalf("no NSEC at %s proving the child unsigned\n%s", tc.cut, m)
				}
				if want := bitmap([]uint16{dns.TypeNS}, dns.TypeRRSIG, dns.TypeNSEC); !slices.Equal(n.TypeBitMap, want) {
					t.Errorf("NSEC at the cut: bitmap %v, want %v", typeNames(n.TypeBitMap), typeNames(want))
				}
			}
			if !strings.HasPrefix(tc.name, "x.wcut.") {
				for _, n := range nsecIn(m.Ns) {
					if !strings.EqualFold(n.Hdr.Name, tc.cut) {
						t.Errorf("NSEC other than the cut's own: %s", n)
					}
				}
			}

			// The same referral as a direct query below the cut gets.
			d := query(t, l, tc.direct, tc.qtype, tc.o)
			if got, want := fmtParts(referralPart(m)), fmtParts(referralPart(d)); got != want {
				t.Errorf("authority section differs from the direct referral for %s:\n%s\nwant\n%s", tc.direct, got, want)
			}
		})
	}
}

func fmtParts(rrs, sigs []string) string {
	var out []string
	for _, s := range rrs {
		// Drop the wildcard proof: a direct query has none.
		if strings.Contains(s, "wcut.example.net.") {
			continue
		}
		out = append(out, s)
	}
	for _, s := range sigs {
		if strings.Contains(s, "wcut.example.net.") {
			continue
		}
		out = append(out, "RRSIG over "+s)
	}
	return strings.Join(out, "\n")
}

// TestCNAMEToCut: asked for DS, a CNAME to a cut gets the parent's data
// there: the signed DS, or a NODATA whose NSEC is the cut's own.
func TestCNAMEToCut(t *testing.T) {
	l := newTestPluginDB(t, "testdata/cname-cut.db")
	ks, _ := l.zones[0].Keys(testNow)
	m := query(t, l, "tocut.example.net.", dns.TypeDS, queryOpt{do: true})
	verifySections(t, m, "example.net.", ks.DNSKEY)
	checkNoNSECBelowCuts(t, m)
	var ds int
	for _, rr := range m.Answer {
		if rr.Header().Rrtype == dns.TypeDS && strings.EqualFold(rr.Header().Name, "secure.example.net.") {
			ds++
		}
	}
	if m.Rcode != dns.RcodeSuccess || ds != 1 || len(nsecIn(m.Ns)) != 0 {
		t.Errorf("tocut DS: want the CNAME and the signed DS, got\n%s", m)
	}

	m = query(t, l, "toinsecurecut.example.net.", dns.TypeDS, queryOpt{do: true})
	verifySections(t, m, "example.net.", ks.DNSKEY)
	checkNoNSECBelowCuts(t, m)
	n := findNSEC(m, "insecure.example.net.")
	if m.Rcode != dns.RcodeSuccess || n == nil || len(nsecIn(m.Ns)) != 1 {
		t.Fatalf("toinsecurecut DS: want NODATA with the cut's NSEC, got\n%s", m)
	}
	if want := bitmap([]uint16{dns.TypeNS}, dns.TypeRRSIG, dns.TypeNSEC); !slices.Equal(n.TypeBitMap, want) {
		t.Errorf("bitmap %v, want %v", typeNames(n.TypeBitMap), typeNames(want))
	}
}

// TestCNAMEToNonexistent: a CNAME chain that ends in a name that does not
// exist gets the same denial as a direct query for that name: an NSEC with
// RRSIG NSEC NXNAME, NOERROR without CO and NXDOMAIN with it (the rcode of
// a chain follows its last name). A chain ending at an empty non-terminal
// stays a NODATA.
func TestCNAMEToNonexistent(t *testing.T) {
	nx := bitmap([]uint16{TypeNXNAME}, dns.TypeRRSIG, dns.TypeNSEC)
	ent := bitmap(nil, dns.TypeRRSIG, dns.TypeNSEC)
	tests := []struct {
		db     string
		name   string
		qtype  uint16
		o      queryOpt
		rcode  int
		target string
		bitmap []uint16
	}{
		{"testdata/zone.db", "cnx.example.net.", dns.TypeA, queryOpt{do: true}, dns.RcodeSuccess, "gone.example.net.", nx},
		{"testdata/zone.db", "cnx.example.net.", dns.TypeA, queryOpt{do: true, co: true}, dns.RcodeNameError, "gone.example.net.", nx},
		{"testdata/zone.db", "cnx.example.net.", dns.TypeMX, queryOpt{do: true}, dns.RcodeSuccess, "gone.example.net.", nx},
		{"testdata/zone.db", "cnx.example.net.", dns.TypeANY, queryOpt{do: true}, dns.RcodeSuccess, "gone.example.net.", nx},
		{"testdata/zone.db", "cnodata.example.net.", dns.TypeMX, queryOpt{do: true}, dns.RcodeSuccess, "www.example.net.", bitmap([]uint16{dns.TypeA, dns.TypeAAAA}, dns.TypeRRSIG, dns.TypeNSEC)},
		{"testdata/cname-cut.db", "cnx.example.net.", dns.TypeAAAA, queryOpt{do: true}, dns.RcodeSuccess, "gone.example.net.", nx},
		{"testdata/cname-cut.db", "cnxdeep.example.net.", dns.TypeA, queryOpt{do: true}, dns.RcodeSuccess, "deep.gone.example.net.", nx},
		{"testdata/cname-cut.db", "cnxdeep.example.net.", dns.TypeA, queryOpt{do: true, co: true}, dns.RcodeNameError, "deep.gone.example.net.", nx},
		{"testdata/cname-cut.db", "toent.example.net.", dns.TypeA, queryOpt{do: true}, dns.RcodeSuccess, "ent.example.net.", ent},
		{"testdata/cname-cut.db", "toent.example.net.", dns.TypeA, queryOpt{do: true, co: true}, dns.RcodeSuccess, "ent.example.net.", ent},
	}
	for _, tc := range tests {
		co := ""
		if tc.o.co {
			co = "/CO"
		}
		t.Run(tc.db+"/"+tc.name+"/"+dns.TypeToString[tc.qtype]+co, func(t *testing.T) {
			l := newTestPluginDB(t, tc.db)
			ks, _ := l.zones[0].Keys(testNow)
			// Twice: the second answer may come from the caches.
			for range 2 {
				m := query(t, l, tc.name, tc.qtype, tc.o)
				if m.Rcode != tc.rcode {
					t.Errorf("rcode %s, want %s\n%s", dns.RcodeToString[m.Rcode], dns.RcodeToString[tc.rcode], m)
				}
				verifySections(t, m, "example.net.", ks.DNSKEY)
				if len(m.Answer) != 2 || m.Answer[0].Header().Rrtype != dns.TypeCNAME {
					t.Errorf("want the signed CNAME as the answer, got\n%s", m)
				}
				nsecs := nsecIn(m.Ns)
				if len(nsecs) != 1 || !strings.EqualFold(nsecs[0].Hdr.Name, tc.target) {
					t.Fatalf("want one NSEC, at %s, got\n%s", tc.target, m)
				}
				if !slices.Equal(nsecs[0].TypeBitMap, tc.bitmap) {
					t.Errorf("bitmap %v, want %v", typeNames(nsecs[0].TypeBitMap), typeNames(tc.bitmap))
				}
				if o := m.IsEdns0(); o == nil || o.Co() != tc.o.co {
					t.Errorf("CO flag echoed wrongly:\n%s", m)
				}

				// The direct query for the chain's end gets the same NSEC.
				d := query(t, l, tc.target, tc.qtype, tc.o)
				dn := nsecIn(d.Ns)
				if len(dn) != 1 || dn[0].String() != nsecs[0].String() {
					t.Errorf("the chain's denial differs from the direct one:\n%s\ndirect:\n%s", m, d)
				}
				if d.Rcode != m.Rcode {
					t.Errorf("rcode %s, direct query %s", dns.RcodeToString[m.Rcode], dns.RcodeToString[d.Rcode])
				}
			}
		})
	}
}

// TestCNAMEQueryIsData: asked for type CNAME, a name that owns a CNAME gets
// it as data: the chain is not followed, so nothing is denied at its
// target (which may own data, or a CNAME of its own).
func TestCNAMEQueryIsData(t *testing.T) {
	for _, tc := range []struct{ db, name string }{
		{"testdata/zone.db", "alias.example.net."},
		{"testdata/zone.db", "cnx.example.net."},
		{"testdata/cname-cut.db", "chain.example.net."},
		{"testdata/cname-cut.db", "tosecure.example.net."},
		{"testdata/cname-cut.db", "x.wcut.example.net."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newTestPluginDB(t, tc.db)
			ks, _ := l.zones[0].Keys(testNow)
			for _, o := range []queryOpt{{do: true}, {do: true, co: true}} {
				m := query(t, l, tc.name, dns.TypeCNAME, o)
				verifySections(t, m, "example.net.", ks.DNSKEY)
				if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 2 || m.Answer[0].Header().Rrtype != dns.TypeCNAME {
					t.Errorf("want NOERROR with the signed CNAME, got\n%s", m)
				}
				for _, n := range nsecIn(m.Ns) {
					if !strings.HasPrefix(tc.name, "x.wcut.") {
						t.Errorf("NSEC in a positive answer: %s", n)
					} else if canonicalLess(tc.name, n.Hdr.Name) || !canonicalLess(tc.name, n.NextDomain) {
						t.Errorf("the wildcard proof %s does not cover %s", n, tc.name)
					}
				}
			}
		})
	}
}
