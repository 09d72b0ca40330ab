package test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
)

// cnameCutZone writes testdata/cname-cut.db with the glue of both children
// at glue and, when ds is not empty, the DS of secure.example.net replaced
// by ds (zone-file text, as `livesign ds` prints it). It returns the path.
func cnameCutZone(t *testing.T, glue, ds string) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/cname-cut.db")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 4 && f[0] == "secure" && f[2] == "DS" && ds != "":
			for _, l := range strings.Split(ds, "\n") {
				if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, ";") {
					continue
				}
				rr, err := dns.NewRR(l)
				if err != nil {
					t.Fatalf("DS %q: %v", l, err)
				}
				rr.Header().Ttl = 300
				out = append(out, rr.String())
			}
			continue
		case len(f) == 4 && strings.HasPrefix(f[0], "ns.") && f[2] == "A":
			line = fmt.Sprintf("%s IN A %s", f[0], glue)
		}
		out = append(out, line)
	}
	path := filepath.Join(t.TempDir(), "cname-cut.db")
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// loopbackAddr returns a random address in 127.0.0.0/8, other than
// 127.0.0.1, where nothing listens on port 53 (UDP and TCP) right now.
func loopbackAddr(t *testing.T) string {
	t.Helper()
	for range 50 {
		addr := fmt.Sprintf("127.%d.%d.%d", 100+rand.IntN(150), rand.IntN(256), 1+rand.IntN(254))
		pc, err := net.ListenPacket("udp", net.JoinHostPort(addr, "53"))
		if err != nil {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(addr, "53"))
		pc.Close()
		if err != nil {
			continue
		}
		l.Close()
		return addr
	}
	return ""
}

// ask sends name/qtype with RD, DO and EDNS 1232 to a resolver at addr and
// returns its answer, or nil when none came within timeout.
func ask(t *testing.T, addr, name string, qtype uint16, timeout time.Duration) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.RecursionDesired = true
	q.SetEdns0(1232, true)
	c := &dns.Client{Net: "udp", UDPSize: 1232, Timeout: timeout}
	r, _, err := c.Exchange(q, addr)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil
		}
		t.Fatalf("%s %s @%s: %v", name, dns.TypeToString[qtype], addr, err)
	}
	return r
}

// secureDenial tells whether m is a validated (AD) NXDOMAIN, or a validated
// NOERROR without an RRset of qtype at the end of its chain: a denial.
func secureDenial(m *dns.Msg, name string, qtype uint16) bool {
	if m == nil || !m.AuthenticatedData {
		return false
	}
	if m.Rcode == dns.RcodeNameError {
		return true
	}
	return m.Rcode == dns.RcodeSuccess && !hasRRset(m, name, qtype)
}

// hasRRset tells whether m answers qtype at the end of the CNAME chain
// that starts at name.
func hasRRset(m *dns.Msg, name string, qtype uint16) bool {
	end := dns.Fqdn(name)
	for i := 0; i < len(m.Answer) && qtype != dns.TypeCNAME; i++ {
		for _, rr := range m.Answer {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, end) {
				end = c.Target
			}
		}
	}
	for _, rr := range m.Answer {
		if h := rr.Header(); h.Rrtype == qtype && strings.EqualFold(h.Name, end) {
			return true
		}
	}
	return false
}

// checkParentAnswer asks the parent directly for name/qtype and checks the
// CNAME-into-delegation answer: the CNAME signed, a referral to cut in the
// authority section, and no NSEC below the cut (nor at it, but the cut's
// own NSEC with NS in its bitmap).
func checkParentAnswer(t *testing.T, server, name string, qtype uint16, cut string) {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.SetEdns0(1232, true)
	r, _, err := (&dns.Client{Net: "tcp", Timeout: 5 * time.Second}).Exchange(q, server)
	if err != nil {
		t.Fatalf("%s %s @%s: %v", name, dns.TypeToString[qtype], server, err)
	}
	var cname, cnameSig, ns bool
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *dns.CNAME:
			cname = true
		case *dns.RRSIG:
			cnameSig = cnameSig || rr.TypeCovered == dns.TypeCNAME
		}
	}
	for _, rr := range r.Ns {
		h := rr.Header()
		if h.Rrtype == dns.TypeNS && strings.EqualFold(h.Name, cut) {
			ns = true
		}
		if n, ok := rr.(*dns.NSEC); ok && dns.IsSubDomain(cut, n.Hdr.Name) {
			if !strings.EqualFold(n.Hdr.Name, cut) || !containsType(n.TypeBitMap, dns.TypeNS) {
				t.Errorf("%s %s: NSEC for a name in the child zone %s: %s", name, dns.TypeToString[qtype], cut, n)
			}
		}
	}
	if r.Rcode != dns.RcodeSuccess || !cname || !cnameSig || !ns {
		t.Errorf("%s %s: want NOERROR, the signed CNAME and a referral to %s, got\n%s", name, dns.TypeToString[qtype], cut, r)
	}
}

