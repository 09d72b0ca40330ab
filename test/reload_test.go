package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
)

// TestEndToEndHotReload replaces the bundle under a running server: bad
// files are rejected while the old bundle keeps serving validated answers,
// and a new valid bundle is served within a reload period.
func TestEndToEndHotReload(t *testing.T) {
	kf := livesignCeremony(t, "example.net", "ECDSAP256SHA256")
	server := startServer(t, "example.net", kf, "", "reload 200ms")
	u := validators.StartUnbound(t, "example.net.", server, kf.anchor)
	orig := dnskeySig(t, server, "example.net.")

	foreign := livesignCeremony(t, "example.net", "ECDSAP256SHA256") // another KSK, another ZSK
	foreignBundle, err := os.ReadFile(foreign.bundle)
	if err != nil {
		t.Fatal(err)
	}
	bads := map[string][]byte{"garbage": []byte("this is not a zone file\n"), "empty": nil, "foreign KSK": foreignBundle}
	for _, f := range []string{"expired.zone", "truncated.skr"} {
		b, err := os.ReadFile(filepath.Join("../testdata/bad", f))
		if err != nil {
			t.Fatal(err)
		}
		bads[f] = b
	}
	for name, data := range bads {
		// Replaced at once (rename), as operators should: livesign rejects each bad file once.
		rejected := reloadCount(t, "example.net.", "rejected")
		skrReplace(t, kf.bundle, string(data))
		for deadline := time.Now().Add(3 * time.Second); reloadCount(t, "example.net.", "rejected") == rejected; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not rejected within 3s (reload 200ms)", name)
			}
		}
		if got := dnskeySig(t, server, "example.net."); got != orig {
			t.Errorf("%s: replaced the good bundle", name)
		}
		u.Flush(t)
		if m := u.Query(t, "www.example.net.", dns.TypeA); !m.AuthenticatedData {
			t.Errorf("%s: answers no longer validate\n%s", name, m)
		}
	}

	// A new bundle from the same offline KSK, signed for a different period.
	dir := filepath.Dir(kf.keys)
	run(t, dir, livesignCLI(t), "bundle", "-ksk", "ksk-offline", "-zsk", "keys", "-zone", "example.net", "-out", kf.bundle, "-validity", "45d")
	deadline := time.Now().Add(3 * time.Second)
	for dnskeySig(t, server, "example.net.") == orig {
		if time.Now().After(deadline) {
			t.Fatal("the new bundle was not served within 3s (reload 200ms)")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := dnskeySig(t, server, "example.net."); !strings.Contains(got, time.Now().Add(45*24*time.Hour).UTC().Format("20060102")) {
		t.Errorf("served RRSIG %s is not the 45-day one", got)
	}
	u.Flush(t)
	if m := u.Query(t, "www.example.net.", dns.TypeA); !m.AuthenticatedData {
		t.Errorf("after the reload: not validated\n%s", m)
	}
}

// TestEndToEndOnlineKSK: with `ksk DIR` livesign signs the DNSKEY RRset
// itself; validators accept it like an offline-signed one.
func TestEndToEndOnlineKSK(t *testing.T) {
	bin, dir := livesignCLI(t), t.TempDir()
	run(t, dir, bin, "keygen", "-zone", "online.test", "-ksk", "-dir", "ksk")
	run(t, dir, bin, "keygen", "-zone", "online.test", "-zsk", "-dir", "keys")
	kskKeys, _ := filepath.Glob(filepath.Join(dir, "ksk", "*.key"))
	anchor := run(t, dir, bin, "ds", kskKeys[0])
	kf := keyFiles{keys: filepath.Join(dir, "keys"), anchor: anchor}
	server := startServer(t, "online.test", kf, "", "ksk "+filepath.Join(dir, "ksk"))
	for _, v := range []struct {
		name string
		q    func(t testing.TB, name string, qtype uint16) *dns.Msg
	}{
		{"unbound", validators.StartUnbound(t, "online.test.", server, anchor).Query},
	} {
		for _, tc := range e2eCases("online.test") {
			m := v.q(t, tc.name, tc.qtype)
			if m.Rcode != tc.rcode || !m.AuthenticatedData {
				t.Errorf("%s %s %s: rcode %s AD=%v\n%s", v.name, tc.name, dns.TypeToString[tc.qtype], dns.RcodeToString[m.Rcode], m.AuthenticatedData, m)
			}
		}
	}
	for _, qt := range []uint16{dns.TypeCDS, dns.TypeCDNSKEY} {
		if ok, out := validators.Delv(t, server, "online.test.", anchor, "online.test.", qt); !ok {
			t.Errorf("delv %s: not validated\n%s", dns.TypeToString[qt], out)
		}
	}
	if ok, out := validators.Delv(t, server, "online.test.", anchor, "www.online.test.", dns.TypeA); !ok {
		t.Errorf("delv: not validated\n%s", out)
	}
}
