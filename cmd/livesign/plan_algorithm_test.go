package main

import (
	"os"

	"path/filepath"
	"strings"
	"testing"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// TestPlanCorefileAlgorithm: plan -corefile takes the algorithm directive of
// the zone's livesign block for new ZSKs; a keys directory of two
// algorithms (an algorithm roll) needs one named for new ZSKs.
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
	if code == 0 || !strings.Contains(stderr, "(an algorithm roll): say which new ZSKs get, with the algorithm directive (or -algorithm)") {
		t.Errorf("exit %d, stderr %q: want the algorithm of new ZSKs asked for", code, stderr)
	}
}

// TestPlanCorefileBundleKSK: with -corefile, plan takes the algorithm of the
// bundle's KSK, as auto-plan does: an Ed25519 bundle and an empty keys
// directory give Ed25519 ZSKs, with no algorithm directive anywhere; another
// -algorithm starts an algorithm roll: its first ZSK signs PreSign before it
// is published.
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
	mustRun(t, "plan", "-corefile", cf, "-zone", "ed.org", "-until", "+40d", "-out", filepath.Join(dir, "ed2.ksr"), "-algorithm", "ECDSAP256SHA256")
	zsks := readZSKFiles(t, keys, "ed.org.")
	var p256 []*keystore.Key
	for _, k := range zsks {
		if k.DNSKEY.Algorithm == dns.ECDSAP256SHA256 {
			p256 = append(p256, k)
		}
	}
	if len(p256) == 0 || len(p256) == len(zsks) {
		t.Fatalf("%d of %d ZSKs ECDSAP256SHA256: want the ED25519 chain kept and a new one", len(p256), len(zsks))
	}
	first := p256[0]
	for _, k := range p256 {
		if k.ActiveSince().Before(first.ActiveSince()) {
			first = k
		}
	}
	if got, want := first.Timers.Publish.Sub(first.Timers.Activate), keystore.DefaultPolicy().PreSign(); got != want {
		t.Errorf("the new algorithm's first ZSK is published %s after it activates, want %s", got, want)
	}
}
