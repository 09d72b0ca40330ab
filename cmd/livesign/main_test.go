package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

var testNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// livesign runs the CLI with args and returns its exit status and output.
func livesign(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// fixedClock makes now return testNow for the test.
func fixedClock(t *testing.T) {
	t.Helper()
	old := now
	now = func() time.Time { return testNow }
	t.Cleanup(func() { now = old })
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (CI=true requires it): %v", name, err)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

func td(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "testdata"}, parts...)...)
}

func TestRunUsageAndErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // substring
		stderr     string // substring
		noUsageErr bool   // stderr must not contain a usage text
	}{
		{name: "no command", args: nil, code: 1, stderr: "livesign: no command given\nusage: livesign <command>"},
		{name: "help", args: []string{"help"}, code: 0, stdout: "usage: livesign <command>"},
		{name: "-h", args: []string{"-h"}, code: 0, stdout: "keygen"},
		{name: "unknown command", args: []string{"sign"}, code: 1, stderr: "livesign: unknown command \"sign\"\nusage:"},
		{name: "keygen -h", args: []string{"keygen", "-h"}, code: 0, stdout: "usage: livesign keygen -zone ZONE (-ksk|-zsk)"},
		{name: "bundle -help", args: []string{"bundle", "-help"}, code: 0, stdout: "-validity string"},
		{name: "ds -h", args: []string{"ds", "-h"}, code: 0, stdout: "usage: livesign ds"},
		{name: "keygen bad flag", args: []string{"keygen", "-bogus"}, code: 1, stderr: "livesign: flag provided but not defined: -bogus\nusage: livesign keygen"},
		{name: "keygen no zone", args: []string{"keygen", "-ksk", "-dir", dir}, code: 1, stderr: "livesign: keygen: -zone is required\nusage:"},
		{name: "keygen no dir", args: []string{"keygen", "-ksk", "-zone", "example.net"}, code: 1, stderr: "-dir is required"},
		{name: "keygen no kind", args: []string{"keygen", "-zone", "example.net", "-dir", dir}, code: 1, stderr: "give -ksk or -zsk"},
		{name: "keygen bad algorithm", args: []string{"keygen", "-zone", "example.net", "-ksk", "-dir", dir, "-algorithm", "RSASHA1"}, code: 1, stderr: "algorithm \"RSASHA1\" is not supported"},
		{name: "keygen bad zone", args: []string{"keygen", "-zone", "exa mple..net", "-ksk", "-dir", dir}, code: 1, stderr: "is not a domain name"},
		{name: "keygen extra argument", args: []string{"keygen", "-zone", "example.net", "-ksk", "-dir", dir, "extra"}, code: 1, stderr: "unexpected argument \"extra\""},
		{name: "bundle missing flags", args: []string{"bundle", "-zone", "example.net"}, code: 1, stderr: "-ksk, -zsk, -zone and -out are required"},
		{name: "bundle bad validity", args: []string{"bundle", "-ksk", dir, "-zsk", dir, "-zone", "example.net", "-out", "x", "-validity", "90"}, code: 1, stderr: "-validity \"90\": give a positive duration"},
		{name: "bundle negative validity", args: []string{"bundle", "-ksk", dir, "-zsk", dir, "-zone", "example.net", "-out", "x", "-validity", "-1d"}, code: 1, stderr: "give a positive duration"},
		{name: "bundle expires before inception", args: []string{"bundle", "-ksk", dir, "-zsk", dir, "-zone", "example.net", "-out", "x", "-validity", "1h", "-inception", "2h"}, code: 1, stderr: "would expire"},
		{name: "bundle missing ksk dir", args: []string{"bundle", "-ksk", filepath.Join(dir, "nope"), "-zsk", dir, "-zone", "example.net", "-out", "x"}, code: 1, stderr: "bundle: -ksk " + filepath.Join(dir, "nope") + ": no such directory: give the directory with the KSK files", noUsageErr: true},
		{name: "ds no file", args: []string{"ds"}, code: 1, stderr: "livesign: ds: give exactly one FILE\nusage: livesign ds"},
		{name: "ds bad digest", args: []string{"ds", td("ldns-classic", "ksk.ds"), "-digest", "3"}, code: 1, stderr: "digest type 3 is not supported"},
		{name: "ds missing file", args: []string{"ds", filepath.Join(dir, "nope.key")}, code: 1, stderr: "ds: FILE " + filepath.Join(dir, "nope.key") + ": no such file: give a .key file, a bundle", noUsageErr: true},
		{name: "ds no KSK", args: []string{"ds", td("ldns-classic", "zsk", "Kexample.net.+013+44013.key")}, code: 1, stderr: "Kexample.net.+013+44013.key: no KSK (DNSKEY with flags 257) found", noUsageErr: true},
		{name: "ds unparseable", args: []string{"ds", td("bad", "garbage.bundle")}, code: 1, stderr: "garbage.bundle: dns: not a TTL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := livesign(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout %q does not contain %q", stdout, tc.stdout)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.stderr)
			}
			if tc.code != 0 && !strings.HasPrefix(stderr, "livesign: ") {
				t.Errorf("stderr %q does not start with \"livesign: \"", stderr)
			}
			if tc.noUsageErr && strings.Contains(stderr, "usage:") {
				t.Errorf("runtime error printed the usage: %q", stderr)
			}
		})
	}
}

