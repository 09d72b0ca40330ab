package livesign

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"
	"github.com/livesign/livesign/config"
	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

func TestParse(t *testing.T) {
	tests := []struct {
		input   string
		wantErr string
		check   func(t *testing.T, c config.Config)
	}{
		{`livesign example.net {
			keys /k
			bundle /b
			trust-anchor /a
		}`, "", func(t *testing.T, c config.Config) {
			if c.Zone != "example.net." || c.Keys != "/k" || c.Bundle != "/b" || c.TrustAnchor != "/a" {
				t.Errorf("got %+v", c)
			}
			if c.SignatureValidity != 7*24*time.Hour || c.SignatureRefresh != 24*time.Hour || c.MaxZoneTTL != 24*time.Hour {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{`livesign example.net {
			keys /k
			bundle /b
			signature-validity 2w
			signature-refresh 12h
			max-zone-ttl 3600s
			cache 50
			max-signers 3
		}`, "", func(t *testing.T, c config.Config) {
			if c.SignatureValidity != 14*24*time.Hour || c.SignatureRefresh != 12*time.Hour || c.MaxZoneTTL != time.Hour || c.CacheSize != 50 || c.MaxSigners != 3 {
				t.Errorf("got %+v", c)
			}
		}},
		{`livesign example.net {
			keys /etc/coredns/keys
			bundle /etc/coredns/example.net.skr
			trust-anchor /etc/coredns/ksk.ds
			zsk-lifetime 30d
			dnskey-ttl 1h
			max-zone-ttl 1d
			propagation-delay 5m
			publish-safety 1h
			retire-safety 1h
			signature-validity 7d
			signature-refresh 1d
			auto-plan 180d /etc/coredns/example.net.ksr knot
			response-cache 0
			algorithm ED25519
		}`, "", func(t *testing.T, c config.Config) {
			if c.ZSKLifetime != 30*24*time.Hour || c.AutoPlan != 180*24*time.Hour || c.AutoPlanKSR != "/etc/coredns/example.net.ksr" ||
				c.KSRFormat != "knot" || c.ResponseCache != 0 || c.Algorithm != 15 || c.PublishSafety != time.Hour {
				t.Errorf("got %+v", c)
			}
		}},
		{`livesign example.net {
			keys /k
			bundle /b
			auto-plan 180d
		}`, "needs the KSR file", nil},
		{`livesign example.net { bundle /b
		}`, "missing 'keys DIR'", nil},
		{`livesign example.net { keys /k
		}`, "want exactly one of 'bundle FILE'", nil},
		{`livesign example.net { keys /k
			bundle /b
			frobnicate 1
		}`, `unknown property "frobnicate"`, nil},
		{`livesign example.net { keys /k /j
		}`, "exactly one argument", nil},
		{`livesign example.net { keys /k
			bundle /b
			signature-validity 1d
		}`, "must exceed", nil},
		{`livesign example.net { keys /k
			bundle /b
			max-zone-ttl soon
		}`, "positive duration", nil},
		{`livesign example.net { keys /k
			bundle /b
			cache -1
		}`, "want an integer of at least", nil},
		{`livesign example.net {
			keys /k
			bundle /b
			ksk /o
		}`, "want exactly one of", nil},
		{`livesign example.net {
			keys /k
			ksk /o
		}`, "", func(t *testing.T, c config.Config) {
			if c.KSK != "/o" || c.Bundle != "" {
				t.Errorf("got %+v", c)
			}
		}},
		{`livesign a.net b.net { keys /k
			bundle /b
		}`, "one zone per livesign block", nil},
		{`livesign example.net { keys /k
			bundle /b
		}
		livesign sub.example.net { keys /k2
			bundle /b2
		}`, "zone sub.example.net. is served in the same server block as livesign zone example.net., above it", nil},
	}
	for i, tc := range tests {
		c := caddy.NewTestController("dns", tc.input)
		cfgs, err := parse(c)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("test %d: error %v, want one containing %q", i, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("test %d: %v", i, err)
			continue
		}
		if len(cfgs) != 1 {
			t.Fatalf("test %d: %d configs", i, len(cfgs))
		}
		tc.check(t, cfgs[0])
	}
}

// TestNewRefuses checks that each bad input stops startup with an error
// naming the file and the reason.
func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(c *config.Config)
		wantErr []string
	}{
		{"wrong anchor", func(c *config.Config) { c.Bundle = "testdata/bad/foreign-ksk.zone" }, []string{"foreign-ksk.zone", "trust anchor"}},
		{"expired", func(c *config.Config) { c.Bundle = "testdata/bad/expired.zone" }, []string{"expired.zone", "expired"}},
		{"missing zsk", func(c *config.Config) { c.Bundle = "testdata/bad/missing-zsk.zone" }, []string{"missing-zsk.zone", "44013"}},
		{"garbage", func(c *config.Config) { c.Bundle = "testdata/bad/garbage.bundle" }, []string{"garbage.bundle"}},
		{"empty", func(c *config.Config) { c.Bundle = "testdata/bad/empty.bundle" }, []string{"empty.bundle"}},
		{"tampered", func(c *config.Config) { c.Bundle = "testdata/bad/tampered-rrsig.zone" }, []string{"tampered-rrsig.zone"}},
		{"no keys", func(c *config.Config) { c.Keys = t.TempDir() }, []string{"no key files", "livesign keygen"}},
		{"missing keys directory", func(c *config.Config) { c.Keys = filepath.Join(t.TempDir(), "nope") }, []string{"keys", "nope: no such file or directory", "livesign keygen"}},
		{"group-writable keys directory", func(c *config.Config) { os.Chmod(c.Keys, 0o770) }, []string{"keys", "writable by its group (mode 0770)", "chmod 700"}},
		{"world-writable keys directory", func(c *config.Config) { os.Chmod(c.Keys, 0o777|os.ModeSticky) }, []string{"keys", "writable by group and others (mode 1777)", "sticky bit"}},
		{"world-readable private key", func(c *config.Config) {
			os.Chmod(filepath.Join(c.Keys, "Kexample.net.+013+44013.private"), 0o644)
		}, []string{"Kexample.net.+013+44013.private", "readable by group or others", "chmod 600"}},
		{"tag collision", func(c *config.Config) {
			for {
				k, err := keystore.GenerateKey("example.net.", dns.ECDSAP256SHA256, false, testNow)
				if err != nil {
					t.Fatal(err)
				}
				if k.Tag() == 41401 { // the KSK's
					if _, err := keystore.WriteKey(c.Keys, k); err != nil {
						t.Fatal(err)
					}
					return
				}
			}
		}, []string{"41401", "2 keys"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			tc.mutate(&cfg)
			_, err := New([]config.Config{cfg}, func() time.Time { return testNow })
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
