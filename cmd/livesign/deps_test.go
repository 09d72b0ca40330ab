package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOfflineToolDeps: the offline KSK tool links what it needs and no more:
// no CoreDNS server, caddy server, gRPC or Prometheus package, so that its
// operators can audit it. What it links beyond the standard library is
// miekg/dns (and golang.org/x/net and x/sys, which miekg/dns uses), CoreDNS's
// Corefile reader (github.com/coredns/caddy/caddyfile, standard library
// only; for plan -corefile) and livesign's own keystore, timeline and
// config.
func TestOfflineToolDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	allowed := []string{
		"github.com/miekg/dns", "golang.org/x/net/", "golang.org/x/sys/", "github.com/coredns/caddy/caddyfile",
		"github.com/livesign/livesign/keystore", "github.com/livesign/livesign/timeline",
		"github.com/livesign/livesign/config", "github.com/livesign/livesign/cmd/livesign",
	}
	n := 0
	for _, pkg := range strings.Fields(string(out)) {
		first := strings.Split(pkg, "/")[0]
		if !strings.Contains(first, ".") || strings.HasPrefix(pkg, "vendor/") {
			continue // the standard library
		}
		n++
		ok := false
		for _, a := range allowed {
			ok = ok || pkg == a || strings.HasSuffix(a, "/") && strings.HasPrefix(pkg, a)
		}
		if !ok {
			t.Errorf("cmd/livesign links %s", pkg)
		}
	}
	if n > 25 {
		t.Errorf("cmd/livesign links %d packages outside the standard library, want at most 25", n)
	}
}
