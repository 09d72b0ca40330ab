package validators

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const (
	// queryTimeout bounds one query to unbound; a cold cache costs it a few upstream queries.
	queryTimeout = 10 * time.Second
	// startAttempts is how often StartUnbound, StartKresd and Flush try a new port when the
	// daemon cannot bind one (another process took it after FreePort).
	startAttempts = 3
)

// Unbound is a validating unbound on 127.0.0.1:<random port> with a stub-zone for zone pointing
// at server (host:port), trust anchor = anchor (DS or DNSKEY RR text lines, one or more).
//
// It runs in the foreground as a child process of the test, with its configuration, trust-anchor
// file and pid file in t.TempDir(). It forwards nothing: names outside zone are resolved from
// the root, which a test should not ask for.
type Unbound struct {
	// Addr is where unbound listens, "127.0.0.1:PORT", for UDP and TCP.
	Addr string
	// Zone is the stub zone, fully qualified.
	Zone string
	// Server is the authoritative server the stub zone points at, host:port.
	Server string
	// Dir is the temporary directory with unbound.conf and anchors.ds.
	Dir string

	bin  string
	conf string

	process // unbound's stderr is its log (logfile "" in -d mode)
}

// StartUnbound starts a validating unbound for zone on a free 127.0.0.1 port and waits until it
// answers; it stops on t.Cleanup. On failure the test fails with unbound's log.
//
// Configuration notes (unbound 1.17): do-not-query-localhost: no is what lets the stub reach
// 127.0.0.1; local-zone "<name>" nodefault for the zone and every ancestor keeps unbound from
// answering NXDOMAIN itself for a zone under a default local zone (a zone foo.test needs
// "test." nodefault: "foo.test." nodefault is not enough); trust-anchor-signaling: no keeps the
// RFC 8145 "_ta-XXXX.<zone>" probe query away from the server under test; so-reuseport: no makes
// a port clash an error instead of two processes silently sharing one port. ede: yes adds
// Extended DNS Errors (RFC 8914) to SERVFAIL answers: with a wrong DS anchor the first query gets
// 9 (DNSKEY Missing), later ones 6 (DNSSEC Bogus) while the bad key stays cached, and the
// EXTRA-TEXT carries unbound's reason, e.g. "validation failure <www.example.net. A IN>: DS hash
// mismatches key from 127.0.0.1 for trust anchor example.net. while building chain of trust".
func StartUnbound(t testing.TB, zone, server string, anchor string) *Unbound {
	t.Helper()
	bin := Require(t, "unbound")
	host, port := splitServer(t, server)
	zone = dns.Fqdn(strings.ToLower(zone))
	if _, ok := dns.IsDomainName(zone); !ok {
		t.Fatalf("validators: StartUnbound: bad zone name %q", zone)
	}

	dir := t.TempDir()
	var anchors strings.Builder
	for _, rr := range parseAnchor(t, anchor) {
		anchors.WriteString(rr.String() + "\n")
	}
	anchorFile := filepath.Join(dir, "anchors.ds")
	if err := os.WriteFile(anchorFile, []byte(anchors.String()), 0o644); err != nil {
		t.Fatalf("validators: StartUnbound: %v", err)
	}

	u := &Unbound{Zone: zone, Server: server, Dir: dir, bin: bin, conf: filepath.Join(dir, "unbound.conf"), process: process{name: "unbound"}}
	u.launch(t, fmt.Sprintf("StartUnbound(%s -> %s)", zone, server), &u.Addr, u.conf,
		func() string { return u.config(anchorFile, host, port) }, u.start, "bind")
	return u
}

// config renders unbound.conf.
func (u *Unbound) config(anchorFile, host, port string) string {
	_, listenPort, _ := net.SplitHostPort(u.Addr)
	q := strconv.Quote
	return fmt.Sprintf(`# written by internal/validators for one test
server:
	interface: 127.0.0.1
	port: %s
	do-ip4: yes
	do-ip6: no
	do-udp: yes
	do-tcp: yes
	so-reuseport: no
	num-threads: 1
	username: ""
	chroot: ""
	directory: %s
	pidfile: %s
	do-daemonize: no
	use-syslog: no
	logfile: ""
	log-time-ascii: yes
	verbosity: 1
	val-log-level: 2
	access-control: 127.0.0.0/8 allow

	module-config: "validator iterator"
	trust-anchor-file: %s
	trust-anchor-signaling: no
	root-key-sentinel: no
	harden-dnssec-stripped: yes
	val-permissive-mode: no
	aggressive-nsec: yes
	ede: yes

	do-not-query-localhost: no
	qname-minimisation: no
%s	serve-expired: no
	prefetch: no
	prefetch-key: no
	cache-min-ttl: 0
	cache-max-ttl: 86400
	infra-keep-probing: yes

remote-control:
	control-enable: no

stub-zone:
	name: %s
	stub-addr: %s@%s
`, listenPort, q(u.Dir), q(filepath.Join(u.Dir, "unbound.pid")), q(anchorFile), nodefaults(u.Zone), q(u.Zone), host, port)
}

// nodefaults returns "local-zone: NAME nodefault" lines for zone and each of its ancestors
// below the root. unbound answers names under a default local zone (test., invalid., onion.,
// home.arpa., localhost., private reverse zones, ...) itself, with NXDOMAIN; nodefault must name
// that default zone exactly ("test.", not "foo.test."), and is harmless for any other name.
func nodefaults(zone string) string {
	var b strings.Builder
	labels := dns.SplitDomainName(zone)
	for i := range labels {
		fmt.Fprintf(&b, "\tlocal-zone: %s nodefault\n", strconv.Quote(dns.Fqdn(strings.Join(labels[i:], "."))))
	}
	return b.String()
}

// start launches unbound with u.conf and waits until it answers a local query
// ("localhost." comes from its default local-zone).
func (u *Unbound) start() error {
	return u.process.start(exec.Command(u.bin, "-d", "-c", u.conf), u.Addr, func(r *dns.Msg) bool { return r.Rcode == dns.RcodeSuccess })
}

// Query sends name/qtype to unbound with DO and RD set and an EDNS buffer of 1232 bytes, over
// UDP, retrying over TCP if the answer is truncated. A transport error fails the test; any
// response (SERVFAIL included) is returned: check Rcode, AuthenticatedData and EDE options.
func (u *Unbound) Query(t testing.TB, name string, qtype uint16) *dns.Msg {
	t.Helper()
	r, transport, err := exchange(u.Addr, name, qtype)
	if err != nil {
		t.Fatalf("validators: query %s %s to unbound %s (%s): %v\nunbound log:\n%s",
			dns.Fqdn(name), dns.Type(qtype), u.Addr, transport, err, u.Log())
	}
	return r
}

// Flush empties unbound's caches (answers, keys, bogus and negative entries, infrastructure) by
// restarting the process on the same address with the same configuration. Use it after the
// server under test changed its keys or answers. Should another process take the port while
// unbound restarts, unbound moves to a new one: read u.Addr after Flush, not before.
func (u *Unbound) Flush(t testing.TB) {
	t.Helper()
	u.restart(t)
}

// Log returns everything unbound has logged so far (all runs, if Flush restarted it). With
// val-log-level 2 a validation failure is logged with its reason (the same text as the EDE
// EXTRA-TEXT), e.g. "info: validation failure <www.example.net. A IN>: DS hash mismatches key
// from 127.0.0.1 for trust anchor example.net. while building chain of trust".
func (u *Unbound) Log() string { return u.allLogs() }
