//go:build unix

package keystore

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livesign/livesign/internal/kubeletsim"
)

// prompt runs f and fails the test when it does not return within 10
// seconds: a reader that opens a named pipe without O_NONBLOCK would wait
// for a writer forever.
func prompt(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return within 10s (blocked on a named pipe or an endless file?)", what)
		return nil
	}
}

func mkfifo(t *testing.T, path string) string {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func symlink(t *testing.T, target, path string) string {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// errorNames checks that err is not nil and contains every one of want.
func errorNames(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

func TestReadRegularFile(t *testing.T) {
	dir := t.TempDir()
	small := writeFile(t, dir, "small", "0123456789", 0o644)
	sock := filepath.Join(dir, "sock")
	if l, err := net.Listen("unix", sock); err == nil {
		defer l.Close()
	} else {
		t.Logf("no unix socket: %v", err)
		sock = ""
	}
	tests := []struct {
		name  string
		path  string
		limit int64
		want  string // content, when no error
		is    error
		text  []string
	}{
		{name: "regular", path: small, limit: 10, want: "0123456789"},
		{name: "symbolic link to a regular file", path: symlink(t, "small", filepath.Join(dir, "link")), limit: 100, want: "0123456789"},
		{name: "exactly the limit", path: small, limit: 10, want: "0123456789"},
		{name: "over the limit", path: small, limit: 9, is: ErrTooLarge, text: []string{small, "larger than 9 bytes"}},
		{name: "over a KiB limit", path: writeFile(t, dir, "big", strings.Repeat("x", 2048), 0o644), limit: 1024, is: ErrTooLarge, text: []string{"big", "1 KiB"}},
		{name: "missing", path: filepath.Join(dir, "nope"), limit: 10, is: fs.ErrNotExist, text: []string{filepath.Join(dir, "nope")}},
		{name: "dangling link", path: symlink(t, "nope", filepath.Join(dir, "dangling")), limit: 10, is: fs.ErrNotExist, text: []string{"dangling"}},
		{name: "directory", path: dir, limit: 10, is: ErrNotRegular, text: []string{dir, "is a directory"}},
		{name: "named pipe", path: mkfifo(t, filepath.Join(dir, "fifo")), limit: 10, is: ErrNotRegular, text: []string{"fifo is a named pipe (FIFO)", "not a regular file"}},
		{name: "link to /dev/zero", path: symlink(t, "/dev/zero", filepath.Join(dir, "zero")), limit: 10, is: ErrNotRegular, text: []string{"zero is a character device"}},
		{name: "link to a named pipe", path: symlink(t, "fifo", filepath.Join(dir, "fifolink")), limit: 10, is: ErrNotRegular, text: []string{"fifolink is a named pipe"}},
	}
	if sock != "" {
		tests = append(tests, struct {
			name  string
			path  string
			limit int64
			want  string
			is    error
			text  []string
		}{name: "socket", path: sock, limit: 10, is: ErrNotRegular, text: []string{"sock is a socket"}})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var data []byte
			err := prompt(t, "ReadRegularFile", func() (err error) {
				data, err = ReadRegularFile(tc.path, tc.limit)
				return err
			})
			if tc.is == nil {
				if err != nil || string(data) != tc.want {
					t.Fatalf("got %q, %v; want %q", data, err, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v is not %v", err, tc.is)
			}
			errorNames(t, err, tc.text...)
		})
	}
}

// TestReadKeyDirNonRegular plants non-regular files named like key files
// in a keys directory: every reader must return promptly with an error that
// names the file, never block on a named pipe or read /dev/zero forever.
func TestReadKeyDirNonRegular(t *testing.T) {
	tests := []struct {
		name  string
		plant func(t *testing.T, dir string) string // returns the path the error must name
		text  string
	}{
		{"named pipe as .key", func(t *testing.T, dir string) string {
			return mkfifo(t, filepath.Join(dir, "Kexample.net.+013+12345.key"))
		}, "is a named pipe (FIFO)"},
		{"named pipe as .private", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, zskBase+".private")
			os.Remove(p)
			return mkfifo(t, p)
		}, "is a named pipe (FIFO)"},
		{"named pipe as .state", func(t *testing.T, dir string) string {
			return mkfifo(t, filepath.Join(dir, zskBase+".state"))
		}, "is a named pipe (FIFO)"},
		{"link to /dev/zero as .key", func(t *testing.T, dir string) string {
			return symlink(t, "/dev/zero", filepath.Join(dir, "Kexample.net.+013+12345.key"))
		}, "is a character device"},
		{"link to /dev/zero as .private", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, zskBase+".private")
			os.Remove(p)
			return symlink(t, "/dev/zero", p)
		}, "is a character device"},
		{"directory named like a key file", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "Kexample.net.+013+12345.key")
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
			return p
		}, "is a directory"},
		{"over-size .key", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, zskBase+".key")
			old, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			pad := strings.Repeat("; padding\n", MaxKeyFileSize/10+1)
			return writeFile(t, dir, zskBase+".key", pad+string(old), 0o644)
		}, "larger than 64 KiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyFixture(t, td("ldns-classic", "zsk"))
			path := tc.plant(t, dir)
			for _, r := range []struct {
				name string
				read func(dir, zone string) ([]*Key, error)
			}{{"ReadKeyDir", ReadKeyDir}, {"ReadPublicKeyDir", ReadPublicKeyDir}} {
				if r.name == "ReadPublicKeyDir" && strings.HasSuffix(path, ".private") {
					continue // never read
				}
				err := prompt(t, r.name, func() error {
					_, err := r.read(dir, "example.net.")
					return err
				})
				errorNames(t, err, path, tc.text)
			}
		})
	}
}

