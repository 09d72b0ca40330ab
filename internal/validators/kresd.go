package validators

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// Kresd is a validating Knot Resolver (kresd 5.6) on 127.0.0.1:<random port> that forwards
// every query for Zone (and names below it) to Server with policy.FORWARD, which validates
// (policy.STUB would not), under the trust anchor given to StartKresd. It answers every other
// name itself with a policy.DENY_MSG NXDOMAIN and has root priming, the RFC 5011 root key
// updater, the RFC 8145 key-tag signal and the time-skew probe unloaded, so it sends nothing
// anywhere but to Server (Contacted lists where it sent queries).
//
// It runs in the foreground (kresd -n) as a child process of the test, with its configuration
// and its LMDB cache in t.TempDir(), and is killed at cleanup.
type Kresd struct {
	// Addr is where kresd listens, "127.0.0.1:PORT", for UDP and TCP.
	Addr string
	// Zone is the forwarded zone, fully qualified.
	Zone string
	// Server is the authoritative server the zone is forwarded to, host:port.
	Server string
	// Dir is the temporary directory with kresd.conf, the cache and kresd's working files.
	Dir string

	bin  string
	conf string

	process // kresd's stdout and stderr are its log (log_target('stderr'))
}

// StartKresd starts a validating kresd for zone forwarding to server (host:port) with anchor
// (one or more DS or DNSKEY RRs of zone, in zone-file text) as its only trust anchor, on a free
// 127.0.0.1 port, and waits until it answers; it stops on t.Cleanup. On failure the test fails
// with kresd's configuration and log. It needs kresd (Debian package knot-resolver): missing,
// the test is skipped, or fails when CI=true (see Require).
//
// The configuration (kresd 5.6), written to Dir/kresd.conf and run as
// `kresd -n -c Dir/kresd.conf Dir` with KRESD_NO_LISTEN=1 (no control socket):
//
//	log_target('stderr'); log_level('info')
//	log_groups({'valdtr', 'dnssec', 'resolv'})  -- validation reasons, and every upstream query
//	modules.load('bogus_log')                   -- "[dnssec] validation failure: NAME TYPE"
//	net.ipv6 = false
//	net.listen('127.0.0.1', PORT, { kind = 'dns' })
//	modules.unload('priming'); modules.unload('detect_time_skew')
//	modules.unload('ta_signal_query'); modules.unload('ta_update')
//	trust_anchors.remove('.')
//	trust_anchors.add('<anchor RR>')            -- for each anchor RR, DS or DNSKEY
//	cache.open(10 * MB, 'lmdb://Dir/cache')
//	policy.add(policy.suffix(policy.FORWARD({'HOST@PORT'}), {todname('ZONE')}))
//	policy.add(policy.all(policy.DENY_MSG('...')))
//
// The extended_error module, loaded by default, adds an Extended DNS Error to a SERVFAIL: a
// wrong DS gives 6 (DNSSEC Bogus) with EXTRA-TEXT "EXRU", and the log says why, e.g.
// "[valdtr] >< bogus key: example.net. DNSKEY (0 matching RRSIGs, ...)", "<= bad keys, broken
// trust chain", "[dnssec] validation failure: example.net. DNSKEY".
func StartKresd(t testing.TB, zone, server, anchor string) *Kresd {
	t.Helper()
	bin := Require(t, "kresd")
	host, port := splitServer(t, server)
	if ip := net.ParseIP(host); ip == nil {
		t.Fatalf("validators: StartKresd: server %q: kresd forwards to an IP address, not a name", server)
	}
	zone = dns.Fqdn(strings.ToLower(zone))
	if _, ok := dns.IsDomainName(zone); !ok {
		t.Fatalf("validators: StartKresd: bad zone name %q", zone)
	}
	rrs := parseAnchor(t, anchor)

	dir := t.TempDir()
	k := &Kresd{Zone: zone, Server: server, Dir: dir, bin: bin, conf: filepath.Join(dir, "kresd.conf"), process: process{name: "kresd"}}
	k.launch(t, fmt.Sprintf("StartKresd(%s -> %s)", zone, server), &k.Addr, k.conf,
		func() string { return k.config(rrs, host, port) }, k.start, "bind", "in use")
	return k
}

