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

// TestPlanCorefileBundleKSK: with -corefile, plan takes the algorithm of the
// bundle's KSK, as auto-plan does: an Ed25519 bundle and an empty keys
// directory give Ed25519 ZSKs, with no algorithm directive anywhere.
func TestPlanCorefileBundleKSK(t *testing.T) {
	fixedClock(t)
	dir := t.TempDir()
	mustRun(t, "keygen", "-zone", "ed.org", "-ksk", "-algorithm", "ED25519", "-dir", filepath.Join(dir, "ksk"))
	mustRun(t, "keygen", "-zone", "ed.org", "-zsk", "-algorithm", "ED25519", "-dir", filepath.Join(dir, "first"))
	bundle := filepath.Join(dir, "ed.bundle")
	mustRun(t, "bundle", "-ksk", filepath.Join(dir, "ksk"), "-zsk", filepath.Join(dir, "first"), "-zone", "ed.org", "-out", bundle)
	keys := filepath.Join(dir, "keys")
	cf := filepath.Join(dir, "Corefile")
	if err := os.WriteFile(cf, []byte("ed.org {\n  livesign {\n    keys "+keys+"\n    bundle "+bundle+"\n  }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "plan", "-corefile", cf, "-zone", "ed.org", "-until", "+40d", "-out", filepath.Join(dir, "ed.ksr"))
	names, _ := filepath.Glob(filepath.Join(keys, "*.key"))
	if len(names) == 0 {
		t.Fatal("plan made no ZSK")
	}
	for _, n := range names {
		if !strings.Contains(filepath.Base(n), "+015+") {
			t.Errorf("%s: want ED25519 (015), the algorithm of the bundle's KSK", n)
		}
	}
	code, _, stderr := livesign(t, "plan", "-corefile", cf, "-zone", "ed.org", "-until", "+40d", "-out", filepath.Join(dir, "ed2.ksr"), "-algorithm", "ECDSAP256SHA256")
	if code == 0 || !strings.Contains(stderr, "is set, but KSK") {
		t.Errorf("exit %d, stderr %q: want -algorithm against the bundle's KSK refused", code, stderr)
	}
}
