package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/livesign/livesign/internal/validators"
	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
)

// tool runs an external command in dir and returns its stdout; it fails the
// test when the command fails.
func tool(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// TestKnotKSRToLivesignSKR: Knot's ZSK side makes the KSR, livesign signs
// it, keymgr validate-skr and import-skr accept the SKR (and validate-skr
// refuses it once a signature is altered).
func TestKnotKSRToLivesignSKR(t *testing.T) {
	keymgr := needTool(t, "keymgr")
	dir := t.TempDir()
	conf := validators.KnotConfig(t, dir, "example.com")
	kskDir := filepath.Join(dir, "ksk")
	mustRun(t, "keygen", "-zone", "example.com", "-ksk", "-dir", kskDir)
	tool(t, dir, keymgr, "-c", conf, "example.com.", "pregenerate", "+90d")
	ksr := tool(t, dir, keymgr, "-c", conf, "example.com.", "generate-ksr", "+0", "+90d")
	ksrFile, skrFile := filepath.Join(dir, "k.ksr"), filepath.Join(dir, "k.skr")
	os.WriteFile(ksrFile, []byte(ksr), 0o644)
	mustRun(t, "sign-ksr", "-ksk", kskDir, "-ksr", ksrFile, "-out", skrFile)
	if !regexp.MustCompile(`^;; SignedKeyResponse 1\.0 \d{10} \(`).Match(mustRead(t, skrFile)) {
		t.Fatalf("SKR not in Knot layout:\n%.300s", mustRead(t, skrFile))
	}
	// keymgr 3.2 validate-skr exits 0 even when it finds a bad signature: read its output.
	if out, err := exec.Command(keymgr, "-c", conf, "example.com.", "validate-skr", skrFile).CombinedOutput(); err != nil || strings.Contains(string(out), "error") {
		t.Fatalf("keymgr validate-skr: %v\n%s", err, out)
	}
	tool(t, dir, keymgr, "-c", conf, "example.com.", "import-skr", skrFile)
	if out := tool(t, dir, keymgr, "-c", conf, "example.com.", "show-offline", "+1d"); !strings.Contains(out, "RRSIG") {
		t.Errorf("keymgr show-offline after import-skr:\n%s", out)
	}

	// validate-skr really checks: an altered signature is refused.
	text := string(mustRead(t, skrFile))
	i := strings.Index(text, "RRSIG DNSKEY")
	j := i + strings.Index(text[i:], "example.com.\n") + len("example.com.\n") + 4
	bad := text[:j] + flip(text[j]) + text[j+1:]
	badFile := filepath.Join(dir, "bad.skr")
	os.WriteFile(badFile, []byte(bad), 0o644)
	if out, _ := exec.Command(keymgr, "-c", conf, "example.com.", "validate-skr", badFile).CombinedOutput(); !strings.Contains(string(out), "invalid SignedKeyResponse") {
		t.Errorf("keymgr validate-skr accepted an altered SKR: %s", out)
	}
}

// TestLivesignKSRToKnotSKR: livesign plan -format knot writes a KSR that
// keymgr sign-ksr signs; the SKR loads and serves in livesign.
func TestLivesignKSRToKnotSKR(t *testing.T) {
	keymgr := needTool(t, "keymgr")
	dir := t.TempDir()
	conf := validators.KnotConfig(t, dir, "example.com")
	kskDir, zskDir := filepath.Join(dir, "ksk"), filepath.Join(dir, "zsk")
	ksrFile, skrFile := filepath.Join(dir, "l.ksr"), filepath.Join(dir, "k.skr")
	mustRun(t, "keygen", "-zone", "example.com", "-ksk", "-dir", kskDir)
	keys, _ := filepath.Glob(filepath.Join(kskDir, "*.key"))
	tool(t, dir, keymgr, "-c", conf, "example.com.", "import-bind", keys[0])
	mustRun(t, "plan", "-zone", "example.com", "-keys", zskDir, "-until", "+90d", "-out", ksrFile, "-format", "knot")
	skr := tool(t, dir, keymgr, "-c", conf, "example.com.", "sign-ksr", ksrFile)
	os.WriteFile(skrFile, []byte(skr), 0o644)
	serveCheck(t, "example.com", zskDir, skrFile, keys[0], 90)
}

// serveCheck loads an SKR as the plugin does and checks that a ZSK signs at
// every instant of the next days, and that livesign check passes.
func serveCheck(t *testing.T, zone, zskDir, skrFile, anchorFile string, days int) {
	t.Helper()
	zsks, err := keystore.ReadKeys(zskDir, keystore.Selection{Zone: zone, Private: keystore.PrivateRequired})
	if err != nil {
		t.Fatal(err)
	}
	b, err := keystore.ReadBundle(skrFile, zone)
	if err != nil {
		t.Fatal(err)
	}
	a, err := keystore.ReadAnchor(anchorFile, zone)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := timeline.New(timeline.Inputs{Zone: zone + ".", ZSKs: zsks, Bundle: b, Anchor: a})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Now().Add(time.Minute)
	if err := tl.Check(from); err != nil {
		t.Fatal(err)
	}
	for at := from; at.Before(from.Add(time.Duration(days) * 24 * time.Hour)); at = at.Add(7 * time.Hour) {
		ks, err := tl.At(at)
		if err != nil {
			t.Fatalf("at %v: %v", at, err)
		}
		if !ks.ZSK.ActiveAt(at) || ks.Fallback {
			t.Fatalf("at %v: ZSK %d signs but its timers %+v do not make it active", at, ks.Tag(), ks.ZSK.Timers)
		}
	}
	code, stdout, stderr := livesign(t, "check", "-keys", zskDir, "-bundle", skrFile, "-trust-anchor", anchorFile, "-at", "+1m")
	if code != 0 {
		t.Errorf("check: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// bind920 returns the bin directory of BIND 9.20 (dnssec-ksr), as
// scripts/install-test-tools.sh installs it; with CI=true a missing one
// fails the test.
func bind920(t *testing.T) string {
	t.Helper()
	return validators.BIND920(t)
}

const bindPolicy = `dnssec-policy "ls" {
    offline-ksk yes;
    keys {
        ksk lifetime unlimited algorithm ecdsap256sha256;
        zsk lifetime 30d algorithm ecdsap256sha256;
    };
    dnskey-ttl 3600;
    max-zone-ttl 86400;
    zone-propagation-delay 300;
    publish-safety 3600;
    retire-safety 3600;
    signatures-validity-dnskey 14d;
    signatures-refresh 5d;
};
`

// TestLivesignKSRToBINDSKR: livesign plan writes a KSR that BIND 9.20
// dnssec-ksr sign signs; the SKR loads and serves in livesign.
func TestLivesignKSRToBINDSKR(t *testing.T) {
	bin := bind920(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "policy.conf"), []byte(bindPolicy), 0o644)
	os.Mkdir(filepath.Join(dir, "ksk"), 0o700)
	tool(t, dir, filepath.Join(bin, "dnssec-keygen"), "-l", "policy.conf", "-k", "ls", "-f", "KSK", "-K", "ksk", "-P", "now", "-A", "now", "example.org")
	zskDir, ksrFile := filepath.Join(dir, "zsk"), filepath.Join(dir, "l.ksr")
	mustRun(t, "plan", "-zone", "example.org", "-keys", zskDir, "-until", "+90d", "-out", ksrFile)
	k, err := keystore.ReadKSR(ksrFile, "example.org")
	if err != nil {
		t.Fatal(err)
	}
	first, last := k.Slots[0].Start.Format("20060102150405"), k.Slots[len(k.Slots)-1].Start.Format("20060102150405")
	skr := tool(t, dir, filepath.Join(bin, "dnssec-ksr"), "-l", "policy.conf", "-k", "ls", "-K", "ksk", "-f", ksrFile, "-i", first, "-e", last, "sign", "example.org")
	skrFile := filepath.Join(dir, "b.skr")
	os.WriteFile(skrFile, []byte(skr), 0o644)
	keys, _ := filepath.Glob(filepath.Join(dir, "ksk", "*.key"))
	serveCheck(t, "example.org", zskDir, skrFile, keys[0], 90)
}

// TestBINDKSRToLivesignSKR: BIND 9.20's ZSK side (dnssec-ksr keygen and
// request) makes the KSR; livesign sign-ksr answers with the same slots, key
// sets and RRSIG times as dnssec-ksr sign; the SKR serves with BIND's ZSKs.
func TestBINDKSRToLivesignSKR(t *testing.T) {
	bin := bind920(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "policy.conf"), []byte(bindPolicy), 0o644)
	os.Mkdir(filepath.Join(dir, "ksk"), 0o700)
	os.Mkdir(filepath.Join(dir, "zsk"), 0o700)
	tool(t, dir, filepath.Join(bin, "dnssec-keygen"), "-l", "policy.conf", "-k", "ls", "-f", "KSK", "-K", "ksk", "-P", "now", "-A", "now", "example.org")
	start := time.Now().UTC().Truncate(time.Second).Add(time.Minute)
	i, e := start.Format("20060102150405"), start.Add(90*24*time.Hour).Format("20060102150405")
	ksrTool := filepath.Join(bin, "dnssec-ksr")
	tool(t, dir, ksrTool, "-l", "policy.conf", "-k", "ls", "-K", "zsk", "-i", i, "-e", e, "keygen", "example.org")
	ksr := tool(t, dir, ksrTool, "-l", "policy.conf", "-k", "ls", "-K", "zsk", "-i", i, "-e", e, "request", "example.org")
	ksrFile, skrFile := filepath.Join(dir, "b.ksr"), filepath.Join(dir, "l.skr")
	os.WriteFile(ksrFile, []byte(ksr), 0o644)
	mustRun(t, "sign-ksr", "-ksk", filepath.Join(dir, "ksk"), "-ksr", ksrFile, "-out", skrFile, "-end", e)
	bindSKR := tool(t, dir, ksrTool, "-l", "policy.conf", "-k", "ls", "-K", "ksk", "-f", ksrFile, "-i", i, "-e", e, "sign", "example.org")
	mask := regexp.MustCompile(`(?m)(RRSIG\t\w+ 13 2 3600 \d{14} \d{14} \d+ example\.org\. ).*$`)
	clean := func(s string) string {
		s = mask.ReplaceAllString(s, "${1}SIG")
		return s[:strings.LastIndex(strings.TrimRight(s, "\n"), "\n")+1] // footer names the tool
	}
	if got, want := clean(string(mustRead(t, skrFile))), clean(bindSKR); got != want {
		t.Errorf("livesign's SKR differs from dnssec-ksr sign's (signature values aside):\n%s\n---- dnssec-ksr:\n%s", got, want)
	}
	// BIND's ZSK files (with .state) serve it.
	keys, _ := filepath.Glob(filepath.Join(dir, "ksk", "*.key"))
	privs, _ := filepath.Glob(filepath.Join(dir, "zsk", "*.private"))
	for _, p := range privs {
		os.Chmod(p, 0o600)
	}
	serveCheck(t, "example.org", filepath.Join(dir, "zsk"), skrFile, keys[0], 80)
}

// flip changes one base64 character.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
