package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy/caddyfile"
)

func parseText(t *testing.T, text string, block []string) ([]Config, error) {
	t.Helper()
	d := caddyfile.NewDispenser("Corefile", strings.NewReader(text))
	return Parse(&d, block, "")
}

// TestParseDirectives: every directive of the table sets its field, and
// bad arguments name the directive, its usage, the file and the line.
func TestParseDirectives(t *testing.T) {
	cfgs, err := parseText(t, `livesign Example.NET {
		keys k
		bundle /b
		trust-anchor /a
		foreign-keys other
		signature-validity 2w
		signature-refresh 12h
		max-zone-ttl 1h
		dnskey-ttl 30m
		propagation-delay 1m
		zsk-lifetime 10d
		publish-safety 2h
		retire-safety 3h
		auto-plan 90d /ksr knot
		algorithm ED25519
		reload 1m
		warn-coverage 7d
		cache 50
		response-cache 0
		max-signers 3
	}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := cfgs[0]
	want := Config{Zone: "example.net.", Keys: "k", Bundle: "/b", TrustAnchor: "/a", Foreign: "other",
		SignatureValidity: 14 * 24 * time.Hour, SignatureRefresh: 12 * time.Hour, MaxZoneTTL: time.Hour,
		DNSKEYTTL: 30 * time.Minute, PropagationDelay: time.Minute, ZSKLifetime: 10 * 24 * time.Hour,
		PublishSafety: 2 * time.Hour, RetireSafety: 3 * time.Hour, AutoPlan: 90 * 24 * time.Hour, AutoPlanKSR: "/ksr",
		KSRFormat: "knot", Algorithm: 15, Reload: time.Minute, WarnCoverage: 7 * 24 * time.Hour,
		CacheSize: 50, ResponseCache: 0, MaxSigners: 3}
	if c != want {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	if len(directives) != 20 {
		t.Errorf("%d directives: a new one needs a line in this test and in README.md's Syntax", len(directives))
	}

	for _, tc := range []struct{ text, want string }{
		{"livesign x {\n keys /k\n bundle /b\n cache zero\n}", "Corefile:4 - Error during parsing: cache: \"zero\": want an integer of at least 1 (cache N)"},
		{"livesign x {\n keys /k\n bundle /b\n reload -1s\n}", "reload: \"-1s\": want a positive duration"},
		{"livesign x {\n keys /k /j\n bundle /b\n}", "keys: want exactly one argument, got 2 (keys PATH)"},
		{"livesign x {\n keys /k\n bundle /b\n auto-plan\n}", "auto-plan: got 0 arguments (auto-plan HORIZON [KSRFILE [bind|knot]])"},
		{"livesign x {\n keys /k\n bundle /b\n algorithm DSA\n}", "algorithm: algorithm \"DSA\" is not supported"},
		{"livesign x {\n keys /k\n bundle /b\n frob 1\n}", `unknown property "frob": the livesign directives are keys, bundle,`},
		{"livesign x {\n keys /k\n bundle /b\n keys /j\n}", "Corefile:4 - Error during parsing: keys is given twice in the livesign block of x.: give it once"},
		{"livesign x {\n keys /k\n}", "want exactly one of 'bundle FILE'"},
		{"livesign x y {\n keys /k\n bundle /b\n}", "one zone per livesign block"},
	} {
		_, err := parseText(t, tc.text, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.text, err, tc.want)
		}
	}

	// A livesign zone must be one the server block serves (at or below
	// one of its zones), or CoreDNS never hands it a query.
	for _, tc := range []struct {
		zone  string
		block []string
		ok    bool
	}{
		{"example.net", []string{"example.net."}, true},
		{"sub.example.net", []string{"example.net."}, true},
		{"example.net", []string{"."}, true},
		{"example.net", []string{"example.org.", "example.net."}, true},
		{"example.org", []string{"example.net."}, false},
		{"example.net", []string{"sub.example.net."}, false},
	} {
		_, err := parseText(t, "livesign "+tc.zone+" {\n keys /k\n bundle /b\n}", tc.block)
		if tc.ok != (err == nil) || !tc.ok && !strings.Contains(err.Error(), "outside this server block's zones") {
			t.Errorf("livesign %s in a block of %v: error %v, want ok=%v", tc.zone, tc.block, err, tc.ok)
		}
	}
}

// TestReadCorefile: the CLI reads the Corefile as CoreDNS does: import,
// {$ENV} placeholders, quotes, snippets, the root directive, the server
// block's zone.
func TestReadCorefile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("LIVESIGN_TEST_KEYS", "/env/keys")
	os.WriteFile(filepath.Join(dir, "timing"), []byte("zsk-lifetime 10d\ndnskey-ttl 2h\n"), 0o644)
	corefile := filepath.Join(dir, "Corefile")
	os.WriteFile(corefile, []byte(`(common) {
    log
}
example.net:1053 {
    import common
    root /srv/dns
    file db.example.net
    livesign {
        keys {$LIVESIGN_TEST_KEYS}
        bundle "example net.skr"
        import `+filepath.Join(dir, "timing")+`
    }
}
dns://example.org {
    livesign example.org {
        keys /k
        ksk /ksk
    }
}
`), 0o644)
	cfgs, err := ReadCorefile(corefile)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs) != 2 {
		t.Fatalf("%d blocks, want 2", len(cfgs))
	}
	c := cfgs[0]
	if c.Zone != "example.net." || c.Keys != "/env/keys" || c.Bundle != "/srv/dns/example net.skr" || c.ZSKLifetime != 10*24*time.Hour || c.DNSKEYTTL != 2*time.Hour {
		t.Errorf("example.net: %+v", c)
	}
	if c, err := ForZone(corefile, "example.org."); err != nil || c.KSK != "/ksk" {
		t.Errorf("example.org: %+v %v", c, err)
	}
	if _, err := ForZone(corefile, "nope."); err == nil || !strings.Contains(err.Error(), "no livesign block for nope.") {
		t.Errorf("nope: %v", err)
	}
}

func TestBlockZone(t *testing.T) {
	for key, want := range map[string]string{
		"example.net:1053": "example.net.", "dns://Example.NET.:53": "example.net.", ".": ".", ".:53": ".", "tls://example.org": "example.org.",
	} {
		if got := blockZone(key); got != want {
			t.Errorf("blockZone(%q) = %q, want %q", key, got, want)
		}
	}
}

// TestCheckNesting: zones side by side in one server block are fine, a zone
// below a livesign zone is not, whether livesign or another plugin serves it.
func TestCheckNesting(t *testing.T) {
	cfg := func(z string) Config { return Config{Zone: z} }
	tests := []struct {
		cfgs    []Config
		block   []string
		wantErr string
	}{
		{[]Config{cfg("example.net."), cfg("example.org.")}, []string{"example.net.", "example.org."}, ""},
		{[]Config{cfg("example.net.")}, []string{"."}, ""},
		{[]Config{cfg("example.net."), cfg("sub.example.net.")}, nil, "zone sub.example.net. is served in the same server block as livesign zone example.net."},
		{[]Config{cfg("example.net.")}, []string{"example.net.", "insecure.example.net."}, "zone insecure.example.net. is served"},
	}
	for i, tc := range tests {
		err := checkNesting(tc.cfgs, tc.block)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("test %d: %v, want %q", i, err, tc.wantErr)
		}
	}
}
