package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// makeKeys runs keygen for each algorithm into dir (-ksk or -zsk) and
// returns the .key files written.
func makeKeys(t *testing.T, zone, kind, dir string, algs ...string) []string {
	t.Helper()
	var files []string
	for _, alg := range algs {
		out := mustRun(t, "keygen", "-zone", zone, kind, "-algorithm", alg, "-dir", dir)
		files = append(files, strings.Fields(out)[0])
	}
	return files
}

// noTempFiles fails when dir holds a temporary file of the atomic writer.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestBundleMixedAlgorithms: a DNSKEY set of mixed algorithms is refused
// (RFC 4035 §2.2), naming both keys' files and algorithms and the keygen
// command that makes a fitting ZSK; nothing is written, and a good bundle
// already at -out is left as it was.
func TestBundleMixedAlgorithms(t *testing.T) {
	fixedClock(t)
	tests := []struct {
		name       string
		ksks, zsks []string // algorithms
		want       []string // besides the file names
		badKind    string   // "ZSK" or "KSK": which key the error blames
	}{
		{"ED25519 KSK, P-256 ZSK", []string{"ED25519"}, []string{"ECDSAP256SHA256"},
			[]string{"has algorithm ECDSAP256SHA256 (13) but no KSK of that algorithm signs", "has ED25519 (15)", "RFC 4035 §2.2", "make the keys with the KSK's algorithm (livesign keygen -zone example.net -zsk -algorithm ED25519 -dir ", "to roll to ECDSAP256SHA256, add a KSK of it"}, "ZSK"},
		{"P-384 KSK, ED25519 ZSK", []string{"ECDSAP384SHA384"}, []string{"ED25519"},
			[]string{"has algorithm ED25519 (15) but no KSK of that algorithm signs", "has ECDSAP384SHA384 (14)", "-algorithm ECDSAP384SHA384"}, "ZSK"},
		{"one ZSK of two off", []string{"ECDSAP256SHA256"}, []string{"ECDSAP256SHA256", "RSASHA256"},
			[]string{"has algorithm RSASHA256 (8) but no KSK of that algorithm signs", "has ECDSAP256SHA256 (13)", "-algorithm ECDSAP256SHA256"}, "ZSK"},
		{"KSKs of two algorithms", []string{"ECDSAP256SHA256", "ED25519"}, []string{"ECDSAP256SHA256"},
			[]string{"has algorithm ED25519 (15) but no ZSK of that algorithm", "add a ZSK of ED25519 (livesign keygen -zone example.net -zsk -algorithm ED25519 -dir "}, "KSK"},
		{"three algorithms", []string{"ECDSAP256SHA256", "ED25519"}, []string{"ECDSAP256SHA256", "ED25519", "ECDSAP384SHA384"},
			[]string{"have 3 algorithms", "two while it rolls from one to the other"}, "ZSK"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			kdir, zdir := filepath.Join(root, "ksk"), filepath.Join(root, "zsk")
			kskFiles := makeKeys(t, "example.net", "-ksk", kdir, tc.ksks...)
			zskFiles := makeKeys(t, "example.net", "-zsk", zdir, tc.zsks...)
			// A good bundle at -out, made from the first KSK and a ZSK of its algorithm.
			good, gz := filepath.Join(root, "good-ksk"), filepath.Join(root, "good-zsk")
			os.Mkdir(good, 0o700)
			for _, ext := range []string{".key", ".private"} {
				base := strings.TrimSuffix(kskFiles[0], ".key")
				if err := os.WriteFile(filepath.Join(good, filepath.Base(base)+ext), mustRead(t, base+ext), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			makeKeys(t, "example.net", "-zsk", gz, tc.ksks[0])
			out := filepath.Join(root, "example.net.bundle")
			mustRun(t, "bundle", "-ksk", good, "-zsk", gz, "-zone", "example.net", "-out", out)
			before := mustRead(t, out)

			for _, target := range []string{out, filepath.Join(root, "new.bundle")} {
				code, _, stderr := livesign(t, "bundle", "-ksk", kdir, "-zsk", zdir, "-zone", "example.net", "-out", target)
				if code != 1 || !strings.HasPrefix(stderr, "livesign: bundle: ") {
					t.Fatalf("exit %d, stderr %q; want a refusal", code, stderr)
				}
				var bad, ref string
				if tc.badKind == "ZSK" {
					bad, ref = zskFiles[len(zskFiles)-1], kskFiles[0]
				} else {
					bad, ref = kskFiles[len(kskFiles)-1], zskFiles[0]
				}
				for _, w := range append([]string{tc.badKind + " ", "(" + bad + ")", "(" + ref + ")"}, tc.want...) {
					if !strings.Contains(stderr, w) {
						t.Errorf("stderr %q lacks %q", stderr, w)
					}
				}
			}
			if _, err := os.Stat(filepath.Join(root, "new.bundle")); err == nil {
				t.Error("a bundle was written despite the refusal")
			}
			if after := mustRead(t, out); string(after) != string(before) {
				t.Error("the good bundle at -out was replaced")
			}
			noTempFiles(t, root)
		})
	}
}

// TestBundleWriteErrors: a bundle that cannot be written is reported with
// the target path and the reason, never the temporary file, and an
// existing file is left alone.
func TestBundleWriteErrors(t *testing.T) {
	fixedClock(t)
	root := t.TempDir()
	kdir, zdir := filepath.Join(root, "ksk"), filepath.Join(root, "zsk")
	makeKeys(t, "example.net", "-ksk", kdir, "ECDSAP256SHA256")
	makeKeys(t, "example.net", "-zsk", zdir, "ECDSAP256SHA256")
	file := filepath.Join(root, "plain")
	os.WriteFile(file, []byte("x"), 0o644)
	tests := []struct {
		name, out string
		want      []string
	}{
		{"missing directory", filepath.Join(root, "nope", "b1"),
			[]string{"write " + filepath.Join(root, "nope", "b1") + ": directory " + filepath.Join(root, "nope") + " does not exist: create it first (mkdir -p"}},
		{"missing directories", filepath.Join(root, "a", "b", "b1"),
			[]string{"write " + filepath.Join(root, "a", "b", "b1") + ": directory " + filepath.Join(root, "a", "b") + " does not exist (" + filepath.Join(root, "a") + " is missing)"}},
		{"out is a directory", zdir, []string{"write " + zdir + ": it is a directory: give a file name"}},
		{"directory is a file", filepath.Join(file, "b1"), []string{"write " + filepath.Join(file, "b1") + ": " + file + " is not a directory"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := livesign(t, "bundle", "-ksk", kdir, "-zsk", zdir, "-zone", "example.net", "-out", tc.out)
			if code != 1 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
			if strings.Contains(stderr, ".tmp") {
				t.Errorf("stderr names the temporary file: %q", stderr)
			}
		})
	}
	if data := mustRead(t, file); string(data) != "x" {
		t.Errorf("%s changed", file)
	}
	noTempFiles(t, root)
}

// TestBundleValidityWarning: a validity shorter than the DNSKEY TTL is
// warned about on stderr (validators cache the set longer than its
// signatures live); the bundle is written all the same.
func TestBundleValidityWarning(t *testing.T) {
	fixedClock(t)
	root := t.TempDir()
	kdir, zdir := filepath.Join(root, "ksk"), filepath.Join(root, "zsk")
	makeKeys(t, "example.net", "-ksk", kdir, "ECDSAP256SHA256")
	makeKeys(t, "example.net", "-zsk", zdir, "ECDSAP256SHA256")
	tests := []struct {
		validity, ttl string
		warn          string // "" = no warning
	}{
		{"30m", "3600", "livesign: warning: -validity 30m is shorter than the DNSKEY TTL (-ttl 3600, 1h): validators cache the DNSKEY RRset"},
		{"59m59s", "3600", "-validity 59m59s is shorter than the DNSKEY TTL"},
		{"1d", "172800", "-validity 1d is shorter than the DNSKEY TTL (-ttl 172800, 48h)"},
		{"1h", "3600", ""},
		{"30m", "600", ""},
		{"90d", "3600", ""},
	}
	for _, tc := range tests {
		t.Run(tc.validity+"/"+tc.ttl, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "b")
			code, _, stderr := livesign(t, "bundle", "-ksk", kdir, "-zsk", zdir, "-zone", "example.net", "-out", out, "-validity", tc.validity, "-ttl", tc.ttl, "-inception", "-10m")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if tc.warn == "" && strings.Contains(stderr, "warning") {
				t.Errorf("unexpected warning: %s", stderr)
			}
			if tc.warn != "" && !strings.Contains(stderr, tc.warn) {
				t.Errorf("stderr %q lacks %q", stderr, tc.warn)
			}
			if _, err := os.Stat(out); err != nil {
				t.Errorf("no bundle written: %v", err)
			}
		})
	}
}

