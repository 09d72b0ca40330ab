package keystore

import (
	"os"
	"path/filepath"
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