// TestReadFilesNonRegular points each file reader at /dev/zero, a named
// pipe and an over-size file.
func TestReadFilesNonRegular(t *testing.T) {
	dir := t.TempDir()
	zero := symlink(t, "/dev/zero", filepath.Join(dir, "zero"))
	fifo := mkfifo(t, filepath.Join(dir, "fifo"))
	big := filepath.Join(dir, "big")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxBundleFileSize + 1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	readers := []struct {
		name string
		read func(path string) error
	}{
		{"ReadBundle", func(p string) error { _, err := ReadBundle(p, "example.net."); return err }},
		{"ReadKSR", func(p string) error { _, err := ReadKSR(p, "example.net."); return err }},
		{"ReadAnchor", func(p string) error { _, err := ReadAnchor(p, "example.net."); return err }},
		{"ReadDNSKEYs", func(p string) error { _, err := ReadDNSKEYs(p, "example.net."); return err }},
		{"ReadPublicKey", func(p string) error { _, err := ReadPublicKey(p); return err }},
	}
	for _, r := range readers {
		for _, in := range []struct {
			path string
			is   error
			text string
		}{{zero, ErrNotRegular, "character device"}, {fifo, ErrNotRegular, "named pipe"}, {big, ErrTooLarge, "larger than"}} {
			t.Run(r.name+"/"+filepath.Base(in.path), func(t *testing.T) {
				err := prompt(t, r.name, func() error { return r.read(in.path) })
				if !errors.Is(err, in.is) {
					t.Fatalf("error %v is not %v", err, in.is)
				}
				errorNames(t, err, in.path, in.text)
			})
		}
	}
}

func TestLockRefusesNonRegular(t *testing.T) {
	tests := []struct {
		name  string
		plant func(t *testing.T, dir string)
		text  string
	}{
		{"symbolic link to a file", func(t *testing.T, dir string) {
			target := writeFile(t, t.TempDir(), "victim", "keep me", 0o644)
			symlink(t, target, filepath.Join(dir, LockFile))
		}, "is a symbolic link (livesign does not follow it"},
		{"dangling symbolic link", func(t *testing.T, dir string) {
			symlink(t, filepath.Join(t.TempDir(), "created-by-livesign"), filepath.Join(dir, LockFile))
		}, "is a symbolic link"},
		{"named pipe", func(t *testing.T, dir string) {
			mkfifo(t, filepath.Join(dir, LockFile))
		}, "is a named pipe (FIFO)"},
		{"directory", func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, LockFile), 0o700); err != nil {
				t.Fatal(err)
			}
		}, "is a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.plant(t, dir)
			target, _ := os.Readlink(filepath.Join(dir, LockFile))
			err := prompt(t, "Lock", func() error {
				unlock, err := Lock(dir)
				if err == nil {
					unlock()
				}
				return err
			})
			if !errors.Is(err, ErrNotRegular) {
				t.Fatalf("error %v is not ErrNotRegular", err)
			}
			errorNames(t, err, "lock file "+filepath.Join(dir, LockFile), tc.text, "remove it")
			switch {
			case strings.Contains(target, "created-by-livesign"):
				if _, err := os.Lstat(target); err == nil {
					t.Errorf("Lock created %s through the link", target)
				}
			case target != "":
				if b, err := os.ReadFile(target); err != nil || string(b) != "keep me" {
					t.Errorf("the link's target: %q %v, want it unchanged", b, err)
				}
			}
		})
	}
}

