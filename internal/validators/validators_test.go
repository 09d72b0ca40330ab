package validators

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/coredns/caddy"
	_ "github.com/coredns/coredns/core/plugin" // register the file plugin and friends
	"github.com/coredns/coredns/test"
	"github.com/miekg/dns"
)

const zone = "example.net."

// fixture is the ldns-made pre-signed zone (signatures valid 2026-11-01 .. 2027-11-01) and the
// DS of its KSK.
var fixture = filepath.Join("..", "..", "testdata", "ldns-classic")

// startSignedZone serves the pre-signed zone with CoreDNS's file plugin on one 127.0.0.1 port
// for UDP and TCP, and returns host:port.
func startSignedZone(t *testing.T) string {
	t.Helper()
	zoneFile, err := filepath.Abs(filepath.Join(fixture, "signed.zone"))
	if err != nil {
		t.Fatal(err)
	}
	return serveZone(t, zoneFile)
}

// serveZone serves zoneFile (absolute path) for example.net with the file plugin.
func serveZone(t *testing.T, zoneFile string) string {
	t.Helper()
	return serveZoneAs(t, zone, zoneFile)
}

// serveZoneAs serves zoneFile (absolute path) for origin with the file plugin.
func serveZoneAs(t *testing.T, origin, zoneFile string) string {
	t.Helper()
	var err error
	var inst *caddy.Instance
	var udp, tcp string
	for range 3 { // FreePort's port can be taken before CoreDNS binds it: retry with another
		corefile := fmt.Sprintf("%s:%d {\n bind 127.0.0.1\n file %s\n}\n", origin, FreePort(t), zoneFile)
		if inst, udp, tcp, err = test.CoreDNSServerAndPorts(corefile); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("starting CoreDNS: %v", err)
	}
	t.Cleanup(func() { inst.Stop() })
	if udp != tcp {
		t.Fatalf("CoreDNS listens on UDP %s and TCP %s, want one address", udp, tcp)
	}
	return udp
}

// anchors returns the good DS, the KSK's DNSKEY as an anchor, and a DS with a changed digest.
func anchors(t *testing.T) (ds, dnskey, badDS string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixture, "ksk.ds"))
	if err != nil {
		t.Fatal(err)
	}
	ds = strings.TrimSpace(string(b))
	rr, err := dns.NewRR(ds)
	if err != nil {
		t.Fatal(err)
	}
	bad := dns.Copy(rr).(*dns.DS)
	last := bad.Digest[len(bad.Digest)-1]
	bad.Digest = bad.Digest[:len(bad.Digest)-1] + map[bool]string{true: "1", false: "0"}[last == '0']
	badDS = bad.String()

	z, err := os.ReadFile(filepath.Join(fixture, "signed.zone"))
	if err != nil {
		t.Fatal(err)
	}
	zp := dns.NewZoneParser(strings.NewReader(string(z)), zone, "signed.zone")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if k, isKey := rr.(*dns.DNSKEY); isKey && k.Flags&dns.SEP != 0 {
			dnskey = k.String()
		}
	}
	if err := zp.Err(); err != nil || dnskey == "" {
		t.Fatalf("no KSK DNSKEY in signed.zone (%v)", err)
	}
	return ds, dnskey, badDS
}

func TestValidators(t *testing.T) {
	server := startSignedZone(t)
	ds, dnskey, badDS := anchors(t)

	type query struct {
		name  string
		qtype uint16
		rcode int // expected from unbound
		ad    bool
	}
	good := []query{
		{"www.example.net.", dns.TypeA, dns.RcodeSuccess, true},
		{"www.example.net.", dns.TypeTXT, dns.RcodeSuccess, true},    // NODATA, NSEC proof
		{"nope.example.net.", dns.TypeA, dns.RcodeNameError, true},   // NXDOMAIN, NSEC proof
		{"foo.wild.example.net.", dns.TypeA, dns.RcodeSuccess, true}, // wildcard expansion
		{"big.example.net.", dns.TypeTXT, dns.RcodeSuccess, true},    // large RRset
		{"alias.example.net.", dns.TypeA, dns.RcodeSuccess, true},    // CNAME chain in zone
		{"example.net.", dns.TypeDNSKEY, dns.RcodeSuccess, true},     // KSK-signed DNSKEY
		// A type neither tool knows by name: NODATA. (Not NXNAME, 128: unbound answers a query
		// for a meta type 128-255 with FORMERR itself.)
		{"www.example.net.", 65280, dns.RcodeSuccess, true},
	}
	var bogus []query
	for _, q := range good {
		bogus = append(bogus, query{q.name, q.qtype, dns.RcodeServerFailure, false})
	}

	tests := []struct {
		name    string
		anchor  string
		queries []query
	}{
		{"ds-anchor", ds, good},
		{"dnskey-anchor", dnskey, good},
		{"two-anchors-one-good", badDS + "\n" + ds, good},
		{"wrong-ds-digest", badDS, bogus},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := StartUnbound(t, zone, server, tc.anchor)
			for _, q := range tc.queries {
				t.Run(strings.TrimSuffix(q.name, ".")+"/"+dns.Type(q.qtype).String(), func(t *testing.T) {
					r := u.Query(t, q.name, q.qtype)
					if r.Rcode != q.rcode || r.AuthenticatedData != q.ad {
						t.Errorf("unbound: rcode %s AD %v, want %s AD %v\n%s",
							dns.RcodeToString[r.Rcode], r.AuthenticatedData, dns.RcodeToString[q.rcode], q.ad, r)
					}
					if q.rcode == dns.RcodeServerFailure {
						if e := ede(r); e == "" {
							t.Errorf("unbound: SERVFAIL without Extended DNS Error\n%s", r)
						} else {
							t.Logf("unbound EDE: %s", e)
						}
					}
					validated, out := Delv(t, server, zone, tc.anchor, q.name, q.qtype)
					if validated != q.ad {
						t.Errorf("delv: validated %v, want %v\n%s", validated, q.ad, out)
					}
				})
			}
		})
	}
}

