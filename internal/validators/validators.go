// Package validators lets end-to-end tests ask real validating resolvers (unbound, BIND's delv,
// Knot Resolver's kresd) whether the answers of a DNS server on 127.0.0.1 validate under a given
// trust anchor, and finds the other tools the interop tests run (Keymgr, BIND920 for BIND 9.20's
// dnssec-ksr).
//
// The tools come from Debian packages, BIND 9.20 from bookworm-backports unpacked into the
// project's .tools directory (scripts/install-test-tools.sh installs them all). A test that
// needs one calls Require (StartUnbound, StartKresd, Delv, Keymgr and BIND920 do it themselves):
// when the tool is missing the test is skipped, or fails when the environment variable CI is
// true, so CI never passes by skipping.
//
// Typical use, against a server started with test.CoreDNSServerAndPorts on a port from FreePort
// (one port for UDP and TCP, so a resolver's TCP retry after TC=1 reaches the server):
//
//	u := validators.StartUnbound(t, "example.net.", server, dsText)
//	m := u.Query(t, "www.example.net.", dns.TypeA)
//	if !m.AuthenticatedData { ... }
//	ok, out := validators.Delv(t, server, "example.net.", dsText, "www.example.net.", dns.TypeA)
//	k := validators.StartKresd(t, "example.net.", server, dsText)
//	m = k.Query(t, "www.example.net.", dns.TypeA) // on failure: k.LogFor(m.Id) says why
package validators

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// installHint is appended to every "tool missing" message.
const installHint = "run scripts/install-test-tools.sh"

// Require returns the path of tool; if it is missing the test fails when CI=true (env), else
// skips, with a message saying to run scripts/install-test-tools.sh. Besides $PATH it looks in
// /usr/sbin and /sbin, where Debian puts unbound, which are not in a normal user's $PATH.
func Require(t testing.TB, tool string) string {
	t.Helper()
	if p, err := exec.LookPath(tool); err == nil {
		return p
	}
	if !strings.ContainsRune(tool, '/') {
		for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
			p := dir + "/" + tool
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return p
			}
		}
	}
	msg := fmt.Sprintf("%s not found: %s", tool, installHint)
	if inCI() {
		t.Fatal(msg + " (CI is set, so a missing tool is a failure)")
	}
	t.Skip(msg)
	return ""
}

// inCI reports whether the environment variable CI holds a true value ("true", "1", ...).
func inCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

// FreePort returns a port number that is free on 127.0.0.1 for both UDP and TCP at the time of
// the call. Use it for a test server that a resolver must reach over both transports (CoreDNS
// given port 0 picks two different ports). Another process may still take it before it is
// bound; that is unlikely but possible.
func FreePort(t testing.TB) int {
	t.Helper()
	var lastErr error
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("validators: FreePort: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		l.Close()
		if err != nil {
			lastErr = err
			continue
		}
		pc.Close()
		return port
	}
	t.Fatalf("validators: FreePort: no port free for both UDP and TCP: %v", lastErr)
	return 0
}

// parseAnchor parses trust-anchor text: one or more DS or DNSKEY RRs in zone-file format
// (comments, blank lines and parenthesized multi-line RRs allowed). Anything else fails the test.
func parseAnchor(t testing.TB, anchor string) []dns.RR {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(anchor), ".", "anchor")
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch rr.(type) {
		case *dns.DS, *dns.DNSKEY:
			rrs = append(rrs, rr)
		default:
			t.Fatalf("validators: trust anchor: %q is neither DS nor DNSKEY", rr.String())
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("validators: trust anchor: %v\n%s", err, anchor)
	}
	if len(rrs) == 0 {
		t.Fatalf("validators: trust anchor: no DS or DNSKEY record in %q", anchor)
	}
	return rrs
}

// typeArg spells qtype in RFC 3597 form (TYPE<n>), which every tool here parses, even for types
// the tool does not know (delv 9.18 silently queries A for a type name it does not know).
func typeArg(qtype uint16) string { return "TYPE" + strconv.Itoa(int(qtype)) }

// splitServer splits "host:port" and fails the test if it is not that.
func splitServer(t testing.TB, server string) (host, port string) {
	t.Helper()
	host, port, err := net.SplitHostPort(server)
	if err != nil || host == "" || port == "" {
		t.Fatalf("validators: server %q is not host:port (%v)", server, err)
	}
	return host, port
}