func TestKeygen(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		alg   uint8
		kinds []bool // IsKSK of each key printed, in order
	}{
		{"default algorithm KSK", []string{"-ksk"}, 13, []bool{true}},
		{"ZSK by number", []string{"-zsk", "-algorithm", "14"}, 14, []bool{false}},
		{"ED25519 lower case", []string{"-zsk", "-algorithm", "ed25519"}, 15, []bool{false}},
		{"RSASHA256", []string{"-zsk", "-algorithm", "RSASHA256"}, 8, []bool{false}},
		{"both kinds", []string{"-ksk", "-zsk"}, 13, []bool{true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys", "example.net")
			args := append([]string{"keygen", "-zone", "Example.NET", "-dir", dir}, tc.args...)
			before := time.Now().UTC().Truncate(time.Second)
			code, stdout, stderr := livesign(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			fi, err := os.Stat(dir)
			if err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("dir mode %v, %v; want 0700", fi.Mode().Perm(), err)
			}
			files := strings.Fields(stdout)
			if len(files) != 2*len(tc.kinds) {
				t.Fatalf("printed %q, want a .key and a .private file name per key", stdout)
			}
			var bases []string
			for i := 0; i < len(files); i += 2 {
				base := strings.TrimSuffix(files[i], ".key")
				if files[i] != base+".key" || files[i+1] != base+".private" {
					t.Errorf("printed %q and %q, want BASE.key and BASE.private", files[i], files[i+1])
				}
				bases = append(bases, base)
			}
			for i, base := range bases {
				if !strings.HasPrefix(base, filepath.Join(dir, "Kexample.net.+")) {
					t.Errorf("base %q", base)
				}
				priv, err := os.Stat(base + ".private")
				if err != nil || priv.Mode().Perm() != 0o600 {
					t.Fatalf(".private mode %v, %v; want 0600", priv.Mode().Perm(), err)
				}
				k, err := keystore.ReadKey(base)
				if err != nil {
					t.Fatal(err)
				}
				if k.DNSKEY.Algorithm != tc.alg || k.IsKSK() != tc.kinds[i] {
					t.Errorf("key %s: alg %d ksk %v", base, k.DNSKEY.Algorithm, k.IsKSK())
				}
				if k.Timers.Created.Before(before) || k.Timers.Created.After(time.Now()) || !k.Timers.Publish.IsZero() {
					t.Errorf("timers %+v", k.Timers)
				}
			}
		})
	}
}