func containsType(ts []uint16, t uint16) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// TestEndToEndCNAMEIntoDelegation: a CNAME whose target lies below a zone
// cut inside the zone, for a signed child (DS) and an unsigned one. The
// parent's answer validates, and it does not deny anything in the child:
// asked afterwards for a name in the child, unbound (aggressive-nsec on)
// must not answer a validated NODATA or NXDOMAIN from the parent's NSEC.
func TestEndToEndCNAMEIntoDelegation(t *testing.T) {
	// Child unreachable: glue at a loopback address where nothing listens.
	t.Run("child-unreachable", func(t *testing.T) {
		glue := loopbackAddr(t)
		if glue == "" {
			glue = "192.0.2.54"
		}
		kf := livesignCeremony(t, "example.net", "ECDSAP256SHA256")
		kf.db = cnameCutZone(t, glue, "")
		server := startServer(t, "example.net", kf)
		checkParentAnswer(t, server, "tosecure.example.net.", dns.TypeA, "secure.example.net.")
		checkParentAnswer(t, server, "toinsecure.example.net.", dns.TypeA, "insecure.example.net.")
		checkParentAnswer(t, server, "chain.example.net.", dns.TypeAAAA, "secure.example.net.")
		// The old answer denied the child's data right away; now unbound
		// has to ask the child, which does not answer: SERVFAIL, or no
		// answer within the time we wait.
		u := validators.StartUnbound(t, "example.net.", server, kf.anchor)
		for _, q := range []struct{ chain, child string }{
			{"tosecure.example.net.", "www.secure.example.net."},
			{"toinsecure.example.net.", "www.insecure.example.net."},
		} {
			m := ask(t, u.Addr, q.chain, dns.TypeA, 5*time.Second)
			if secureDenial(m, q.chain, dns.TypeA) || m != nil && m.Rcode != dns.RcodeServerFailure {
				t.Errorf("unbound %s A: want SERVFAIL or no answer (the child cannot be reached), got\n%s", q.chain, m)
			}
			m = ask(t, u.Addr, q.child, dns.TypeAAAA, 5*time.Second)
			if secureDenial(m, q.child, dns.TypeAAAA) || m != nil && m.Rcode != dns.RcodeServerFailure {
				t.Errorf("unbound %s AAAA after %s A: want SERVFAIL or no answer, not a denial from the parent's NSEC, got\n%s", q.child, q.chain, m)
			}
		}
		// The CNAME itself validates. delv asks the parent only and cannot
		// follow the referral, but the CNAME it gets must validate and
		// nothing be denied.
		for _, name := range []string{"tosecure.example.net.", "toinsecure.example.net.", "chain.example.net."} {
			ok, out := validators.Delv(t, server, "example.net.", kf.anchor, name, dns.TypeA)
			if !ok || !strings.Contains(out, "\tCNAME\t") || strings.Contains(out, "negative response") {
				t.Errorf("delv %s A: want the CNAME validated and no denial\n%s", name, out)
			}
			if m := u.Query(t, name, dns.TypeCNAME); m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData || !hasRRset(m, name, dns.TypeCNAME) {
				t.Errorf("unbound %s CNAME: want the CNAME with AD, got\n%s", name, m)
			}
			if ok, out := validators.Delv(t, server, "example.net.", kf.anchor, name, dns.TypeCNAME); !ok {
				t.Errorf("delv %s CNAME: not validated\n%s", name, out)
			}
		}
		// The referral's proofs validate: DS of the signed child, its
		// absence for the unsigned one.
		for _, cut := range []string{"secure.example.net.", "insecure.example.net."} {
			if ok, out := validators.Delv(t, server, "example.net.", kf.anchor, cut, dns.TypeDS); !ok {
				t.Errorf("delv %s DS: not validated\n%s", cut, out)
			}
		}
	})

	// Child served: both children answer on port 53 of a loopback address,
	// secure.example.net signed by livesign under the DS in the parent.
	t.Run("child-served", func(t *testing.T) {
		child := livesignCeremony(t, "secure.example.net", "ECDSAP256SHA256")
		glue := startChildren(t, child)
		kf := livesignCeremony(t, "example.net", "ECDSAP256SHA256")
		kf.db = cnameCutZone(t, glue, child.anchor)
		server := startServer(t, "example.net", kf)
		checkParentAnswer(t, server, "tosecure.example.net.", dns.TypeA, "secure.example.net.")
		checkParentAnswer(t, server, "toinsecure.example.net.", dns.TypeA, "insecure.example.net.")

		u := validators.StartUnbound(t, "example.net.", server, kf.anchor)
		// A type the unsigned child lacks: an insecure NODATA from the
		// child, after the parent's proof that the child is unsigned.
		if m := u.Query(t, "toinsecure.example.net.", dns.TypeTXT); m.Rcode != dns.RcodeSuccess || m.AuthenticatedData || !hasRRset(m, "toinsecure.example.net.", dns.TypeCNAME) {
			t.Errorf("unbound toinsecure.example.net. TXT: want the CNAME and the child's NODATA without AD, got\n%s", m)
		}
		for _, tc := range []struct {
			name   string
			qtype  uint16
			secure bool
		}{
			{"tosecure.example.net.", dns.TypeA, true},
			{"www.secure.example.net.", dns.TypeAAAA, true}, // not denied by an NSEC of the parent
			{"chain.example.net.", dns.TypeAAAA, true},
			{"x.wcut.example.net.", dns.TypeA, true},
			{"www.secure.example.net.", dns.TypeA, true},
			{"toinsecure.example.net.", dns.TypeA, false},
			{"www.insecure.example.net.", dns.TypeAAAA, false},
			{"www.insecure.example.net.", dns.TypeA, false},
		} {
			m := u.Query(t, tc.name, tc.qtype)
			if m.Rcode != dns.RcodeSuccess || !hasRRset(m, tc.name, tc.qtype) || m.AuthenticatedData != tc.secure {
				t.Errorf("unbound %s %s: want the child's data with AD=%v, got\n%s", tc.name, dns.TypeToString[tc.qtype], tc.secure, m)
			}
		}
		// delv asks the parent only and cannot follow the referral, but the
		// CNAME it gets must validate and nothing be denied.
		for _, name := range []string{"tosecure.example.net.", "toinsecure.example.net.", "chain.example.net."} {
			ok, out := validators.Delv(t, server, "example.net.", kf.anchor, name, dns.TypeA)
			if !ok || !strings.Contains(out, "\tCNAME\t") || strings.Contains(out, "negative response") {
				t.Errorf("delv %s A: want the CNAME validated and no denial\n%s", name, out)
			}
		}
	})
}

