package livesign

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/file"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"
	"github.com/livesign/livesign/config"
	"github.com/miekg/dns"
)

// fuzzGen turns fuzz input into a zone and queries: each byte is a choice.
type fuzzGen struct {
	data []byte
	off  int
}

func (g *fuzzGen) more() bool { return g.off < len(g.data) }

// pick returns a choice in [0, n), 0 once the input is used up.
func (g *fuzzGen) pick(n int) int {
	if g.off >= len(g.data) {
		return 0
	}
	b := g.data[g.off]
	g.off++
	return int(b) % n
}

// fuzzLabels are the labels names are made of: plain, mixed case, the
// octets at the ends of the range, '*' as a wildcard and inside a label,
// the longest label.
var fuzzLabels = []string{
	"www", "a", "b", "x", "*", `\000`, `\255`, "WWW", `w\000`, `\042x`, "mail", "sub",
	strings.Repeat("l", 63), "-", `\000\000`, "ns1", `\@`, "wC", "y", `\255\255`,
}

func (g *fuzzGen) name() string {
	labels := make([]string, 1+g.pick(3))
	for i := range labels {
		labels[i] = fuzzLabels[g.pick(len(fuzzLabels))]
	}
	return strings.Join(labels, ".") + ".example.net."
}

// zone returns a zone file for example.net: the apex, then up to 15
// records of the kinds that make denials hard: wildcards, CNAME chains
// (in the zone, through wildcards, out of it), empty non-terminals,
// delegations with and without DS, DNAMEs.
func (g *fuzzGen) zone() string {
	var sb strings.Builder
	sb.WriteString("$ORIGIN example.net.\n$TTL 300\n@ IN SOA ns1.example.net. hostmaster.example.net. 1 3600 600 864000 300\n@ IN NS ns1.example.net.\nns1 IN A 192.0.2.1\n")
	owners := map[string]string{} // owner -> "cname", "dname", "ns" or "data"
	n := g.pick(16)
	for i := 0; i < n; i++ {
		owner := g.name()
		if g.pick(4) == 0 {
			owner = "*." + owner
		}
		if _, ok := parseName(owner); !ok {
			continue
		}
		key := strings.ToLower(owner)
		kind := owners[key]
		switch g.pick(9) {
		case 0, 1:
			if kind == "" || kind == "data" {
				fmt.Fprintf(&sb, "%s IN A 192.0.2.%d\n", owner, 2+i)
				owners[key] = "data"
			}
		case 2:
			if kind == "" || kind == "data" {
				fmt.Fprintf(&sb, "%s IN TXT \"t%d\"\n", owner, i)
				owners[key] = "data"
			}
		case 3:
			if kind == "" || kind == "data" {
				fmt.Fprintf(&sb, "%s IN MX 10 %s\n", owner, g.name())
				owners[key] = "data"
			}
		case 4, 5:
			if kind == "" {
				target := g.name()
				if g.pick(4) == 0 {
					target = "x.outside.test."
				}
				fmt.Fprintf(&sb, "%s IN CNAME %s\n", owner, target)
				owners[key] = "cname"
			}
		case 6:
			if kind == "" && !strings.HasPrefix(owner, "*") {
				fmt.Fprintf(&sb, "%s IN NS ns.%s\nns.%s IN A 192.0.2.53\n", owner, owner, owner)
				if g.pick(2) == 0 {
					fmt.Fprintf(&sb, "%s IN DS 12345 13 2 %s\n", owner, strings.Repeat("ab", 32))
				}
				owners[key] = "ns"
			}
		case 7:
			if kind == "" && g.pick(2) == 0 && !strings.HasPrefix(owner, "*") {
				fmt.Fprintf(&sb, "%s IN DNAME %s\n", owner, g.name())
				owners[key] = "dname"
			}
		case 8:
			if kind == "" || kind == "data" {
				fmt.Fprintf(&sb, "%s IN AAAA 2001:db8::%x\n", owner, i)
				owners[key] = "data"
			}
		}
	}
	return sb.String()
}

var fuzzTypes = []uint16{
	dns.TypeA, dns.TypeTXT, dns.TypeMX, dns.TypeCNAME, dns.TypeNS, dns.TypeDS, dns.TypeANY, dns.TypeNSEC,
	dns.TypeDNSKEY, dns.TypeSOA, dns.TypeAAAA, dns.TypeDNAME, dns.TypeCDS, TypeNXNAME, dns.TypeRRSIG, dns.TypeNone,
}