// TestMissingFileHints: a key file, directory or KSR that is not there is
// named with what to give instead, and the file meant when one is near:
// keygen writes the zone in lower case, so a mixed-case name is a miss.
func TestMissingFileHints(t *testing.T) {
	fixedClock(t)
	root := t.TempDir()
	kdir, zdir := filepath.Join(root, "ksk"), filepath.Join(root, "zsk")
	ksk := makeKeys(t, "Skr.Example.ORG", "-ksk", kdir, "ECDSAP256SHA256")[0]
	makeKeys(t, "Skr.Example.ORG", "-zsk", zdir, "ECDSAP256SHA256")
	if !strings.HasPrefix(filepath.Base(ksk), "Kskr.example.org.+013+") {
		t.Fatalf("keygen wrote %s, want a lower-case name", ksk)
	}
	mixed := filepath.Join(kdir, strings.Replace(filepath.Base(ksk), "skr.example.org", "Skr.Example.ORG", 1))
	base := strings.TrimSuffix(ksk, ".key")
	caseNote := "(livesign keygen and BIND write key file names with the zone in lower case)"
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"ds mixed-case key file", []string{"ds", mixed}, []string{"ds: FILE " + mixed + ": no such file; did you mean " + ksk + "? " + caseNote}},
		{"ds unexpanded glob", []string{"ds", filepath.Join(kdir, "KSkr.Example.ORG.+013+*.key")}, []string{"did you mean " + ksk + "?", caseNote}},
		{"ds base name", []string{"ds", base}, []string{"ds: FILE " + base + ": no such file; did you mean " + ksk + "?"}},
		{"ds missing directory", []string{"ds", filepath.Join(root, "nodir", "K.key")}, []string{"no such file (nor does its directory " + filepath.Join(root, "nodir") + "): give a .key file, a bundle, an SKR or a zone file"}},
		{"ds a directory", []string{"ds", kdir}, []string{"ds: FILE " + kdir + " is a directory: give a .key file"}},
		{"bundle -ksk in another case", []string{"bundle", "-ksk", filepath.Join(root, "KSK"), "-zsk", zdir, "-zone", "skr.example.org", "-out", filepath.Join(root, "b")},
			[]string{"bundle: -ksk " + filepath.Join(root, "KSK") + ": no such directory; did you mean " + kdir + "? (names differ in case)"}},
		{"bundle -zsk missing", []string{"bundle", "-ksk", kdir, "-zsk", filepath.Join(root, "zsks"), "-zone", "skr.example.org", "-out", filepath.Join(root, "b")},
			[]string{"bundle: -zsk " + filepath.Join(root, "zsks") + ": no such directory: give the directory with the ZSK .key files of skr.example.org."}},
		{"bundle -ksk a key file", []string{"bundle", "-ksk", ksk, "-zsk", zdir, "-zone", "skr.example.org", "-out", filepath.Join(root, "b")},
			[]string{"bundle: -ksk " + ksk + " is a key file, not a directory: give the directory that holds it, " + kdir}},
		{"bundle wrong zone", []string{"bundle", "-ksk", kdir, "-zsk", zdir, "-zone", "skr.example.net", "-out", filepath.Join(root, "b")},
			[]string{"no KSK of skr.example.net. in " + kdir, "(" + kdir + " holds keys of skr.example.org.: check -zone)"}},
		{"sign-ksr missing KSR", []string{"sign-ksr", "-ksk", kdir, "-ksr", filepath.Join(root, "x.ksr"), "-out", filepath.Join(root, "x.skr")},
			[]string{"sign-ksr: -ksr " + filepath.Join(root, "x.ksr") + ": no such file: give the KSR file"}},
		{"sign-ksr missing KSK dir", []string{"sign-ksr", "-ksk", filepath.Join(root, "offline"), "-ksr", td("bind920", "example.org.ksr"), "-out", filepath.Join(root, "x.skr")},
			[]string{"sign-ksr: -ksk " + filepath.Join(root, "offline") + ": no such directory: give the directory with the KSK files"}},
		{"keygen -dir a file", []string{"keygen", "-zone", "skr.example.org", "-zsk", "-dir", ksk}, []string{"keygen: -dir " + ksk + " is a file, not a directory"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := livesign(t, tc.args...)
			if code != 1 || !strings.HasPrefix(stderr, "livesign: ") || strings.Contains(stderr, "usage:") {
				t.Errorf("exit %d, stderr %q; want 1, one error line", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(root, "b")); err == nil {
		t.Error("a bundle was written")
	}
}

// TestKeygenWarnsMixedAlgorithms: a ZSK made beside a KSK of another
// algorithm is written, with a warning that they cannot serve one zone.
func TestKeygenWarnsMixedAlgorithms(t *testing.T) {
	dir := t.TempDir()
	ksk := makeKeys(t, "example.net", "-ksk", dir, "ED25519")[0]
	code, stdout, stderr := livesign(t, "keygen", "-zone", "example.net", "-zsk", "-dir", dir)
	if code != 0 || len(strings.Fields(stdout)) != 2 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	for _, w := range []string{"livesign: warning: ZSK", "has algorithm ECDSAP256SHA256 (13) but no KSK of that algorithm", "(" + ksk + ") has ED25519 (15)", "-algorithm ED25519"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q lacks %q", stderr, w)
		}
	}
	if _, _, stderr := livesign(t, "keygen", "-zone", "example.net", "-zsk", "-algorithm", "ED25519", "-dir", t.TempDir()); stderr != "" {
		t.Errorf("warning for a lone key: %q", stderr)
	}
}
