package test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/core/plugin" // the standard plugins, file among them
	"github.com/coredns/coredns/test"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	_ "github.com/livesign/livesign"
	"github.com/livesign/livesign/internal/validators"
)

// The helpers the system tests share: the operator CLI, the offline-KSK ceremonies, CoreDNS
// in-process (startServer) and as a process (startCoreDNSProcess), queries, rolls, SKR files.

// init puts livesign right after dnssec in CoreDNS's plugin chain, as cmd/coredns does.
func init() {
	for i, d := range dnsserver.Directives {
		if d == "dnssec" {
			dnsserver.Directives = append(dnsserver.Directives[:i+1], append([]string{"livesign"}, dnsserver.Directives[i+1:]...)...)
			break
		}
	}
}

// TestMain removes the binaries built once per test binary (livesignCLI, staticCoreDNS).
func TestMain(m *testing.M) {
	code := m.Run()
	for _, p := range []string{cli.path, staticBin.path} {
		if p != "" {
			os.RemoveAll(filepath.Dir(p))
		}
	}
	os.Exit(code)
}

var cli struct {
	once sync.Once
	path string
	err  error
}

// livesignCLI builds cmd/livesign once per test binary.
func livesignCLI(t *testing.T) string {
	t.Helper()
	cli.once.Do(func() {
		dir, err := os.MkdirTemp("", "livesign-cli")
		if err != nil {
			cli.err = err
			return
		}
		cli.path = filepath.Join(dir, "livesign")
		out, err := exec.Command("go", "build", "-o", cli.path, "github.com/livesign/livesign/cmd/livesign").CombinedOutput()
		if err != nil {
			cli.err = fmt.Errorf("go build github.com/livesign/livesign/cmd/livesign: %v\n%s", err, out)
		}
	})
	if cli.err != nil {
		t.Fatal(cli.err)
	}
	return cli.path
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// keyFiles is what one offline-KSK ceremony leaves on the server.
type keyFiles struct {
	keys   string // ZSK directory
	bundle string
	anchor string // DS of the KSK, zone-file text
	db     string // zone file for example.net; testdata/zone.db when empty
}

// livesignCeremony runs the offline-KSK flow with livesign's own CLI.
func livesignCeremony(t *testing.T, zone, alg string) keyFiles {
	bin, dir := livesignCLI(t), t.TempDir()
	run(t, dir, bin, "keygen", "-zone", zone, "-ksk", "-algorithm", alg, "-dir", "ksk-offline")
	run(t, dir, bin, "keygen", "-zone", zone, "-zsk", "-algorithm", alg, "-dir", "keys")
	run(t, dir, bin, "bundle", "-ksk", "ksk-offline", "-zsk", "keys", "-zone", zone, "-out", "zone.bundle", "-validity", "30d")
	kskKeys, _ := filepath.Glob(filepath.Join(dir, "ksk-offline", "*.key"))
	if len(kskKeys) != 1 {
		t.Fatalf("want one KSK, found %v", kskKeys)
	}
	anchor := run(t, dir, bin, "ds", kskKeys[0])
	return keyFiles{keys: filepath.Join(dir, "keys"), bundle: filepath.Join(dir, "zone.bundle"), anchor: anchor}
}

// ldnsCeremony runs the classic flow: KSK from ldns-keygen, DNSKEY RRset
// signed by ldns-signzone, bundle cut out with awk, DS from ldns-key2ds.
func ldnsCeremony(t *testing.T, zone string) keyFiles {
	for _, tool := range []string{"ldns-keygen", "ldns-signzone", "ldns-key2ds", "awk"} {
		validators.Require(t, tool)
	}
	bin, dir := livesignCLI(t), t.TempDir()
	ksk := strings.TrimSpace(run(t, dir, "ldns-keygen", "-a", "ECDSAP256SHA256", "-k", zone))
	os.Remove(filepath.Join(dir, ksk+".ds"))
	run(t, dir, bin, "keygen", "-zone", zone, "-zsk", "-dir", "keys")
	zsks, _ := filepath.Glob(filepath.Join(dir, "keys", "*.key"))
	kskRR, err := os.ReadFile(filepath.Join(dir, ksk+".key"))
	if err != nil {
		t.Fatal(err)
	}
	zskRR, err := os.ReadFile(zsks[0])
	if err != nil {
		t.Fatal(err)
	}
	dnskeyZone := fmt.Sprintf("$ORIGIN %s.\n@ 3600 IN SOA ns1 hostmaster 1 3600 600 864000 300\n%s\n%s\n", zone, kskRR, zskRR)
	// $TTL so the DNSKEYs without a TTL get 3600.
	dnskeyZone = "$TTL 3600\n" + dnskeyZone
	if err := os.WriteFile(filepath.Join(dir, "dnskey.zone"), []byte(dnskeyZone), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	run(t, dir, "ldns-signzone", "-i", now.Add(-time.Hour).Format("20060102150405"), "-e", now.Add(30*24*time.Hour).Format("20060102150405"),
		"-f", "dnskey.zone.signed", "dnskey.zone", ksk)
	bundle := run(t, dir, "awk", `$4=="DNSKEY" || ($4=="RRSIG" && $5=="DNSKEY")`, "dnskey.zone.signed")
	if err := os.WriteFile(filepath.Join(dir, "zone.bundle"), []byte(bundle), 0o644); err != nil {
		t.Fatal(err)
	}
	anchor := run(t, dir, "ldns-key2ds", "-n", "-2", ksk+".key")
	return keyFiles{keys: filepath.Join(dir, "keys"), bundle: filepath.Join(dir, "zone.bundle"), anchor: anchor}
}

// bindCeremony runs the classic flow with BIND's tools: dnssec-keygen for
// both keys, dnssec-signzone -O full over a zone holding only the DNSKEYs
// (the ZSK's private key stays on the server), awk, dnssec-dsfromkey.
func bindCeremony(t *testing.T, zone string) keyFiles {
	for _, tool := range []string{"dnssec-keygen", "dnssec-signzone", "dnssec-dsfromkey", "awk"} {
		validators.Require(t, tool)
	}
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "keys"), 0o700)
	os.Mkdir(filepath.Join(dir, "ksk"), 0o700)
	ksk := strings.TrimSpace(run(t, filepath.Join(dir, "ksk"), "dnssec-keygen", "-q", "-f", "KSK", "-a", "ECDSAP256SHA256", "-n", "ZONE", zone))
	zsk := strings.TrimSpace(run(t, filepath.Join(dir, "keys"), "dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "-n", "ZONE", zone))
	pub, err := os.ReadFile(filepath.Join(dir, "keys", zsk+".key"))
	if err != nil {
		t.Fatal(err)
	}
	// The ZSK's public half travels to the offline machine.
	if err := os.WriteFile(filepath.Join(dir, "ksk", zsk+".key"), pub, 0o644); err != nil {
		t.Fatal(err)
	}
	z := fmt.Sprintf("$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 864000 300\n@ NS ns1\n$INCLUDE %s.key\n$INCLUDE %s.key\n", ksk, zsk)
	if err := os.WriteFile(filepath.Join(dir, "ksk", "dnskey.zone"), []byte(z), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, filepath.Join(dir, "ksk"), "dnssec-signzone", "-P", "-O", "full", "-x", "-o", zone, "-e", "+2592000", "-f", "dnskey.zone.signed", "dnskey.zone")
	bundle := run(t, filepath.Join(dir, "ksk"), "awk", `$4=="DNSKEY" || ($4=="RRSIG" && $5=="DNSKEY")`, "dnskey.zone.signed")
	if err := os.WriteFile(filepath.Join(dir, "zone.bundle"), []byte(bundle), 0o644); err != nil {
		t.Fatal(err)
	}
	anchor := run(t, filepath.Join(dir, "ksk"), "dnssec-dsfromkey", "-2", ksk+".key")
	return keyFiles{keys: filepath.Join(dir, "keys"), bundle: filepath.Join(dir, "zone.bundle"), anchor: anchor}
}

// startServer runs CoreDNS in-process: file serving the fixture zone under
// zone, livesign signing it with kf. It returns host:port.
// Extra lines (other plugins, livesign directives) go into the server block
// and the livesign block.
func startServer(t *testing.T, zone string, kf keyFiles, extra ...string) string {
	t.Helper()
	return startServerWith(t, zone, kf, func() []string { return extra })
}

// startServerWith is startServer with the extra lines from extra, which is called again (for
// new ports, if it picks some with validators.FreePort) when CoreDNS is started again on another
// port because one was taken.
func startServerWith(t *testing.T, zone string, kf keyFiles, extraLines func() []string) string {
	t.Helper()
	dir := t.TempDir()
	dbFile := kf.db
	if dbFile == "" {
		dbFile = "../testdata/zone.db"
	}
	db, err := os.ReadFile(dbFile)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(db), "example.net.", zone+".")
	if err := os.WriteFile(filepath.Join(dir, "db"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	anchor := filepath.Join(dir, "anchor.ds")
	if err := os.WriteFile(anchor, []byte(kf.anchor), 0o644); err != nil {
		t.Fatal(err)
	}
	bundleLine := ""
	if kf.bundle != "" {
		bundleLine = "bundle " + kf.bundle
	}
	var port int
	startCoreDNS(t, func() string {
		port = validators.FreePort(t)
		server, block := "", ""
		if extra := extraLines(); len(extra) > 1 {
			server, block = extra[0], extra[1]
		} else if len(extra) > 0 {
			server = extra[0]
		}
		return fmt.Sprintf(`%s:%d {
    bind 127.0.0.1
    %s
    file %s
    livesign %s {
        keys %s
        %s
        trust-anchor %s
        %s
    }
}`, zone, port, server, filepath.Join(dir, "db"), zone, kf.keys, bundleLine, anchor, block)
	})
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// startAttempts is how many sets of ports a server start tries: a port from
// validators.FreePort is only free when FreePort looks, and another process (the tests of other
// packages run at the same time) may take it before the server binds it.
const startAttempts = 5

// addrInUse says whether err's text or a server's log says a listen failed because its address
// was taken.
func addrInUse(text string) bool {
	return strings.Contains(text, "address already in use")
}

// startCoreDNS starts CoreDNS in-process with the Corefile that render returns, and stops it on
// cleanup. render picks its ports (validators.FreePort) and is called again, for new ports, when
// CoreDNS fails because one was taken before it bound it (startAttempts in all); the caller's
// port variables set by the last render are the ones in use. Any other failure fails the test.
func startCoreDNS(t *testing.T, render func() string) *caddy.Instance {
	t.Helper()
	var corefile string
	var err error
	for range startAttempts {
		corefile = render()
		var i *caddy.Instance
		if i, err = test.CoreDNSServer(corefile); err == nil {
			t.Cleanup(func() { i.Stop() })
			return i
		}
		if !addrInUse(err.Error()) {
			break
		}
		t.Logf("CoreDNS: a port was taken before it bound it, trying others: %v", err)
	}
	t.Fatalf("CoreDNS did not start: %v\n%s", err, corefile)
	return nil
}

type e2eCase struct {
	name  string
	qtype uint16
	rcode int
}

func e2eCases(zone string) []e2eCase {
	n := func(s string) string {
		if s == "" {
			return zone + "."
		}
		return s + "." + zone + "."
	}
	return []e2eCase{
		{n("www"), dns.TypeA, dns.RcodeSuccess},
		{n("www"), dns.TypeAAAA, dns.RcodeSuccess},
		{n(""), dns.TypeMX, dns.RcodeSuccess},
		{n(""), dns.TypeTXT, dns.RcodeSuccess},
		{n(""), dns.TypeNS, dns.RcodeSuccess},
		{n(""), dns.TypeSOA, dns.RcodeSuccess},
		{n(""), dns.TypeDNSKEY, dns.RcodeSuccess},
		{n("alias"), dns.TypeA, dns.RcodeSuccess},
		{n("outside"), dns.TypeCNAME, dns.RcodeSuccess},
		{n("host.wild"), dns.TypeA, dns.RcodeSuccess},
		{n("a.b.wild"), dns.TypeTXT, dns.RcodeSuccess},
		{n("nope"), dns.TypeA, dns.RcodeSuccess}, // compact denial: NXDOMAIN without CO looks like NODATA
		{n("www"), dns.TypeMX, dns.RcodeSuccess},
		{n("host.wild"), dns.TypeMX, dns.RcodeSuccess},
		{n("ent"), dns.TypeA, dns.RcodeSuccess},
		{n("leaf.ent"), dns.TypeA, dns.RcodeSuccess},
		{n("secure"), dns.TypeDS, dns.RcodeSuccess},
		{n("insecure"), dns.TypeDS, dns.RcodeSuccess},
		{n("big"), dns.TypeTXT, dns.RcodeSuccess}, // needs TC over UDP, then TCP
		{n("srv"), dns.TypeSRV, dns.RcodeSuccess},
		{n("caa"), dns.TypeCAA, dns.RcodeSuccess},
		{n("cnx"), dns.TypeA, dns.RcodeSuccess},      // CNAME to a name that does not exist
		{n("cnodata"), dns.TypeMX, dns.RcodeSuccess}, // CNAME to a name without MX
		{n("x.wc3"), dns.TypeA, dns.RcodeSuccess},    // wildcard CNAME into its own parent
		{n("www"), dns.TypeNSEC, dns.RcodeSuccess},
		{n("www"), dns.TypeANY, dns.RcodeSuccess},
		{n("nope"), dns.TypeANY, dns.RcodeSuccess}, // compact denial, as for any other type
		{n("ent"), dns.TypeANY, dns.RcodeSuccess},  // NODATA at an empty non-terminal

		// CNAME chains: the end of cnx's chain denied as a direct query is;
		// a query for the CNAME itself denies nothing at its target.
		{n("gone"), dns.TypeA, dns.RcodeSuccess},
		{n("cnx"), dns.TypeTXT, dns.RcodeSuccess},
		{n("cnx"), dns.TypeCNAME, dns.RcodeSuccess},
		{n("alias"), dns.TypeCNAME, dns.RcodeSuccess},
	}
}

// ceremonies are the offline-KSK flows the end-to-end tests run, each for a
// zone of its own.
var ceremonies = []struct {
	name string
	zone string
	keys func(t *testing.T, zone string) keyFiles
}{
	{"livesign-bundle", "example.net", func(t *testing.T, z string) keyFiles { return livesignCeremony(t, z, "ECDSAP256SHA256") }},
	{"livesign-bundle-ed25519", "signed.example", func(t *testing.T, z string) keyFiles { return livesignCeremony(t, z, "ED25519") }},
	{"ldns-classic", "example.org", ldnsCeremony},
	{"bind-classic", "zone.test", bindCeremony},
}

// wrongAnchor returns anchor with its digest changed.
func wrongAnchor(t *testing.T, anchor string) string {
	rr, err := dns.NewRR(strings.TrimSpace(strings.Split(anchor, "\n")[0]))
	if err != nil {
		t.Fatalf("anchor %q: %v", anchor, err)
	}
	ds := rr.(*dns.DS)
	if ds.Digest[0] == '0' {
		ds.Digest = "1" + ds.Digest[1:]
	} else {
		ds.Digest = "0" + ds.Digest[1:]
	}
	return ds.String() + "\n"
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// exchange asks server itself for name/qtype with DO (and without RD: it is authoritative),
// over TCP so that nothing is truncated.
func exchange(server, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = false
	m.SetEdns0(1232, true)
	r, _, err := (&dns.Client{Net: "tcp"}).Exchange(m, server)
	return r, err
}

// direct is exchange with the answer as text, or the error.
func direct(t *testing.T, server, name string, qtype uint16) string {
	t.Helper()
	r, err := exchange(server, name, qtype)
	if err != nil {
		return fmt.Sprintf("(no answer: %v)", err)
	}
	return r.String()
}

// query is exchange that fails the test when no answer comes.
func query(t *testing.T, server, name string, qtype uint16) *dns.Msg {
	t.Helper()
	r, err := exchange(server, name, qtype)
	if err != nil {
		t.Fatalf("%s %s @%s: %v", name, dns.TypeToString[qtype], server, err)
	}
	return r
}

// coProxy forwards every query to server with the EDNS CO flag set, as a
// resolver that understands RFC 9824 would send it, and returns its address.
func coProxy(t *testing.T, server string) string {
	t.Helper()
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		q := r.Copy()
		if q.IsEdns0() == nil {
			q.SetEdns0(1232, false)
		}
		q.IsEdns0().SetCo()
		c := &dns.Client{Net: w.LocalAddr().Network()}
		resp, _, err := c.Exchange(q, server)
		if err != nil {
			m := new(dns.Msg)
			m.SetRcode(r, dns.RcodeServerFailure)
			w.WriteMsg(m)
			return
		}
		resp.Id = r.Id
		w.WriteMsg(resp)
	})
	// The proxy binds its sockets itself, TCP on a port the kernel picks and UDP on the same
	// one, so no other process can take the port in between; when the UDP port is in use, it
	// tries another.
	var l net.Listener
	var pc net.PacketConn
	for range 100 {
		var err error
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if pc, err = net.ListenPacket("udp", l.Addr().String()); err == nil {
			break
		}
		l.Close()
		l = nil
	}
	if l == nil {
		t.Fatal("coProxy: no port free for both UDP and TCP")
	}
	for _, srv := range []*dns.Server{{Listener: l, Handler: handler}, {PacketConn: pc, Handler: handler}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		served := make(chan error, 1)
		go func() { served <- srv.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-served:
			t.Fatalf("coProxy: %v", err)
		}
		t.Cleanup(func() { srv.Shutdown() })
	}
	return l.Addr().String()
}

// dnskeySig returns the RRSIG over DNSKEY the server hands out now.
func dnskeySig(t *testing.T, server, zone string) string {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(zone, dns.TypeDNSKEY)
	q.SetEdns0(1232, true)
	r, err := dns.Exchange(q, server)
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range r.Answer {
		if s, ok := rr.(*dns.RRSIG); ok {
			return s.String()
		}
	}
	t.Fatalf("no RRSIG over DNSKEY in\n%s", r)
	return ""
}

// rollTiming shrinks the rollover directives to seconds: a ZSK signs for
// 12 s, so four complete rolls take under a minute.
var rollTiming = []string{
	"zsk-lifetime 12s", "dnskey-ttl 2s", "max-zone-ttl 2s", "propagation-delay 1s",
	"publish-safety 1s", "retire-safety 1s", "signature-validity 10m", "signature-refresh 2m", "reload 1s",
}

// shortTTLZone rewrites the test zone with TTLs of 2 s (max-zone-ttl).
func shortTTLZone(t *testing.T) string {
	b, err := os.ReadFile("../testdata/zone.db")
	if err != nil {
		t.Fatal(err)
	}
	z := strings.Replace(string(b), "$TTL 300", "$TTL 2", 1)
	z = strings.Replace(z, "864000 300", "864000 2", 1)
	path := filepath.Join(t.TempDir(), "zone.db")
	if err := os.WriteFile(path, []byte(z), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// watchRolls queries a validating caching unbound in front of server
// several times a second for d: every answer must validate (AD, no
// SERVFAIL). It returns the ZSK tags seen signing, asked of the server.
func watchRolls(t *testing.T, u *validators.Unbound, server string, d time.Duration) []uint16 {
	t.Helper()
	queries := []struct {
		name  string
		qtype uint16
	}{{"www.example.net.", dns.TypeA}, {"nope.example.net.", dns.TypeA}, {"www.example.net.", dns.TypeMX}, {"host.wild.example.net.", dns.TypeA}}
	var tags []uint16
	n, bad := 0, 0
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		for _, q := range queries {
			m := u.Query(t, q.name, q.qtype)
			n++
			if m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData {
				bad++
				if bad <= 3 {
					t.Errorf("%s %s %s: rcode %s AD=%v\n%s\n%s", time.Now().Format("15:04:05.000"), q.name, dns.TypeToString[q.qtype],
						dns.RcodeToString[m.Rcode], m.AuthenticatedData, m, u.Log())
				}
			}
		}
		q := new(dns.Msg)
		q.SetQuestion("www.example.net.", dns.TypeA)
		q.SetEdns0(1232, true)
		if r, err := dns.Exchange(q, server); err == nil {
			for _, rr := range r.Answer {
				if s, ok := rr.(*dns.RRSIG); ok && (len(tags) == 0 || tags[len(tags)-1] != s.KeyTag) {
					tags = append(tags, s.KeyTag)
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d answers failed validation", bad, n)
	}
	t.Logf("%d answers through unbound, signing ZSKs in turn: %v", n, tags)
	return tags
}

func skrWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// skrRunCode runs a command that may fail and returns its exit code and
// its combined output.
func skrRunCode(t *testing.T, dir, name string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	return -1, ""
}

// skrValidate asks unbound, delv and kresd (each with the KSK's DS as the
// only trust anchor) for every e2eCases query: unbound must answer with the
// expected rcode and AD, delv must say "fully validated", kresd must set AD
// (kresd refuses ANY itself, see TestEndToEndKresd: skipped there).
func skrValidate(t *testing.T, zone, server, anchor string) {
	t.Helper()
	u := validators.StartUnbound(t, zone+".", server, anchor)
	k := validators.StartKresd(t, zone+".", server, anchor)
	for _, tc := range e2eCases(zone) {
		typ := dns.TypeToString[tc.qtype]
		if m := u.Query(t, tc.name, tc.qtype); m.Rcode != tc.rcode || !m.AuthenticatedData {
			t.Errorf("unbound %s %s: rcode %s AD=%v, want %s with AD\n%s\nserver answers (DO set):\n%s", tc.name, typ,
				dns.RcodeToString[m.Rcode], m.AuthenticatedData, dns.RcodeToString[tc.rcode], m, direct(t, server, tc.name, tc.qtype))
		}
		if ok, out := validators.Delv(t, server, zone+".", anchor, tc.name, tc.qtype); !ok {
			t.Errorf("delv %s %s: not validated\n%s", tc.name, typ, out)
		}
		if tc.qtype == dns.TypeANY {
			continue
		}
		if m := k.Query(t, tc.name, tc.qtype); m.Rcode != tc.rcode || !m.AuthenticatedData {
			t.Errorf("kresd %s %s: rcode %s AD=%v, want %s with AD\n%s\nkresd log:\n%s\nserver answers (DO set):\n%s", tc.name, typ,
				dns.RcodeToString[m.Rcode], m.AuthenticatedData, dns.RcodeToString[tc.rcode], m, k.LogFor(m.Id), direct(t, server, tc.name, tc.qtype))
		}
	}
	// The anchor really is what validates: a wrong one fails.
	bad := validators.StartUnbound(t, zone+".", server, wrongAnchor(t, anchor))
	if m := bad.Query(t, "www."+zone+".", dns.TypeA); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("unbound with a wrong anchor: rcode %s, want SERVFAIL", dns.RcodeToString[m.Rcode])
	}
}

func firstGlob(t *testing.T, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(pattern)
	if len(m) == 0 {
		t.Fatalf("no file matches %s", pattern)
	}
	return m[0]
}

// keymgrDS returns the SHA-256 DS that keymgr prints for zone's KSK, as
// zone-file text with a TTL: keymgr prints none, and validators' anchor
// parser wants one.
func keymgrDS(t *testing.T, keymgr, dir, conf, zone string) string {
	t.Helper()
	var ds string
	for _, l := range strings.Split(run(t, dir, keymgr, "-c", conf, dns.Fqdn(zone), "ds"), "\n") {
		if f := strings.Fields(l); len(f) == 6 && f[1] == "DS" && f[4] == "2" {
			rr, err := dns.NewRR(l)
			if err != nil {
				t.Fatalf("keymgr ds: %q: %v", l, err)
			}
			ds = rr.String() + "\n"
		}
	}
	if ds == "" {
		t.Fatal("keymgr ds printed no SHA-256 DS")
	}
	return ds
}

// The deployment tests (deploy_*_test.go, upstream_test.go) run CoreDNS as operators do: as
// a separate process from a built binary, not in-process.

var staticBin struct {
	once sync.Once
	path string
	err  error
}

// staticCoreDNS builds ./cmd/coredns once per test binary exactly as `make image` does
// (CGO_ENABLED=0, -trimpath, -ldflags=-s -w), so the image test, the replica test and
// `make image` share the Go build cache.
func staticCoreDNS(t *testing.T) string {
	t.Helper()
	staticBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "livesign-coredns")
		if err != nil {
			staticBin.err = err
			return
		}
		staticBin.path = filepath.Join(dir, "coredns")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", staticBin.path, "github.com/livesign/livesign/cmd/coredns")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			staticBin.err = fmt.Errorf("CGO_ENABLED=0 go build github.com/livesign/livesign/cmd/coredns: %v\n%s", err, out)
		}
	})
	if staticBin.err != nil {
		t.Fatal(staticBin.err)
	}
	return staticBin.path
}

// coreDNSProcess is a CoreDNS binary running as a child process.
type coreDNSProcess struct {
	Addr string // 127.0.0.1:port, UDP and TCP
	cmd  *exec.Cmd
	out  *validators.LogBuffer
	done chan struct{}
}

// Log returns what the process printed so far.
func (p *coreDNSProcess) Log() string { return p.out.String() }

// startCoreDNSProcess writes corefile(port) into dir, for a port from validators.FreePort, and
// runs `bin -conf dir/Corefile` there; it waits until the server answers a query for probe (its
// SOA) on 127.0.0.1:port, and kills the process on cleanup. When the process exits because the
// port was taken before it bound it, it tries again with a new port (startAttempts in all). The
// test fails with the process's output if it exits otherwise or does not answer in 30 s.
func startCoreDNSProcess(t *testing.T, bin, dir, probe string, corefile func(port int) string) *coreDNSProcess {
	t.Helper()
	for attempt := 1; ; attempt++ {
		p, text, err := runCoreDNSProcess(t, bin, dir, probe, corefile)
		if err == nil {
			return p
		}
		if !p.exited() || !addrInUse(p.Log()) || attempt == startAttempts {
			t.Fatalf("%v\n%s\nCorefile:\n%s", err, p.Log(), text)
		}
		t.Logf("%s: a port was taken before it bound it, trying another: %v\n%s", bin, err, p.Log())
	}
}

// runCoreDNSProcess is one attempt of startCoreDNSProcess; it returns the process (stopped on
// cleanup), the Corefile and why the server does not answer, if it does not.
func runCoreDNSProcess(t *testing.T, bin, dir, probe string, corefile func(port int) string) (*coreDNSProcess, string, error) {
	t.Helper()
	port := validators.FreePort(t)
	text := corefile(port)
	conf := filepath.Join(dir, "Corefile")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p := &coreDNSProcess{Addr: addr, out: &validators.LogBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "-conf", conf)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(probe), dns.TypeSOA)
	c := &dns.Client{Timeout: 500 * time.Millisecond}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if p.exited() {
			return p, text, fmt.Errorf("%s -conf %s exited: %v", bin, conf, p.cmd.ProcessState)
		}
		if r, _, err := c.Exchange(q, addr); err == nil && r.Rcode == dns.RcodeSuccess {
			return p, text, nil
		}
		if time.Now().After(deadline) {
			return p, text, fmt.Errorf("%s on %s does not answer after 30 s", bin, addr)
		}
		select {
		case <-p.done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// exited says whether the process has exited.
func (p *coreDNSProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signedAnswer asks server for name/qtype with DO and checks that the answer holds the RRset
// and an RRSIG over it that verifies with a ZSK of the zone's served DNSKEY set (asked too), at
// the current time. It returns the RRSIG.
func signedAnswer(t *testing.T, server, zone, name string, qtype uint16) *dns.RRSIG {
	t.Helper()
	ask := func(n string, qt uint16) *dns.Msg {
		q := new(dns.Msg)
		q.SetQuestion(dns.Fqdn(n), qt)
		q.SetEdns0(1232, true)
		c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
		r, _, err := c.Exchange(q, server)
		if err != nil {
			t.Fatalf("%s %s @%s: %v", n, dns.TypeToString[qt], server, err)
		}
		if r.Rcode != dns.RcodeSuccess {
			t.Fatalf("%s %s @%s: %s", n, dns.TypeToString[qt], server, dns.RcodeToString[r.Rcode])
		}
		return r
	}
	keys := map[uint16]*dns.DNSKEY{}
	for _, rr := range ask(zone, dns.TypeDNSKEY).Answer {
		if k, ok := rr.(*dns.DNSKEY); ok {
			keys[k.KeyTag()] = k
		}
	}
	r := ask(name, qtype)
	var rrset []dns.RR
	var sig *dns.RRSIG
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *dns.RRSIG:
			if rr.TypeCovered == qtype {
				sig = rr
			}
		default:
			if rr.Header().Rrtype == qtype {
				rrset = append(rrset, rr)
			}
		}
	}
	if len(rrset) == 0 || sig == nil {
		t.Fatalf("%s %s @%s: want the RRset and its RRSIG, got:\n%v", name, dns.TypeToString[qtype], server, r)
	}
	k := keys[sig.KeyTag]
	if k == nil || k.Flags&dns.SEP != 0 {
		t.Fatalf("%s %s: RRSIG by key %d, not a ZSK of the served DNSKEY set %v", name, dns.TypeToString[qtype], sig.KeyTag, keys)
	}
	if err := sig.Verify(k, rrset); err != nil {
		t.Fatalf("%s %s: RRSIG does not verify: %v\n%v", name, dns.TypeToString[qtype], err, r)
	}
	if !sig.ValidityPeriod(time.Now()) {
		t.Fatalf("%s %s: RRSIG not valid now: %v", name, dns.TypeToString[qtype], sig)
	}
	return sig
}

// sampleMidSecond runs sample, which asks every replica what it serves, at the next half second
// (key events fall on whole seconds), and again while a run of it did not end in the second it
// began in: what one run saw is then the state between two key events, however slowly the
// replicas answered. It fails the test when no run fits in a second.
func sampleMidSecond(t *testing.T, sample func()) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		now := time.Now()
		next := now.Truncate(time.Second).Add(500 * time.Millisecond)
		if !next.After(now) {
			next = next.Add(time.Second)
		}
		time.Sleep(time.Until(next)) // waits for the wall clock: the key timers are in seconds
		start := time.Now()
		sample()
		end := time.Now()
		if end.Truncate(time.Second).Equal(start.Truncate(time.Second)) {
			return
		}
		if attempt == 10 {
			t.Fatalf("sampling the replicas took more than half a second %d times in a row (last %v)", attempt, end.Sub(start))
		}
		t.Logf("sampling the replicas took %v, across a whole second: sampling again", end.Sub(start).Round(time.Millisecond))
	}
}

// reloadCount returns coredns_livesign_reloads_total{zone, result} of the in-process servers.
func reloadCount(t *testing.T, zone, result string) float64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "coredns_livesign_reloads_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["zone"] == zone && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