// query returns a hostile query: a name of the zone's kind or a mutation of
// it (a \000 appended to its first label, a label in front, a name of 255
// octets), any type, mostly QUERY but any opcode, with or without CO.
func (g *fuzzGen) query() *dns.Msg {
	name := g.name()
	switch g.pick(6) {
	case 0:
		name = strings.Replace(name, ".", `\000.`, 1)
	case 1:
		name = fuzzLabels[g.pick(len(fuzzLabels))] + "." + name
	case 2:
		name = strings.Repeat(`\255`, 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("e", 49) + ".example.net."
	case 3:
		name = "example.net."
	}
	if _, ok := parseName(name); !ok {
		name = "example.net." // a label or name too long for the wire: no client can send it
	}
	r := new(dns.Msg)
	r.SetQuestion(name, fuzzTypes[g.pick(len(fuzzTypes))])
	r.SetEdns0(uint16(512+g.pick(8)*512), true)
	if g.pick(3) == 0 {
		r.IsEdns0().SetCo()
	}
	if g.pick(8) == 0 {
		r.Opcode = g.pick(16)
	}
	// Through the wire and back, as a query reaches a server: the name as
	// miekg/dns writes it then (\042x becomes *x).
	wire, err := r.Pack()
	if err != nil {
		panic(err)
	}
	back := new(dns.Msg)
	if err := back.Unpack(wire); err != nil {
		panic(err)
	}
	return back
}

// FuzzHandler is the differential fuzzer of issue 13: zones built from the
// input, hostile queries through livesign over the file plugin (CNAME
// targets resolved as a server does, names outside the zone answered by a
// forger), and every reply checked against the zone's ground truth
// (zoneTruth.checkReply): every RRSIG verifies, every signed RRset is the
// zone's, every signed NSEC is true, every reply packs and unpacks; a reply
// to anything but QUERY carries no signature.
func FuzzHandler(f *testing.F) {
	f.Add([]byte("\x05\x00\x01\x04\x02\x00\x00\x04\x0a\x00\x01\x00\x00\x00\x05\x00\x00"))
	f.Add([]byte("\x08\x00\x04\x00\x00\x01\x02\x05\x00\x01\x00\x00\x09\x00\x02\x04\x00\x00\x02\x00\x00\x00\x01"))
	f.Add([]byte("\x0c\x00\x04\x00\x00\x02\x06\x00\x06\x01\x02\x02\x00\x07\x01\x01\x00\x01\x00\x00\x00\x00\x06\x03\x01"))
	keyDir := copyKeys(f, "testdata/ldns-classic/zsk")
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &fuzzGen{data: data}
		db := g.zone()
		l, truth, keys, ok := newFuzzPlugin(t, db, keyDir)
		if !ok {
			return // a zone the file plugin does not load
		}
		for i := 0; i < 6 && g.more(); i++ {
			r := g.query()
			rec := dnstest.NewRecorder(&test.ResponseWriter{})
			l.ServeDNS(context.Background(), rec, r)
			m := rec.Msg
			if m == nil {
				continue
			}
			q := r.Question[0].String()
			if r.Opcode != dns.OpcodeQuery && sigsIn(m) != 0 {
				t.Fatalf("zone:\n%s\nopcode %s %s: signed reply\n%s", db, dns.OpcodeToString[r.Opcode], q, m)
			}
			if bad := truth.checkReply(m, keys, testNow); len(bad) > 0 {
				t.Fatalf("zone:\n%s\nquery %s:\n%s\nreply:\n%s", db, q, strings.Join(bad, "\n"), m)
			}
		}
	})
}

// newFuzzPlugin is newTruthPlugin for the fuzzer: ok is false when the
// zone does not load.
func newFuzzPlugin(t *testing.T, db, keyDir string) (*Livesign, *zoneTruth, []dns.RR, bool) {
	z, err := file.Parse(strings.NewReader(db), "example.net.", "db", 0)
	if err != nil {
		return nil, nil, nil, false
	}
	l, err := New([]config.Config{fuzzConfig(keyDir)}, func() time.Time { return testNow })
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
		return nil, nil, nil, false
	}
	return l, truth, ks.DNSKEY, true
}

// fuzzConfig is testConfig with keys, a key directory with the modes
// livesign demands, copied once per fuzz target.
func fuzzConfig(keys string) config.Config {
	cfg := config.Default("example.net.")
	cfg.Keys = keys
	cfg.Bundle = "testdata/ldns-classic/bundle.zone"
	cfg.TrustAnchor = "testdata/ldns-classic/ksk.ds"
	cfg.CacheSize, cfg.ResponseCache = 1024, 128
	cfg.MaxSigners = 1 // one worker: CNAME targets come back through it
	return cfg
}
