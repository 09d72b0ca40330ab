package test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
)

// TestUpstreamCoreDNSBuild runs what `make coredns-upstream` runs (deploy/upstream/
// build-coredns.sh): CoreDNS's own source of the version in go.mod, from the Go module cache,
// with livesign:github.com/livesign/livesign after dnssec:dnssec in plugin.cfg, a replace to this
// checkout, CoreDNS's go generate and a static build. The binary must list livesign in
// -plugins, have it right after dnssec in its generated directive list, and serve a zone that
// delv validates.
func TestUpstreamCoreDNSBuild(t *testing.T) {
	t.Parallel()
	validators.Require(t, "delv")
	work, out := t.TempDir(), filepath.Join(t.TempDir(), "coredns-upstream")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "../deploy/upstream/build-coredns.sh", out, work)
	cmd.WaitDelay = 10 * time.Second
	log, err := cmd.CombinedOutput()
	t.Cleanup(func() { exec.Command("chmod", "-R", "u+w", work).Run() }) // module cache copies are read-only
	if err != nil {
		t.Fatalf("deploy/upstream/build-coredns.sh: %v (after %v)\n%s", err, time.Since(start).Round(time.Second), log)
	}
	t.Logf("upstream build: %v", time.Since(start).Round(time.Second))

	// plugin.cfg and the directive list generated from it.
	src := filepath.Join(work, "coredns")
	cfg, err := os.ReadFile(filepath.Join(src, "plugin.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), "\ndnssec:dnssec\nlivesign:github.com/livesign/livesign\n") {
		t.Errorf("plugin.cfg: livesign is not right after dnssec:\n%s", cfg)
	}
	zd, err := os.ReadFile(filepath.Join(src, "core", "dnsserver", "zdirectives.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`"dnssec",\s*"livesign",`).Match(zd) {
		t.Errorf("go generate did not put livesign after dnssec in zdirectives.go:\n%s", zd)
	}
	zp, _ := os.ReadFile(filepath.Join(src, "core", "plugin", "zplugin.go"))
	if !strings.Contains(string(zp), `_ "github.com/livesign/livesign"`) {
		t.Errorf("zplugin.go does not import livesign:\n%s", zp)
	}
	gomod, _ := os.ReadFile(filepath.Join(src, "go.mod"))
	root, _ := filepath.Abs("..")
	if !strings.Contains(string(gomod), "github.com/livesign/livesign => "+root) {
		t.Errorf("go.mod does not replace livesign by this checkout (%s):\n%s", root, gomod)
	}

	plugins, err := exec.Command(out, "-plugins").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^\s*(dns\.)?livesign$`).Match(plugins) {
		t.Fatalf("%s -plugins does not list livesign:\n%s", out, plugins)
	}

	// It serves a signed zone that delv validates.
	kf := livesignCeremony(t, "example.net", "ECDSAP256SHA256")
	dir := t.TempDir()
	zone, _ := os.ReadFile("../testdata/zone.db")
	os.WriteFile(filepath.Join(dir, "db.example.net"), zone, 0o644)
	os.WriteFile(filepath.Join(dir, "anchor.ds"), []byte(kf.anchor), 0o644)
	p := startCoreDNSProcess(t, out, dir, "example.net", func(port int) string {
		return fmt.Sprintf(`example.net:%d {
    bind 127.0.0.1
    file db.example.net
    livesign {
        keys %s
        bundle %s
        trust-anchor anchor.ds
    }
}
`, port, kf.keys, kf.bundle)
	})
	signedAnswer(t, p.Addr, "example.net.", "www.example.net.", dns.TypeA)
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"www.example.net.", dns.TypeA}, {"nope.example.net.", dns.TypeA}} {
		if ok, out := validators.Delv(t, p.Addr, "example.net.", kf.anchor, q.name, q.qtype); !ok {
			t.Errorf("delv does not validate %s %s from upstream CoreDNS:\n%s\nserver log:\n%s", q.name, dns.TypeToString[q.qtype], out, p.Log())
		}
	}
}
