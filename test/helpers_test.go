package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/core/plugin" // the standard plugins, file among them
	"github.com/coredns/coredns/test"
	"github.com/miekg/dns"

	_ "github.com/livesign/livesign"
	"github.com/livesign/livesign/internal/validators"
)

func init() {
	for i, d := range dnsserver.Directives {
		if d == "dnssec" {
			dnsserver.Directives = append(dnsserver.Directives[:i+1], append([]string{"livesign"}, dnsserver.Directives[i+1:]...)...)
			break
		}
	}
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
	port := validators.FreePort(t)
	server, block, bundleLine := "", "", ""
	if kf.bundle != "" {
		bundleLine = "bundle " + kf.bundle
	}
	if len(extra) > 0 {
		server = extra[0]
	}
	if len(extra) > 1 {
		block = extra[1]
	}
	corefile := fmt.Sprintf(`%s:%d {
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
	i, err := test.CoreDNSServer(corefile)
	if err != nil {
		t.Fatalf("CoreDNS did not start: %v\n%s", err, corefile)
	}
	t.Cleanup(func() { i.Stop() })
	return fmt.Sprintf("127.0.0.1:%d", port)
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

func TestEndToEndValidators(t *testing.T) {
	for _, c := range ceremonies {
		t.Run(c.name, func(t *testing.T) {
			kf := c.keys(t, c.zone)
			server := startServer(t, c.zone, kf)
			u := validators.StartUnbound(t, c.zone+".", server, kf.anchor)
			for _, tc := range e2eCases(c.zone) {
				m := u.Query(t, tc.name, tc.qtype)
				if m.Rcode != tc.rcode || !m.AuthenticatedData {
					t.Errorf("unbound %s %s: rcode %s AD=%v, want %s with AD\n%s", tc.name, dns.TypeToString[tc.qtype],
						dns.RcodeToString[m.Rcode], m.AuthenticatedData, dns.RcodeToString[tc.rcode], m)
				}
				if ok, out := validators.Delv(t, server, c.zone+".", kf.anchor, tc.name, tc.qtype); !ok {
					t.Errorf("delv %s %s: not validated\n%s", tc.name, dns.TypeToString[tc.qtype], out)
				}
			}
			// A wrong trust anchor must make every answer fail.
			wrong := wrongAnchor(t, kf.anchor)
			bad := validators.StartUnbound(t, c.zone+".", server, wrong)
			if m := bad.Query(t, "www."+c.zone+".", dns.TypeA); m.Rcode != dns.RcodeServerFailure {
				t.Errorf("unbound with a wrong anchor: rcode %s, want SERVFAIL", dns.RcodeToString[m.Rcode])
			}
			if ok, out := validators.Delv(t, server, c.zone+".", wrong, "www."+c.zone+".", dns.TypeA); ok {
				t.Errorf("delv validated with a wrong anchor:\n%s", out)
			}
		})
	}
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