// TestTamperedSignature serves the zone with one RRSIG corrupted: only that RRset is bogus.
func TestTamperedSignature(t *testing.T) {
	z, err := os.ReadFile(filepath.Join(fixture, "signed.zone"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	tampered := false
	for _, line := range strings.Split(string(z), "\n") {
		if rr, err := dns.NewRR(line); err == nil && rr != nil {
			if sig, ok := rr.(*dns.RRSIG); ok && sig.Hdr.Name == "www.example.net." && sig.TypeCovered == dns.TypeA {
				// Swap the first two base64 characters: still valid base64, wrong signature.
				b := []byte(sig.Signature)
				b[0], b[1] = b[1], b[0]
				sig.Signature = string(b)
				line = sig.String()
				tampered = true
			}
		}
		lines = append(lines, line)
	}
	if !tampered {
		t.Fatal("no RRSIG for www.example.net. A in signed.zone")
	}
	zoneFile := filepath.Join(t.TempDir(), "tampered.zone")
	if err := os.WriteFile(zoneFile, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	server := serveZone(t, zoneFile)
	ds, _, _ := anchors(t)
	u := StartUnbound(t, zone, server, ds)

	for _, tc := range []struct {
		name  string
		qtype uint16
		ok    bool
	}{
		{"www.example.net.", dns.TypeA, false},
		{"www.example.net.", dns.TypeAAAA, true},
		{"mail.example.net.", dns.TypeA, true},
	} {
		t.Run(strings.TrimSuffix(tc.name, ".")+"/"+dns.Type(tc.qtype).String(), func(t *testing.T) {
			r := u.Query(t, tc.name, tc.qtype)
			wantRcode := map[bool]int{true: dns.RcodeSuccess, false: dns.RcodeServerFailure}[tc.ok]
			if r.Rcode != wantRcode || r.AuthenticatedData != tc.ok {
				t.Errorf("unbound: rcode %s AD %v, want %s AD %v\n%s",
					dns.RcodeToString[r.Rcode], r.AuthenticatedData, dns.RcodeToString[wantRcode], tc.ok, r)
			}
			if validated, out := Delv(t, server, zone, ds, tc.name, tc.qtype); validated != tc.ok {
				t.Errorf("delv: validated %v, want %v\n%s", validated, tc.ok, out)
			} else if !tc.ok {
				t.Logf("delv on a bad signature:\n%s", out)
			}
		})
	}
}

// TestReservedTLD checks that a stub zone under a TLD unbound serves itself (test.) reaches the
// server: the answer is the server's (insecure: the anchor is for another zone), not unbound's
// own NXDOMAIN.
func TestReservedTLD(t *testing.T) {
	const testZone = "livesign.test."
	zoneFile := filepath.Join(t.TempDir(), "db.livesign.test")
	zoneText := testZone + ` 300 IN SOA ns1.livesign.test. hostmaster.livesign.test. 1 3600 600 864000 300
` + testZone + ` 300 IN NS ns1.livesign.test.
ns1.livesign.test. 300 IN A 127.0.0.1
www.livesign.test. 300 IN A 192.0.2.80
`
	if err := os.WriteFile(zoneFile, []byte(zoneText), 0o644); err != nil {
		t.Fatal(err)
	}
	server := serveZoneAs(t, testZone, zoneFile)
	ds, _, _ := anchors(t) // example.net's DS: no anchor covers livesign.test
	u := StartUnbound(t, testZone, server, ds)
	r := u.Query(t, "www.livesign.test.", dns.TypeA)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.AuthenticatedData {
		t.Fatalf("want the server's insecure A answer, got\n%s", r)
	}
}

// TestDelvOverTCP checks that extra arguments reach delv and that TCP works against the server.
func TestDelvOverTCP(t *testing.T) {
	server := startSignedZone(t)
	ds, _, _ := anchors(t)
	validated, out := Delv(t, server, zone, ds, "big.example.net.", dns.TypeTXT, "+tcp")
	if !validated {
		t.Fatalf("delv +tcp: not validated\n%s", out)
	}
}

// TestUnboundFlush checks that Flush restarts unbound on the same address with an empty cache.
func TestUnboundFlush(t *testing.T) {
	server := startSignedZone(t)
	ds, _, _ := anchors(t)
	u := StartUnbound(t, zone, server, ds)
	addr := u.Addr
	if r := u.Query(t, "www.example.net.", dns.TypeA); !r.AuthenticatedData {
		t.Fatalf("before Flush: no AD\n%s", r)
	}
	u.Flush(t)
	if u.Addr != addr {
		t.Fatalf("Flush moved unbound from %s to %s", addr, u.Addr)
	}
	r := u.Query(t, "www.example.net.", dns.TypeA)
	if !r.AuthenticatedData {
		t.Fatalf("after Flush: no AD\n%s", r)
	}
	// A fresh cache hands out the full TTL again.
	if len(r.Answer) == 0 || r.Answer[0].Header().Ttl != 300 {
		t.Errorf("after Flush: answer TTL not fresh\n%s", r)
	}
	if !strings.Contains(u.Log(), "restarted") {
		t.Errorf("Log does not show the restart:\n%s", u.Log())
	}
}

func TestRequire(t *testing.T) {
	if p := Require(t, "unbound"); !filepath.IsAbs(p) {
		t.Errorf("Require(unbound) = %q, want an absolute path", p)
	}
	t.Run("missing-skips-outside-CI", func(t *testing.T) {
		t.Setenv("CI", "")
		ran := false
		defer func() {
			if !t.Skipped() || ran {
				t.Errorf("Require of a missing tool did not skip (skipped=%v)", t.Skipped())
			}
		}()
		Require(t, "no-such-tool-"+strconv.Itoa(os.Getpid()))
		ran = true
	})
}

// ede returns the Extended DNS Error of r as "code: text", or "".
func ede(r *dns.Msg) string {
	if o := r.IsEdns0(); o != nil {
		for _, opt := range o.Option {
			if e, ok := opt.(*dns.EDNS0_EDE); ok {
				return fmt.Sprintf("%d (%s): %s", e.InfoCode, dns.ExtendedErrorCodeToString[e.InfoCode], e.ExtraText)
			}
		}
	}
	return ""
}

// TestKresd runs the fixture zone through Knot Resolver: AD on positive, NODATA and NXDOMAIN
// answers under a DS or DNSKEY anchor, SERVFAIL with an Extended DNS Error under a wrong DS,
// and no query to anything but the server under test.
func TestKresd(t *testing.T) {
	server := startSignedZone(t)
	ds, dnskey, badDS := anchors(t)

	type query struct {
		name  string
		qtype uint16
		rcode int
		ad    bool
	}
	good := []query{
		{"www.example.net.", dns.TypeA, dns.RcodeSuccess, true},
		{"www.example.net.", dns.TypeTXT, dns.RcodeSuccess, true},  // NODATA, NSEC proof
		{"nope.example.net.", dns.TypeA, dns.RcodeNameError, true}, // NXDOMAIN, NSEC proof
		// No wildcard expansion here: forwarding, kresd asks for the DS at every label below
		// the anchor (wild.example.net. DS, an empty non-terminal), and CoreDNS's file plugin
		// answers that NODATA with the SOA only, no NSEC: "bad NODATA proof", SERVFAIL, EDE 12.
		{"big.example.net.", dns.TypeTXT, dns.RcodeSuccess, true}, // large RRset: TC, then TCP
		{"alias.example.net.", dns.TypeA, dns.RcodeSuccess, true}, // CNAME chain in zone
		{"example.net.", dns.TypeDNSKEY, dns.RcodeSuccess, true},  // KSK-signed DNSKEY
		{"www.example.net.", 65280, dns.RcodeSuccess, true},       // private-use type: NODATA
	}
	var bogus []query
	for _, q := range good[:3] {
		bogus = append(bogus, query{q.name, q.qtype, dns.RcodeServerFailure, false})
	}

	for _, tc := range []struct {
		name    string
		anchor  string
		queries []query
	}{
		{"ds-anchor", ds, good},
		{"dnskey-anchor", dnskey, good},
		{"two-anchors-one-good", badDS + "\n" + ds, good},
		{"wrong-ds-digest", badDS, bogus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := StartKresd(t, zone, server, tc.anchor)
			for _, q := range tc.queries {
				t.Run(strings.TrimSuffix(q.name, ".")+"/"+dns.Type(q.qtype).String(), func(t *testing.T) {
					r := k.Query(t, q.name, q.qtype)
					if r.Rcode != q.rcode || r.AuthenticatedData != q.ad {
						t.Errorf("kresd: rcode %s AD %v, want %s AD %v\n%s",
							dns.RcodeToString[r.Rcode], r.AuthenticatedData, dns.RcodeToString[q.rcode], q.ad, r)
					}
					if q.rcode == dns.RcodeServerFailure {
						if e := ede(r); e == "" {
							t.Errorf("kresd: SERVFAIL without Extended DNS Error\n%s", r)
						} else {
							t.Logf("kresd EDE: %s", e)
						}
					}
				})
			}
			if tc.name == "wrong-ds-digest" && !strings.Contains(k.Log(), "validation failure") {
				t.Errorf("kresd logged no validation failure for a wrong DS:\n%s", k.Log())
			}
			want := strings.Replace(server, ":", "#", 1)
			if got := k.Contacted(); len(got) != 1 || got[0] != want {
				t.Errorf("kresd sent queries to %v, want only %s", got, want)
			}
		})
	}
}

// TestKresdOutsideZone checks that a name outside the forwarded zone is answered by kresd
// itself, without a query to anyone.
func TestKresdOutsideZone(t *testing.T) {
	server := startSignedZone(t)
	ds, _, _ := anchors(t)
	k := StartKresd(t, zone, server, ds)
	r := k.Query(t, "www.example.com.", dns.TypeA)
	if r.Rcode != dns.RcodeNameError || len(r.Answer) != 0 {
		t.Errorf("outside the zone: want kresd's own NXDOMAIN, got\n%s", r)
	}
	if got := k.Contacted(); len(got) != 0 {
		t.Errorf("kresd sent queries to %v for a name outside the zone", got)
	}
}

// TestBIND920 checks that BIND920 finds a dnssec-ksr that runs and is BIND 9.20 or later.
func TestBIND920(t *testing.T) {
	dir := BIND920(t)
	out, err := exec.Command(filepath.Join(dir, "dnssec-ksr"), "-V").CombinedOutput()
	if err != nil {
		t.Fatalf("%s/dnssec-ksr -V: %v\n%s", dir, err, out)
	}
	if !strings.HasPrefix(string(out), "dnssec-ksr 9.") || strings.HasPrefix(string(out), "dnssec-ksr 9.1") {
		t.Errorf("%s/dnssec-ksr -V = %q, want 9.20 or later", dir, out)
	}
	t.Logf("BIND920: %s: %s", dir, strings.TrimSpace(string(out)))

	t.Run("tools-dir-env", func(t *testing.T) {
		// A relative LIVESIGN_TOOLS_DIR is relative to the module root: ".tools" is the default.
		t.Setenv(ToolsDirEnv, ".tools")
		if got := BIND920(t); got != dir && !strings.HasSuffix(dir, filepath.Join(".tools", "bind920", "bin")) {
			t.Logf("with %s=.tools: %s (default lookup found %s)", ToolsDirEnv, got, dir)
		}
	})
	t.Run("missing-skips-outside-CI", func(t *testing.T) {
		t.Setenv("CI", "")
		t.Setenv(ToolsDirEnv, t.TempDir())
		t.Setenv("PATH", t.TempDir())
		root, err := moduleRoot()
		if err != nil {
			t.Fatal(err)
		}
		if runs(filepath.Join(root, ".tools", "bind920", "bin", "dnssec-ksr"), "-V") {
			t.Skip("the default tools directory has BIND 9.20: nothing is missing")
		}
		ran := false
		defer func() {
			if !t.Skipped() || ran {
				t.Errorf("BIND920 without BIND 9.20 did not skip")
			}
		}()
		BIND920(t)
		ran = true
	})
}

// TestKeymgr checks that Keymgr finds Knot's keymgr (in /usr/sbin, off a user's PATH).
func TestKeymgr(t *testing.T) {
	p := Keymgr(t)
	out, err := exec.Command(p, "-V").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Knot DNS") {
		t.Fatalf("%s -V: %v\n%s", p, err, out)
	}
	if k := KresdBin(t); !filepath.IsAbs(k) {
		t.Errorf("KresdBin = %q, want an absolute path", k)
	}
}
