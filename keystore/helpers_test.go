package keystore

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fixtureTime is inside the validity of every fixture signature (2026-11-01 .. 2027-11-01).
var fixtureTime = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// td returns the path of a file under the repository's testdata.
func td(parts ...string) string {
	return filepath.Join(append([]string{"..", "testdata"}, parts...)...)
}

// copyFixture copies files (or directories, one level) into a fresh temp dir
// and makes every .private copy mode 0600, since git keeps no file modes.
func copyFixture(t *testing.T, srcs ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, src := range srcs {
		fi, err := os.Stat(src)
		if err != nil {
			t.Fatal(err)
		}
		files := []string{src}
		if fi.IsDir() {
			entries, err := os.ReadDir(src)
			if err != nil {
				t.Fatal(err)
			}
			files = files[:0]
			for _, e := range entries {
				files = append(files, filepath.Join(src, e.Name()))
			}
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			mode := os.FileMode(0o644)
			if strings.HasSuffix(f, ".private") {
				mode = 0o600
			}
			dst := filepath.Join(dir, filepath.Base(f))
			if err := os.WriteFile(dst, data, mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dst, mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// writeFile writes content to dir/name with mode and returns the path.
func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// needTool returns the path of an external tool; without it the test is
// skipped, or fails when CI=true.
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

// ldnsZSK reads the ldns-classic ZSK (tag 44013) public key.
func ldnsZSK(t *testing.T) *dns.DNSKEY {
	t.Helper()
	k, err := ReadPublicKey(td("ldns-classic", "zsk", "Kexample.net.+013+44013.key"))
	if err != nil {
		t.Fatal(err)
	}
	return k.DNSKEY
}

// wantErr checks err against a wanted substring ("" = no error).
func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
}
