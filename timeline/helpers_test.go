package timeline

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testNow lies inside the validity of the ldns-classic fixture bundle.
var testNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// copyKeys copies a fixture key directory into a temp dir with the modes
// livesign demands (git keeps none).
func copyKeys(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