// startChildren serves secure.example.net (signed with kf) and
// insecure.example.net (unsigned) on port 53 of a loopback address from
// loopbackAddr (another one if that was taken before CoreDNS bound it), each
// with www A and AAAA, and returns the address. It skips the test when no
// such address can be bound.
func startChildren(t *testing.T, kf keyFiles) string {
	t.Helper()
	dir := t.TempDir()
	anchor := filepath.Join(dir, "anchor.ds")
	if err := os.WriteFile(anchor, []byte(kf.anchor), 0o644); err != nil {
		t.Fatal(err)
	}
	var addr string
	startCoreDNS(t, func() string {
		if addr = loopbackAddr(t); addr == "" {
			t.Skip("cannot listen on port 53 of a loopback address (needs root or CAP_NET_BIND_SERVICE)")
		}
		return childrenCorefile(t, dir, addr, kf, anchor)
	})
	return addr
}

// childrenCorefile writes the children's zone files, with addr as the
// address of their name server, into dir and returns the Corefile serving
// them on addr:53.
func childrenCorefile(t *testing.T, dir, addr string, kf keyFiles, anchor string) string {
	t.Helper()
	for _, z := range []string{"secure", "insecure"} {
		db := fmt.Sprintf(`$ORIGIN %[1]s.example.net.
$TTL 300
@ IN SOA ns.%[1]s.example.net. hostmaster.%[1]s.example.net. 1 3600 600 864000 300
@ IN NS ns.%[1]s.example.net.
ns IN A %[2]s
www IN A 192.0.2.80
www IN AAAA 2001:db8::80
`, z, addr)
		if err := os.WriteFile(filepath.Join(dir, "db."+z), []byte(db), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return fmt.Sprintf(`secure.example.net:53 {
    bind %[1]s
    file %[2]s
    livesign secure.example.net {
        keys %[3]s
        bundle %[4]s
        trust-anchor %[5]s
    }
}
insecure.example.net:53 {
    bind %[1]s
    file %[6]s
}`, addr, filepath.Join(dir, "db.secure"), kf.keys, kf.bundle, anchor, filepath.Join(dir, "db.insecure"))
}

// TestEndToEndCNAMEToNonexistent: a CNAME to a name that does not exist
// (cnx -> gone) gets, at the chain's end, the same denial as a direct query
// for gone: NSEC with RRSIG NSEC NXNAME, NOERROR without CO and NXDOMAIN
// with it; validators accept both forms.
func TestEndToEndCNAMEToNonexistent(t *testing.T) {
	kf := livesignCeremony(t, "example.net", "ECDSAP256SHA256")
	server := startServer(t, "example.net", kf)

	direct := func(name string, co bool) (*dns.Msg, *dns.NSEC) {
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		q.SetEdns0(1232, true)
		if co {
			q.IsEdns0().SetCo()
		}
		r, _, err := (&dns.Client{Net: "tcp", Timeout: 5 * time.Second}).Exchange(q, server)
		if err != nil {
			t.Fatalf("%s A @%s: %v", name, server, err)
		}
		var nsec *dns.NSEC
		for _, rr := range r.Ns {
			if n, ok := rr.(*dns.NSEC); ok {
				if nsec != nil {
					t.Errorf("%s A: more than one NSEC:\n%s", name, r)
				}
				nsec = n
			}
		}
		if nsec == nil {
			t.Fatalf("%s A: no NSEC:\n%s", name, r)
		}
		return r, nsec
	}
	for _, co := range []bool{false, true} {
		want := dns.RcodeSuccess
		if co {
			want = dns.RcodeNameError
		}
		chain, cn := direct("cnx.example.net.", co)
		gone, gn := direct("gone.example.net.", co)
		if !strings.EqualFold(cn.Hdr.Name, "gone.example.net.") || !containsType(cn.TypeBitMap, 128) || cn.String() != gn.String() {
			t.Errorf("CO=%v: the chain's NSEC %s, want the direct query's %s", co, cn, gn)
		}
		if chain.Rcode != want || gone.Rcode != want {
			t.Errorf("CO=%v: rcode %s for the chain, %s for the direct query, want %s", co,
				dns.RcodeToString[chain.Rcode], dns.RcodeToString[gone.Rcode], dns.RcodeToString[want])
		}
	}

	plain := validators.StartUnbound(t, "example.net.", server, kf.anchor)
	withCO := validators.StartUnbound(t, "example.net.", coProxy(t, server), kf.anchor)
	for _, u := range []*validators.Unbound{plain, withCO} {
		// unbound 1.17 predates RFC 9824: under NXDOMAIN it may report
		// either rcode (see TestEndToEndCompactNXDOMAIN); AD is what counts.
		for _, name := range []string{"cnx.example.net.", "gone.example.net.", "cnx.example.net."} {
			m := u.Query(t, name, dns.TypeA)
			if m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError || !m.AuthenticatedData || hasRRset(m, name, dns.TypeA) {
				t.Errorf("unbound %s A: want a validated denial, got\n%s\n%s", name, m, u.Log())
			}
		}
	}
	for _, name := range []string{"cnx.example.net.", "gone.example.net."} {
		if ok, out := validators.Delv(t, server, "example.net.", kf.anchor, name, dns.TypeA); !ok {
			t.Errorf("delv %s A: not validated\n%s", name, out)
		}
	}
}
