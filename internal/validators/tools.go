package validators

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// modulePath is the module whose root holds the project-local tools directory.
const modulePath = "github.com/livesign/livesign"

// ToolsDirEnv names the environment variable that moves the project-local tools directory
// (default <module root>/.tools; a relative value is taken relative to the module root), the
// same variable scripts/install-test-tools.sh reads.
const ToolsDirEnv = "LIVESIGN_TOOLS_DIR"

// Keymgr returns the path of Knot's keymgr (Debian package knot-dnssecutils, in /usr/sbin),
// with Require's semantics: skip when missing, fail when CI=true.
func Keymgr(t testing.TB) string {
	t.Helper()
	return Require(t, "keymgr")
}

// KresdBin returns the path of Knot Resolver's kresd (Debian package knot-resolver, in
// /usr/sbin), with Require's semantics. StartKresd finds it by itself.
func KresdBin(t testing.TB) string {
	t.Helper()
	return Require(t, "kresd")
}

// BIND920 returns the directory holding BIND 9.20's programs (dnssec-ksr, dnssec-keygen,
// dnssec-signzone, dnssec-verify, dnssec-dsfromkey, dnssec-settime, named-checkzone, dig,
// delv, ...), for the offline-KSK KSR/SKR ceremony that BIND 9.18 cannot do. It looks, in this
// order, for a dnssec-ksr that runs (`dnssec-ksr -V` exits 0) in
//
//   - $LIVESIGN_TOOLS_DIR/bind920/bin, a relative LIVESIGN_TOOLS_DIR taken relative to the
//     module root, when the variable is set;
//   - <module root>/.tools/bind920/bin, where scripts/install-test-tools.sh unpacks BIND 9.20
//     from bookworm-backports;
//   - the directory of dnssec-ksr in $PATH (a system BIND 9.20 or later).
//
// The programs in the tools directory are wrappers that set LD_LIBRARY_PATH for BIND 9.20's own
// libraries: run them by path, never the binaries under ../root directly. When none is found the
// test is skipped, or fails when CI=true, with a hint to run scripts/install-test-tools.sh.
func BIND920(t testing.TB) string {
	t.Helper()
	var tried []string
	try := func(dir string) bool {
		tried = append(tried, dir)
		return runs(filepath.Join(dir, "dnssec-ksr"), "-V")
	}
	root, rootErr := moduleRoot()
	if env := os.Getenv(ToolsDirEnv); env != "" {
		if !filepath.IsAbs(env) && rootErr == nil {
			env = filepath.Join(root, env)
		}
		if dir := filepath.Join(env, "bind920", "bin"); try(dir) {
			return dir
		}
	}
	if rootErr == nil {
		if dir := filepath.Join(root, ".tools", "bind920", "bin"); try(dir) {
			return dir
		}
	}
	if p, err := exec.LookPath("dnssec-ksr"); err == nil {
		if dir := filepath.Dir(p); try(dir) {
			if abs, err := filepath.Abs(dir); err == nil {
				return abs
			}
			return dir
		}
	}
	msg := fmt.Sprintf("BIND 9.20 (dnssec-ksr) not found in %s nor in $PATH: %s", strings.Join(tried, ", "), installHint)
	if rootErr != nil {
		msg += fmt.Sprintf(" (module root: %v)", rootErr)
	}
	if inCI() {
		t.Fatal(msg + " (CI is set, so a missing tool is a failure)")
	}
	t.Skip(msg)
	return ""
}

// runs reports whether path exists and `path args...` exits 0 within 10 seconds.
func runs(path string, args ...string) bool {
	if fi, err := os.Stat(path); err != nil || fi.IsDir() {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, path, args...).Run() == nil
}

// moduleRoot finds the root of module github.com/livesign/livesign: the nearest directory at or
// above the working directory (a test runs in its package's directory) whose go.mod declares it.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
			mod := ""
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
					mod = strings.Trim(fields[1], `"`)
					break
				}
			}
			f.Close()
			if mod == modulePath {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s at or above the working directory", modulePath)
		}
		dir = parent
	}
}

// KnotConfig writes a keymgr configuration for zone with its own KASP
// database in dir and returns its path: an ECDSAP256SHA256 policy with the
// offline-ksk and manual switches that keymgr 3.2 wants for KSR/SKR work.
func KnotConfig(t testing.TB, dir, zone string) string {
	t.Helper()
	db := filepath.Join(dir, "kasp")
	if err := os.MkdirAll(db, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "knot.conf")
	text := `database:
    storage: "` + db + `"
policy:
  - id: offline
    algorithm: ecdsap256sha256
    offline-ksk: on
    manual: on
    ksk-lifetime: 0
    zsk-lifetime: 30d
    dnskey-ttl: 3600
    zone-max-ttl: 86400
    propagation-delay: 300
    rrsig-lifetime: 14d
    rrsig-refresh: 5d
zone:
  - domain: ` + dns.Fqdn(zone) + `
    dnssec-signing: on
    dnssec-policy: offline
`
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}
