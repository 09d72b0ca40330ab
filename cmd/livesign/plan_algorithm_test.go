package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanCorefileAlgorithm: plan -corefile takes the algorithm directive of
// the zone's livesign block for new ZSKs, and refuses a keys directory of
// mixed algorithms.
func TestPlanCorefileAlgorithm(t *testing.T) {
	fixedClock(t)
	dir := t.TempDir()
	cf := filepath.Join(dir, "Corefile")
	keys := filepath.Join(dir, "zsk")
	text := "ex.org {\n  livesign ex.org {\n    keys " + keys + "\n    bundle b\n    algorithm ED25519\n  }\n}\n"
	if err := os.WriteFile(cf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "plan", "-corefile", cf, "-zone", "ex.org", "-until", "+40d", "-out", filepath.Join(dir, "ex.ksr"))
	names, _ := filepath.Glob(filepath.Join(keys, "*.key"))
	if len(names) == 0 {
		t.Fatal("plan made no ZSK")
	}
	for _, n := range names {
		if !strings.Contains(filepath.Base(n), "+015+") {
			t.Errorf("%s: want ED25519 (015) from the Corefile's algorithm directive", n)
		}
	}
	mustRun(t, "keygen", "-zone", "ex.org", "-zsk", "-algorithm", "ECDSAP256SHA256", "-dir", keys)
	code, _, stderr := livesign(t, "plan", "-zone", "ex.org", "-keys", keys, "-until", "+40d", "-out", filepath.Join(dir, "ex2.ksr"))
	if code == 0 || !strings.Contains(stderr, "RFC 4035") {
		t.Errorf("exit %d, stderr %q: want mixed algorithms refused", code, stderr)
	}
}
