//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKeyDirHardening: plan, check and sign-ksr refuse a keys or KSK
// directory that group or others may write, and a named pipe named like a
// key file makes them fail at once, naming it, instead of hanging.
func TestKeyDirHardening(t *testing.T) {
	fixedClock(t)
	root := t.TempDir()
	zdir, kdir := filepath.Join(root, "zsk"), filepath.Join(root, "ksk")
	makeKeys(t, "example.net", "-zsk", zdir, "ECDSAP256SHA256")
	makeKeys(t, "example.net", "-ksk", kdir, "ECDSAP256SHA256")
	ksr, skr := filepath.Join(root, "zone.ksr"), filepath.Join(root, "zone.skr")
	mustRun(t, "plan", "-zone", "example.net", "-keys", zdir, "-until", "+30d", "-out", ksr)
	mustRun(t, "sign-ksr", "-ksk", kdir, "-ksr", ksr, "-out", skr)

	tests := []struct {
		name  string
		setup func(t *testing.T) (undo func())
		args  []string
		want  []string
	}{
		{"plan, group-writable keys", chmodFor(zdir, 0o770),
			[]string{"plan", "-zone", "example.net", "-keys", zdir, "-until", "+30d", "-out", ksr},
			[]string{"directory " + zdir, "writable by its group (mode 0770)", "chmod 700 " + zdir}},
		{"check, world-writable keys", chmodFor(zdir, 0o777|os.ModeSticky),
			[]string{"check", "-keys", zdir, "-bundle", skr},
			[]string{"directory " + zdir, "mode 1777", "sticky bit"}},
		{"sign-ksr, world-writable KSK directory", chmodFor(kdir, 0o757),
			[]string{"sign-ksr", "-ksk", kdir, "-ksr", ksr, "-out", skr},
			[]string{"directory " + kdir, "writable by others (mode 0757)", "chmod 700 " + kdir}},
		{"check, named pipe as a key file", func(t *testing.T) func() {
			p := filepath.Join(zdir, "Kexample.net.+013+12345.key")
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
			return func() { os.Remove(p) }
		}, []string{"check", "-keys", zdir, "-bundle", skr},
			[]string{filepath.Join(zdir, "Kexample.net.+013+12345.key") + " is a named pipe (FIFO)"}},
		{"check, bundle linked to /dev/zero", func(t *testing.T) func() {
			p := filepath.Join(root, "zero.skr")
			if err := os.Symlink("/dev/zero", p); err != nil {
				t.Fatal(err)
			}
			return func() { os.Remove(p) }
		}, []string{"check", "-keys", zdir, "-bundle", filepath.Join(root, "zero.skr")},
			[]string{filepath.Join(root, "zero.skr") + " is a character device"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			undo := tc.setup(t)
			defer undo()
			type result struct {
				code   int
				stderr string
			}
			done := make(chan result, 1)
			go func() {
				code, _, stderr := livesign(t, tc.args...)
				done <- result{code, stderr}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("livesign %s did not return within 20s", strings.Join(tc.args, " "))
			}
			if r.code == 0 {
				t.Fatalf("livesign %s succeeded", strings.Join(tc.args, " "))
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not contain %q", r.stderr, w)
				}
			}
		})
	}
}

// chmodFor returns a setup that gives dir mode and an undo that restores 0700.
func chmodFor(dir string, mode os.FileMode) func(t *testing.T) func() {
	return func(t *testing.T) func() {
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		return func() { os.Chmod(dir, 0o700) }
	}
}