func TestLockExcludes(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	old := LockWait
	LockWait = 100 * time.Millisecond
	defer func() { LockWait = old }()
	if _, err := Lock(dir); err == nil || !strings.Contains(err.Error(), "held by another process") {
		t.Fatalf("second Lock: %v, want held by another process", err)
	}
	unlock()
	unlock2, err := Lock(dir)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock2()
	fi, err := os.Lstat(filepath.Join(dir, LockFile))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v %v, want a regular file of mode 0600", fi, err)
	}
}

func TestCheckDirPermissions(t *testing.T) {
	tests := []struct {
		mode os.FileMode // with os.ModeSticky / os.ModeSetgid for 01000 / 02000
		text []string    // "" = accepted
	}{
		{mode: 0o700},
		{mode: 0o750},
		{mode: 0o755},
		{mode: 0o500},
		{mode: 0o750 | os.ModeSetgid},
		{mode: 0o770, text: []string{"writable by its group (mode 0770)", "chmod 700", "750/755"}},
		{mode: 0o775, text: []string{"writable by its group (mode 0775)"}},
		{mode: 0o757, text: []string{"writable by others (mode 0757)"}},
		{mode: 0o777, text: []string{"writable by group and others (mode 0777)"}},
		{mode: 0o777 | os.ModeSticky, text: []string{"mode 1777", "sticky bit does not stop others from adding files"}},
		{mode: 0o777 | os.ModeSticky | os.ModeSetgid, text: []string{"mode 3777"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%04o", tc.mode.Perm()|stickyBits(tc.mode)), func(t *testing.T) {
			dir := copyFixture(t, td("ldns-classic", "zsk"))
			if err := os.Chmod(dir, tc.mode); err != nil {
				t.Fatal(err)
			}
			defer os.Chmod(dir, 0o700)
			for _, check := range []struct {
				name string
				f    func() error
			}{
				{"CheckDirPermissions", func() error { return CheckDirPermissions(dir) }},
				{"ReadKeyDir", func() error { _, err := ReadKeyDir(dir, "example.net."); return err }},
				{"ReadPublicKeyDir", func() error { _, err := ReadPublicKeyDir(dir, "example.net."); return err }},
			} {
				err := check.f()
				if len(tc.text) == 0 {
					if err != nil {
						t.Errorf("%s: %v", check.name, err)
					}
					continue
				}
				errorNames(t, err, append([]string{"directory " + dir, "chmod 700 " + dir}, tc.text...)...)
			}
		})
	}
	t.Run("not a directory", func(t *testing.T) {
		f := writeFile(t, t.TempDir(), "file", "x", 0o644)
		errorNames(t, CheckDirPermissions(f), f, "is a regular file", "not a directory")
	})
	t.Run("missing", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope")
		for _, err := range []error{CheckDirPermissions(missing), func() error { _, err := ReadKeyDir(missing, "example.net."); return err }()} {
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %v does not wrap fs.ErrNotExist", err)
			}
			errorNames(t, err, missing)
		}
	})
}

// TestDirModeError checks the rule itself with the read-only probe given:
// group- or other-writable directories are fine only on a read-only mount.
func TestDirModeError(t *testing.T) {
	for _, tc := range []struct {
		mode     os.FileMode
		readOnly bool
		ok       bool
	}{
		{0o700, false, true},
		{0o755, false, true},
		{0o770, false, false},
		{0o777, false, false},
		{0o777 | os.ModeSticky, false, false},
		{0o777 | os.ModeSticky, true, true},                 // a Kubernetes Secret mount point
		{0o777 | os.ModeSticky | os.ModeSetgid, true, true}, // the same with fsGroup
		{0o770, true, true},
	} {
		asked := false
		err := dirModeError("/k", tc.mode, func() bool { asked = true; return tc.readOnly })
		if (err == nil) != tc.ok {
			t.Errorf("mode %v read-only %v: %v, want ok=%v", tc.mode, tc.readOnly, err, tc.ok)
		}
		if asked && tc.mode.Perm()&0o022 == 0 {
			t.Errorf("mode %v: the mount was probed for a directory nobody else may write", tc.mode)
		}
	}
}

