package buildcheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// platforms are the GOOS values CoreDNS releases binaries for.
var platforms = []string{"linux", "darwin", "windows", "freebsd"}

// TestBuildPlatforms runs, for each platform, `go build ./...` over the
// module and `go vet` over the packages whose tests must build everywhere
// (keystore, internal, cmd): vet type-checks the test files too, with the
// platform's build tags. It takes minutes on a cold build cache; -short
// skips it.
func TestBuildPlatforms(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-builds the module for every platform: skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root %s: %v", root, err)
	}
	for _, goos := range platforms {
		t.Run(goos, func(t *testing.T) {
			env := append(os.Environ(), "GOOS="+goos, "GOARCH=amd64") // cgo is off when cross-compiling
			for _, args := range [][]string{
				{"build", "./..."},
				{"vet", "./keystore/...", "./internal/...", "./cmd/..."},
			} {
				cmd := exec.Command(goBin, args...)
				cmd.Dir, cmd.Env = root, env
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("GOOS=%s go %s: %v\n%s", goos, strings.Join(args, " "), err, out)
				}
			}
		})
	}
}
