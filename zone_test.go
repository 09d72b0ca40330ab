package livesign

import (
	"bytes"
	"fmt"
	golog "log"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/livesign/livesign/config"
	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
	"github.com/miekg/dns"
)

// TestClockJumpsBack: the zone's cached key set follows the clock back.
func TestClockJumpsBack(t *testing.T) {
	g := newGen(t, "jump.example.")
	p := keystore.DefaultPolicy()
	start := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	var chain []*keystore.Key
	for i := 0; i < 4; i++ {
		act := start.Add(time.Duration(i) * p.ZSKLifetime)
		pub := act.Add(-p.Ipub())
		if i == 0 {
			pub = start
		}
		chain = append(chain, g.key(false, keystore.Timers{Created: pub, Publish: pub, Activate: act,
			Inactive: act.Add(p.ZSKLifetime), Delete: act.Add(p.ZSKLifetime + p.Iret())}))
	}
	tl, err := timeline.New(timeline.Inputs{Zone: g.Zone, ZSKs: chain, KSKs: []*keystore.Key{g.KSK}, Anchor: g.Anchor()})
	if err != nil {
		t.Fatal(err)
	}
	z := &Zone{Name: g.Zone, Timeline: tl}
	switchAt := chain[2].Timers.Activate
	after, err := z.Keys(switchAt.Add(10 * time.Minute))
	if err != nil || after.ZSK != chain[2] {
		t.Fatalf("after the switch: %v %v", after, err)
	}
	before, err := z.Keys(switchAt.Add(-50 * time.Minute)) // the clock went back an hour
	if err != nil || before.ZSK != chain[1] {
		t.Fatalf("an hour back: signs with %v, want %d (%v)", before, chain[1].Tag(), err)
	}
}

// TestAlgorithmWithoutAutoPlan: the algorithm directive without auto-plan is
// never ignored: a zone none of whose signing ZSKs has it does not start.
func TestAlgorithmWithoutAutoPlan(t *testing.T) {
	for _, tc := range []struct {
		alg     uint8
		wantErr string
	}{
		{0, ""},
		{dns.ECDSAP256SHA256, ""}, // the fixture's ZSK
		{dns.ED25519, "algorithm ED25519 is set, but the ZSKs that sign have ECDSAP256SHA256, and without auto-plan the server makes no keys"},
	} {
		cfg := testConfig(t)
		cfg.Algorithm = tc.alg
		_, err := New([]config.Config{cfg}, func() time.Time { return testNow })
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("algorithm %d: %v, want %q", tc.alg, err, tc.wantErr)
		}
	}
}

// TestZoneMatchesCoreDNS: the handler picks the zone of a query name as
// CoreDNS's plugin.Zones.Matches does, for nested zones and hostile names.
func TestZoneMatchesCoreDNS(t *testing.T) {
	zones := []*Zone{{Name: "example.net."}, {Name: "sub.example.net."}, {Name: "net."}, {Name: "x\\.y.org."}}
	l := &Livesign{zones: zones}
	var names []string
	for _, z := range zones {
		names = append(names, z.Name)
	}
	for _, q := range []string{
		"example.net.", "EXAMPLE.NET.", "www.example.net.", "a.sub.example.net.", "sub.example.net.", "Sub.Example.Net.",
		"xsub.example.net.", "a\\.sub.example.net.", "a\\\\.sub.example.net.", "a\\\\\\.sub.example.net.", "example.com.", "net.",
		"other.net.", ".", "x\\.y.org.", "a.x\\.y.org.", "y.org.", "\\000.example.net.", "*.example.net.", "\\.example.net.",
		"exampleXnet.", "a.b.c.d.e.f.example.net.",
	} {
		want := plugin.Zones(names).Matches(q)
		got := ""
		if z := l.zone(q); z != nil {
			got = z.Name
		}
		if got != want {
			t.Errorf("zone(%q) = %q, plugin.Zones.Matches says %q", q, got, want)
		}
	}
}

// TestReportRepairsNamesPublishTime: a ZSK its timers publish but the signed
// DNSKEY set lacks is named once in a warning, with the time its timers
// publish it from, Created when the key file sets no Publish time.
func TestReportRepairsNamesPublishTime(t *testing.T) {
	g := newGen(t, "repair.example.")
	signing := g.key(false, keystore.Timers{Created: t0, Publish: t0, Activate: t0})
	created := t0.Add(24 * time.Hour)
	unsigned := g.key(false, keystore.Timers{Created: created}) // only Created, as livesign keygen writes
	tl := g.timeline([]*keystore.Key{signing, unsigned}, g.slot(t0, t1, signing))
	z := &Zone{Name: g.Zone, Timeline: tl}

	var buf bytes.Buffer
	golog.SetOutput(&buf)
	defer golog.SetOutput(os.Stderr)
	for range 2 {
		if ks, err := z.Keys(created.Add(time.Hour)); err != nil || ks.ZSK != signing {
			t.Fatalf("signs with %v (%v), want ZSK %d", ks, err, signing.Tag())
		}
	}
	out := buf.String()
	want := fmt.Sprintf("ZSK %d (%s) is published by its timers (from %s) but not in the signed DNSKEY set", unsigned.Tag(), unsigned.Base, timeline.Stamp(created))
	if !strings.Contains(out, want) {
		t.Fatalf("log does not say %q:\n%s", want, out)
	}
	if n := strings.Count(out, fmt.Sprintf("ZSK %d ", unsigned.Tag())); n != 1 {
		t.Errorf("the key is named %d times, want once:\n%s", n, out)
	}
}