// TestKubernetesSecretKeys reads keys from a directory laid out as the
// kubelet mounts a Secret (see internal/kubeletsim): world-writable sticky
// mount point on a read-only mount, files behind ..data, with and without
// fsGroup. It must be accepted; the same layout on a writable mount must be
// refused.
func TestKubernetesSecretKeys(t *testing.T) {
	src := td("ldns-classic", "zsk")
	files := map[string][]byte{}
	for _, ext := range []string{".key", ".private"} {
		b, err := os.ReadFile(filepath.Join(src, zskBase+ext))
		if err != nil {
			t.Fatal(err)
		}
		files[zskBase+ext] = b
	}
	for _, s := range []kubeletsim.Secret{{DefaultMode: 0o400}, {DefaultMode: 0o400, FSGroup: 65532}} {
		t.Run("fsGroup "+map[bool]string{true: "65532", false: "none"}[s.FSGroup > 0], func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "keys")
			if !kubeletsim.SecretDir(t, dst, files, s) {
				t.Skip("cannot simulate the read-only Secret mount here (needs root on Linux)")
			}
			fi, err := os.Stat(dst)
			if err != nil || fi.Mode().Perm() != 0o777 || fi.Mode()&os.ModeSticky == 0 {
				t.Fatalf("mount point %v %v, want mode 1777", fi, err)
			}
			keys, err := ReadKeyDir(dst, "example.net.")
			if err != nil {
				t.Fatalf("ReadKeyDir on the Secret mount: %v", err)
			}
			if len(keys) != 1 || keys[0].Tag() != 44013 || keys[0].Signer == nil {
				t.Fatalf("keys %v, want the private key 44013", keys)
			}
			if err := os.WriteFile(filepath.Join(dst, "Kexample.net.+013+12345.key"), nil, 0o644); !errors.Is(err, syscall.EROFS) {
				t.Errorf("writing into the simulated Secret mount: %v, want EROFS", err)
			}
		})
	}
	t.Run("the same layout writable", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "keys")
		if err := os.MkdirAll(filepath.Join(dst, kubeletsim.TimestampDir), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			writeFile(t, filepath.Join(dst, kubeletsim.TimestampDir), name, string(b), 0o400)
			symlink(t, filepath.Join("..data", name), filepath.Join(dst, name))
		}
		symlink(t, kubeletsim.TimestampDir, filepath.Join(dst, "..data"))
		if err := os.Chmod(dst, 0o777|os.ModeSticky); err != nil {
			t.Fatal(err)
		}
		_, err := ReadKeyDir(dst, "example.net.")
		errorNames(t, err, "directory "+dst, "mode 1777", "sticky bit")
	})
}

// TestParseBounds: a $GENERATE line (65536 records each) and a slot with
// more than MaxSlotRecords records are refused at once instead of taking
// minutes in the duplicate checks.
func TestParseBounds(t *testing.T) {
	zsk := "example.net. 3600 IN DNSKEY 256 3 13 au7oetIteIrGnFN5hPqMSKazIeyBamugpaRcVfo0vNs3hHM/YgBv7GbApSP4XL8UUrpwTVN0+liT2zqiVBf8Pw=="
	var many strings.Builder
	for i := 0; i <= MaxSlotRecords; i++ {
		fmt.Fprintf(&many, "example.net. %d IN CDS %d 13 2 0A0B0C0D0E0F00112233445566778899AABBCCDDEEFF00112233445566778899\n", i, i)
	}
	var manyKeys strings.Builder
	for i := 0; i <= MaxSlotRecords; i++ {
		fmt.Fprintf(&manyKeys, "example.net. 3600 IN DNSKEY 256 3 13 %s\n", strings.Repeat(string(rune('A'+i%26)), 84)+fmt.Sprintf("%04d", i))
	}
	tests := []struct {
		name, text string
		parse      func(data string) error
		want       []string
	}{
		{"$GENERATE in a bundle", "$GENERATE 1-65535 example.net. 3600 IN DNSKEY 256 3 13 AAAA$\n",
			func(d string) error {
				_, err := ParseBundle(strings.NewReader(d), "b.zone", "example.net.")
				return err
			},
			[]string{"b.zone:1", "$GENERATE is not allowed"}},
		{"$generate in a KSR", ";; KeySigningRequest 1.0 20261101000000\n  $generate 1-10 x TXT y\n;; KeySigningRequest 1.0 generated at x\n",
			func(d string) error { _, err := ParseKSR(strings.NewReader(d), "k.ksr", "example.net."); return err },
			[]string{"k.ksr:2", "$GENERATE is not allowed"}},
		{"too many records in a bundle slot", zsk + "\n" + many.String(),
			func(d string) error {
				_, err := ParseBundle(strings.NewReader(d), "b.zone", "example.net.")
				return err
			},
			[]string{"b.zone:", "more than 1000 records in one slot"}},
		{"too many keys in a KSR slot", ";; KeySigningRequest 1.0 20261101000000\n" + manyKeys.String() + ";; KeySigningRequest 1.0 generated at x\n",
			func(d string) error { _, err := ParseKSR(strings.NewReader(d), "k.ksr", "example.net."); return err },
			[]string{"k.ksr:", "more than 1000 DNSKEY records"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			errorNames(t, tc.parse(tc.text), tc.want...)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}
