package keystore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		path    string
		data    string
		perm    os.FileMode
		wantErr bool
	}{
		{"new private file", filepath.Join(dir, "a.private"), "secret\n", 0o600, false},
		{"new public file", filepath.Join(dir, "a.key"), "public\n", 0o644, false},
		{"replace, tighter mode", filepath.Join(dir, "a.key"), "public 2\n", 0o600, false},
		{"missing directory", filepath.Join(dir, "nope", "a.key"), "x", 0o644, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := WriteFileAtomic(tc.path, []byte(tc.data), tc.perm)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			got, err := os.ReadFile(tc.path)
			if err != nil || string(got) != tc.data {
				t.Fatalf("read %q, %v", got, err)
			}
			fi, _ := os.Stat(tc.path)
			if fi.Mode().Perm() != tc.perm {
				t.Errorf("mode %o, want %o", fi.Mode().Perm(), tc.perm)
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d entries, want 2: temp files left behind", len(entries))
	}
}

// TestWriteFileAtomicErrors: errors name the target path and the reason,
// never the temporary file, and leave an existing file as it was.
func TestWriteFileAtomicErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o500)
	tests := []struct {
		name, path string
		want       string
		root       bool // the check needs a non-root user
	}{
		{"missing directory", filepath.Join(dir, "nope", "b1"),
			"keystore: write " + filepath.Join(dir, "nope", "b1") + ": directory " + filepath.Join(dir, "nope") + " does not exist: create it first (mkdir -p " + filepath.Join(dir, "nope") + ") or write elsewhere", false},
		{"missing ancestors", filepath.Join(dir, "a", "b", "c", "f"),
			"directory " + filepath.Join(dir, "a", "b", "c") + " does not exist (" + filepath.Join(dir, "a") + " is missing)", false},
		{"directory is a file", filepath.Join(file, "f"), "keystore: write " + filepath.Join(file, "f") + ": " + file + " is not a directory", false},
		{"path is a directory", dir, "keystore: write " + dir + ": it is a directory: give a file name", false},
		{"read-only directory", filepath.Join(ro, "f"), "keystore: write " + filepath.Join(ro, "f") + ": permission denied in directory " + ro, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Geteuid() == 0 {
				t.Skip("root may write anywhere")
			}
			err := WriteFileAtomic(tc.path, []byte("new"), 0o644)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			if strings.Contains(err.Error(), ".tmp") {
				t.Errorf("error %q names the temporary file", err)
			}
		})
	}
	if data, _ := os.ReadFile(file); string(data) != "old" {
		t.Errorf("%s changed to %q", file, data)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestWriteErrorReasons: each system error is told with the target path,
// its directory and what to do, without the temporary file's name.
func TestWriteErrorReasons(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b1")
	tmp := filepath.Join(dir, ".b1.tmp4178360088")
	tests := []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "open", Path: tmp, Err: syscall.EACCES}, "keystore: write " + path + ": permission denied in directory " + dir + " (a new file is made there, then renamed over b1): run as a user who may write there, or write elsewhere"},
		{&fs.PathError{Op: "open", Path: tmp, Err: syscall.EROFS}, "keystore: write " + path + ": directory " + dir + " is on a read-only file system: write elsewhere"},
		{&fs.PathError{Op: "write", Path: tmp, Err: syscall.ENOSPC}, "keystore: write " + path + ": no space left on device in " + dir + ": free some space; the old file, if any, is unchanged"},
		{&os.LinkError{Op: "rename", Old: tmp, New: path, Err: syscall.EISDIR}, "keystore: write " + path + ": it is a directory: give a file name"},
		{&fs.PathError{Op: "sync", Path: tmp, Err: syscall.EIO}, "keystore: write " + path + ": input/output error"},
		{&fs.PathError{Op: "write", Path: tmp, Err: errors.New("odd")}, "keystore: write " + path + ": odd"},
	}
	for _, tc := range tests {
		got := writeError(path, tc.err).Error()
		if got != tc.want {
			t.Errorf("%v:\n got %q\nwant %q", tc.err, got, tc.want)
		}
	}
}