// TestKeygenBundleDSRoundTrip is the classic offline-KSK flow: keygen on both
// sides, bundle on the KSK side, ds for the parent; then the plugin's load
// path (ReadBundle, ReadAnchor, CheckSlot) accepts the result.
func TestKeygenBundleDSRoundTrip(t *testing.T) {
	fixedClock(t)
	for _, alg := range []string{"ECDSAP256SHA256", "ED25519", "RSASHA256"} {
		t.Run(alg, func(t *testing.T) {
			root := t.TempDir()
			kdir, zdir := filepath.Join(root, "ksk"), filepath.Join(root, "zsk")
			out := filepath.Join(root, "bundle.zone")
			anchorFile := filepath.Join(root, "ksk.ds")
			mustRun(t, "keygen", "-zone", "example.net", "-ksk", "-algorithm", alg, "-dir", kdir)
			// Two ZSKs (a roll in progress), of the KSK's algorithm: a
			// DNSKEY set of mixed algorithms is refused (TestBundleMixedAlgorithms).
			mustRun(t, "keygen", "-zone", "example.net", "-zsk", "-algorithm", alg, "-dir", zdir)
			mustRun(t, "keygen", "-zone", "example.net", "-zsk", "-algorithm", alg, "-dir", zdir)
			// The ZSKs' private keys never leave the signer: bundle must not read them.
			privs, _ := filepath.Glob(filepath.Join(zdir, "*.private"))
			for _, p := range privs {
				os.Chmod(p, 0o644)
			}
			code, _, stderr := livesign(t, "bundle", "-ksk", kdir, "-zsk", zdir, "-zone", "example.net.", "-out", out, "-validity", "2w")
			if code != 0 {
				t.Fatalf("bundle: %s", stderr)
			}
			for _, want := range []string{"wrote " + out, "signed the set", "ZSK", "valid from 2026-11-30T23:00:00Z to 2026-12-15T00:00:00Z (14d)"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("summary %q lacks %q", stderr, want)
				}
			}
			if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("bundle mode %v, %v", fi.Mode().Perm(), err)
			}
			dsOut := mustRun(t, "ds", out)
			if err := os.WriteFile(anchorFile, []byte(dsOut), 0o644); err != nil {
				t.Fatal(err)
			}

			b, err := keystore.ReadBundle(out, "example.net.")
			if err != nil {
				t.Fatal(err)
			}
			a, err := keystore.ReadAnchor(anchorFile, "example.net.")
			if err != nil {
				t.Fatal(err)
			}
			zsks, err := keystore.ReadKeys(zdir, keystore.Selection{Zone: "example.net."})
			if err != nil {
				t.Fatal(err)
			}
			var zskKeys []*dns.DNSKEY
			for _, k := range zsks {
				zskKeys = append(zskKeys, k.DNSKEY)
			}
			set, err := keystore.CheckSlot(&b.Slots[0], "example.net.", zskKeys, a, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(set) != 3 {
				t.Errorf("%d keys served, want 3", len(set))
			}
			if !b.Slots[0].Start.Equal(testNow.Add(-time.Hour)) {
				t.Errorf("slot start %v", b.Slots[0].Start)
			}
			if _, err := keystore.CheckSlot(&b.Slots[0], "example.net.", zskKeys, a, testNow.Add(15*24*time.Hour)); err == nil {
				t.Error("bundle still valid after 15 days")
			}
			lines := strings.Split(strings.TrimSpace(string(mustRead(t, out))), "\n")
			if len(lines) != 4 || !strings.Contains(lines[3], "\tRRSIG\tDNSKEY ") {
				t.Errorf("bundle is not DNSKEYs then RRSIG, one per line:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := livesign(t, args...)
	if code != 0 {
		t.Fatalf("livesign %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestBundleRefusals(t *testing.T) {
	fixedClock(t)
	root := t.TempDir()
	kdir := filepath.Join(root, "ksk")
	zdir := filepath.Join(root, "zsk")
	empty := filepath.Join(root, "empty")
	os.Mkdir(empty, 0o700)
	kskBase := keyBase(mustRun(t, "keygen", "-zone", "example.net", "-ksk", "-dir", kdir))
	mustRun(t, "keygen", "-zone", "example.net", "-zsk", "-dir", zdir)
	// A KSK whose .private is missing.
	noPriv := filepath.Join(root, "nopriv")
	os.Mkdir(noPriv, 0o700)
	os.WriteFile(filepath.Join(noPriv, filepath.Base(kskBase)+".key"), mustRead(t, kskBase+".key"), 0o644)
	// A KSK that activates later.
	late := filepath.Join(root, "late")
	os.Mkdir(late, 0o700)
	k, err := keystore.GenerateKey("example.net.", dns.ECDSAP256SHA256, true, testNow)
	if err != nil {
		t.Fatal(err)
	}
	k.Timers.Publish, k.Timers.Activate = testNow.Add(24*time.Hour), testNow.Add(48*time.Hour)
	if _, err := keystore.WriteKey(late, k); err != nil {
		t.Fatal(err)
	}
	// A world-readable KSK private key.
	loose := filepath.Join(root, "loose")
	os.Mkdir(loose, 0o700)
	for _, ext := range []string{".key", ".private"} {
		os.WriteFile(filepath.Join(loose, filepath.Base(kskBase)+ext), mustRead(t, kskBase+ext), 0o644)
	}
	tests := []struct {
		name, ksk, zsk, zone, wantErr string
	}{
		{"no ZSK", kdir, empty, "example.net", "bundle: no ZSK of example.net. in " + empty},
		{"only KSKs in the ZSK dir", kdir, kdir, "example.net", "no ZSK of example.net."},
		{"no KSK", empty, zdir, "example.net", "bundle: no KSK of example.net. in " + empty},
		{"only ZSKs in the KSK dir", zdir, zdir, "example.net", "no KSK of example.net."},
		{"other zone", kdir, zdir, "example.org", "no KSK of example.org."},
		{"KSK without private key", noPriv, zdir, "example.net", ".key has no private key file"},
		{"KSK not active yet", late, zdir, "example.net", "is active at 2026-12-01T00:00:00Z"},
		{"world-readable KSK private key", loose, zdir, "example.net", "is readable by group or others (mode 0644): run chmod 600"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(root, "out.zone")
			code, _, stderr := livesign(t, "bundle", "-ksk", tc.ksk, "-zsk", tc.zsk, "-zone", tc.zone, "-out", out)
			if code != 1 || !strings.Contains(stderr, tc.wantErr) || !strings.HasPrefix(stderr, "livesign: ") {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, tc.wantErr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("bundle written despite the error")
			}
		})
	}
}

func TestDSOfFixtures(t *testing.T) {
	tests := []struct {
		name, file, anchor string
		args               []string
	}{
		{"ldns bundle", td("ldns-classic", "bundle.zone"), td("ldns-classic", "ksk.ds"), nil},
		{"ldns .key file", td("ldns-classic", "ksk-offline", "Kexample.net.+013+41401.key"), td("ldns-classic", "ksk.ds"), nil},
		{"relative names with -zone", td("ldns-classic", "ksk-offline", "dnskey.zone"), td("ldns-classic", "ksk.ds"), []string{"-zone", "example.net"}},
		{"BIND 9.20 SKR", td("bind920", "example.org.skr"), td("bind920", "ksk.ds"), []string{"-digest", "SHA-256"}},
		{"Knot SKR", td("knot", "example.com.skr"), td("knot", "ksk.ds"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := mustRun(t, append([]string{"ds", tc.file}, tc.args...)...)
			got := dsRecords(t, out)
			want := dsRecords(t, string(mustRead(t, tc.anchor)))
			if len(got) != 1 || len(want) != 1 || !sameDS(got[0], want[0]) {
				t.Errorf("ds printed %v, want %v", got, want)
			}
		})
	}
}

// dsRecords parses the DS records in zone-file text.
func dsRecords(t *testing.T, text string) []*dns.DS {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(text), ".", "")
	zp.SetDefaultTTL(0)
	var out []*dns.DS
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if ds, ok := rr.(*dns.DS); ok {
			out = append(out, ds)
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("%v in %q", err, text)
	}
	return out
}

func sameDS(a, b *dns.DS) bool {
	return strings.EqualFold(a.Hdr.Name, b.Hdr.Name) && a.KeyTag == b.KeyTag && a.Algorithm == b.Algorithm &&
		a.DigestType == b.DigestType && strings.EqualFold(a.Digest, b.Digest)
}

// TestDSMatchesBIND checks that BIND reads the key files livesign writes and
// computes the same DS as `livesign ds`.
func TestDSMatchesBIND(t *testing.T) {
	bin := needTool(t, "dnssec-dsfromkey")
	for _, tc := range []struct{ alg, digest, bind string }{{"ECDSAP256SHA256", "2", "SHA-256"}, {"ECDSAP384SHA384", "4", "SHA-384"}, {"ED25519", "2", "SHA-256"}, {"RSASHA256", "1", "SHA-1"}} {
		t.Run(tc.alg+"/"+tc.digest, func(t *testing.T) {
			dir := t.TempDir()
			base := keyBase(mustRun(t, "keygen", "-zone", "example.net", "-ksk", "-algorithm", tc.alg, "-dir", dir))
			cmd := exec.Command(bin, "-a", tc.bind, base+".key")
			var errOut bytes.Buffer
			cmd.Stderr = &errOut
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("dnssec-dsfromkey: %v\n%s", err, errOut.String())
			}
			want := dsRecords(t, string(out))
			got := dsRecords(t, mustRun(t, "ds", "-digest", tc.digest, base+".key"))
			if len(got) != 1 || len(want) != 1 || !sameDS(got[0], want[0]) {
				t.Errorf("livesign ds %v, dnssec-dsfromkey %v", got, want)
			}
		})
	}
}

// keyBase returns the base name of the first key keygen printed.
func keyBase(stdout string) string {
	return strings.TrimSuffix(strings.Fields(stdout)[0], ".key")
}

// TestKeygenTimers: keygen dates a key's timers itself, so that a fresh KSK
// can sign a KSR whose first slot is earlier than now, without BIND's
// dnssec-settime; timers out of order are refused.
func TestKeygenTimers(t *testing.T) {
	fixedClock(t)
	dir := t.TempDir()
	ksr := filepath.Join(dir, "z.ksr")
	mustRun(t, "plan", "-zone", "example.org", "-keys", filepath.Join(dir, "zsk"), "-now", "-1m", "-until", "+40d", "-out", ksr)
	mustRun(t, "keygen", "-zone", "example.org", "-ksk", "-dir", filepath.Join(dir, "late"))
	code, _, stderr := livesign(t, "sign-ksr", "-ksk", filepath.Join(dir, "late"), "-ksr", ksr, "-out", filepath.Join(dir, "late.skr"))
	if code == 0 || !strings.Contains(stderr, "livesign keygen -publish TIME -activate TIME") {
		t.Fatalf("a KSK created now signed a KSR starting a minute ago (exit %d): %s", code, stderr)
	}
	mustRun(t, "keygen", "-zone", "example.org", "-ksk", "-publish", "-1h", "-activate", "-1h", "-inactive", "+365d", "-delete", "+400d", "-dir", filepath.Join(dir, "ksk"))
	mustRun(t, "sign-ksr", "-ksk", filepath.Join(dir, "ksk"), "-ksr", ksr, "-out", filepath.Join(dir, "z.skr"))
	keys, err := keystore.ReadKeys(filepath.Join(dir, "ksk"), keystore.Selection{Zone: "example.org"})
	if err != nil || len(keys) != 1 {
		t.Fatalf("%v %v", keys, err)
	}
	tm := keys[0].Timers
	if !tm.Publish.Equal(testNow.Add(-time.Hour)) || !tm.Activate.Equal(testNow.Add(-time.Hour)) || !tm.Inactive.Equal(testNow.AddDate(0, 0, 365)) || !tm.Created.Equal(testNow) {
		t.Errorf("timers %+v", tm)
	}
	for _, args := range [][]string{
		{"-activate", "-2h", "-publish", "-1h"},
		{"-inactive", "-1h"},
		{"-delete", "+1d", "-inactive", "+2d"},
		{"-publish", "soon"},
	} {
		code, _, stderr := livesign(t, append([]string{"keygen", "-zone", "example.org", "-zsk", "-dir", filepath.Join(dir, "bad")}, args...)...)
		if code != 2 && code != 1 || !strings.Contains(stderr, "keygen: -") {
			t.Errorf("keygen %v: exit %d, %s", args, code, stderr)
		}
	}
}