// config renders kresd.conf (Lua).
func (k *Kresd) config(anchors []dns.RR, host, port string) string {
	_, listenPort, _ := net.SplitHostPort(k.Addr)
	var tas strings.Builder
	for _, rr := range anchors {
		fmt.Fprintf(&tas, "trust_anchors.add(%s)\n", luaString(rr.String()))
	}
	return fmt.Sprintf(`-- written by internal/validators for one test
log_target('stderr')
log_level('info')
-- debug logs of these groups only: validation verdicts and reasons, and every upstream query
log_groups({'valdtr', 'dnssec', 'resolv'})
-- one "[dnssec] validation failure: NAME TYPE" line per bogus answer
modules.load('bogus_log')

net.ipv6 = false
net.listen('127.0.0.1', %s, { kind = 'dns' })

-- Nothing but the server under test may be queried: no root priming, no RFC 5011 root key
-- refresh, no RFC 8145 key-tag signal queries, no time-skew probe of the root.
modules.unload('priming')
modules.unload('detect_time_skew')
modules.unload('ta_signal_query')
modules.unload('ta_update')

trust_anchors.remove('.')
%s
cache.open(10 * MB, %s)

-- FORWARD validates (STUB would not); everything outside the zone is refused locally.
policy.add(policy.suffix(policy.FORWARD({%s}), {todname(%s)}))
policy.add(policy.all(policy.DENY_MSG('validators: only %s is forwarded')))
`, listenPort, tas.String(), luaString("lmdb://"+filepath.Join(k.Dir, "cache")),
		luaString(host+"@"+port), luaString(k.Zone), strings.TrimSuffix(k.Zone, "."))
}

// luaString quotes s as a Lua string literal (Go's escapes for ASCII are valid Lua escapes).
func luaString(s string) string { return strconv.QuoteToASCII(s) }

// start launches kresd with k.conf and waits until it answers a local query
// ("localhost." is answered by its own policy rules: a special-use name, or
// the DENY_MSG catch-all).
func (k *Kresd) start() error {
	cmd := exec.Command(k.bin, "-n", "-c", k.conf, k.Dir)
	cmd.Dir = k.Dir
	// postconfig.lua would open a control socket in Dir/control/ (a unix socket path may be too
	// long in a test's temp dir) and listen on 127.0.0.1:53 when nothing is configured.
	cmd.Env = append(os.Environ(), "KRESD_NO_LISTEN=1")
	return k.process.start(cmd, k.Addr, func(*dns.Msg) bool { return true })
}

// Query sends name/qtype to kresd with DO and RD set and an EDNS buffer of 1232 bytes, over
// UDP, retrying over TCP if the answer is truncated. A transport error fails the test; any
// response (SERVFAIL included) is returned: check Rcode, AuthenticatedData and EDE options.
func (k *Kresd) Query(t testing.TB, name string, qtype uint16) *dns.Msg {
	t.Helper()
	r, transport, err := exchange(k.Addr, name, qtype)
	if err != nil {
		t.Fatalf("validators: query %s %s to kresd %s (%s): %v\nkresd log:\n%s",
			dns.Fqdn(name), dns.Type(qtype), k.Addr, transport, err, k.Log())
	}
	return r
}

// Log returns everything kresd has logged so far: at info level, plus the debug messages of the
// validator ("[valdtr]", e.g. ">< bogus key: example.net. DNSKEY (0 matching RRSIGs, ...)"),
// "[dnssec] validation failure: NAME TYPE" and the resolver ("[resolv]", one "querying:" line
// per upstream query with its target address).
func (k *Kresd) Log() string { return k.lastLog() }

// LogFor returns the lines of Log that belong to the client request with DNS message id, e.g.
// r.Id of a Query's answer: kresd tags each debug line of a request with "[group][ID.sub]",
// ID being the client's message id in five digits (ids may repeat over a long test).
func (k *Kresd) LogFor(id uint16) string {
	tag := fmt.Sprintf("][%05d.", id)
	var b strings.Builder
	for _, line := range strings.SplitAfter(k.Log(), "\n") {
		if strings.Contains(line, tag) {
			b.WriteString(line)
		}
	}
	return b.String()
}

// querying matches the target of one upstream query in kresd's resolver log:
// "=> id: '10187' querying: '.'@'127.0.0.1#15353' zone cut: ...".
var querying = regexp.MustCompile(`querying: '[^']*'@'([^']+)'`)

// Contacted returns the distinct addresses ("IP#PORT", as kresd writes them) kresd has sent
// queries to so far, from its log, sorted. For a Kresd from StartKresd it should only ever hold
// Server.
func (k *Kresd) Contacted() []string {
	var addrs []string
	for _, m := range querying.FindAllStringSubmatch(k.Log(), -1) {
		if !slices.Contains(addrs, m[1]) {
			addrs = append(addrs, m[1])
		}
	}
	slices.Sort(addrs)
	return addrs
}
