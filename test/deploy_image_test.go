package test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
)

// podman runs podman with its own storage under dir (vfs driver: no overlay mount needed, so
// it works inside a container too) and fails the test with podman's output on error.
type podman struct {
	bin, root, runroot string
}

func newPodman(t *testing.T) *podman {
	t.Helper()
	bin := validators.Require(t, "podman")
	dir := t.TempDir()
	return &podman{bin: bin, root: filepath.Join(dir, "root"), runroot: filepath.Join(dir, "run")}
}

func (p *podman) run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	all := append([]string{"--root", p.root, "--runroot", p.runroot, "--storage-driver", "vfs"}, args...)
	cmd := exec.Command(p.bin, all...)
	cmd.Dir = dir
	// Building FROM scratch with COPY/USER/EXPOSE runs no container: chroot isolation keeps
	// buildah from asking for a runtime, should one ever be needed.
	cmd.Env = append(os.Environ(), "BUILDAH_ISOLATION=chroot")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("podman %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// tarEntry is one file of an archive.
type tarEntry struct {
	hdr  *tar.Header
	data []byte
}

// readTar reads a tar archive, gzip-compressed or not, into memory.
func readTar(t *testing.T, r io.Reader) map[string]tarEntry {
	t.Helper()
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			t.Fatal(err)
		}
		br = bufio.NewReader(zr)
	}
	tr := tar.NewReader(br)
	files := map[string]tarEntry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("reading tar: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimPrefix(filepath.Clean("/"+h.Name), "/")] = tarEntry{h, data}
	}
}

// checkNoKeys fails the test for any file in files named like a key file or holding private key
// material.
func checkNoKeys(t *testing.T, where string, files map[string]tarEntry) {
	t.Helper()
	for name, f := range files {
		if isPrivateKeyName(name) {
			t.Errorf("%s: key file %s in the image", where, name)
		}
		if privateKeyMarkers(f.data) {
			t.Errorf("%s: %s holds private key material", where, name)
		}
	}
}

// TestDeployImage builds the root Dockerfile with podman (FROM scratch: no registry), from a
// build context like the repository's (its Dockerfile and .dockerignore, bin/image/coredns as
// `make image` builds it, and decoy key files where careless operators leave them), then checks
// the image's configuration, that no layer holds a private key, that the exported filesystem's
// /coredns is the static binary with cap_net_bind_service, and that this very binary serves a
// zone that delv validates.
func TestDeployImage(t *testing.T) {
	t.Parallel()
	pm := newPodman(t)
	setcap := validators.Require(t, "setcap")
	bin := staticCoreDNS(t)
	cli, ceremony := livesignCLI(t), t.TempDir()

	// The build context.
	ctx := t.TempDir()
	for _, f := range []string{"Dockerfile", ".dockerignore"} {
		b, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ctx, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(ctx, "bin", "image"), 0o755)
	imageBin := filepath.Join(ctx, "bin", "image", "coredns")
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(imageBin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(setcap, "cap_net_bind_service=+ep", imageBin).CombinedOutput(); err != nil {
		t.Fatalf("setcap (as make image runs it; needs root): %v\n%s", err, out)
	}
	// Decoys: real key files in the context, in the places a checkout holds them.
	run(t, ceremony, cli, "keygen", "-zone", "example.net", "-zsk", "-dir", filepath.Join(ctx, "keys"))
	run(t, ceremony, cli, "keygen", "-zone", "example.net", "-zsk", "-dir", filepath.Join(ctx, ".demo", "keys"))
	decoys, _ := filepath.Glob(filepath.Join(ctx, "*", "K*.private"))
	more, _ := filepath.Glob(filepath.Join(ctx, ".demo", "keys", "K*.private"))
	decoys = append(decoys, more...)
	if len(decoys) != 2 {
		t.Fatalf("decoy keys: %v", decoys)
	}
	for _, d := range decoys {
		kb, _ := os.ReadFile(d)
		if !privateKeyMarkers(kb) {
			t.Fatalf("the private key detector misses %s:\n%s", d, kb)
		}
	}
	if privateKeyMarkers(b) {
		t.Fatal("the private key detector flags the coredns binary itself")
	}
	os.WriteFile(filepath.Join(ctx, "example.net.skr"), []byte(";; SignedKeyResponse 1.0 decoy\n"), 0o644)
	os.MkdirAll(filepath.Join(ctx, "cmd", "coredns"), 0o755)
	os.WriteFile(filepath.Join(ctx, "cmd", "coredns", "main.go"), []byte("package main\n"), 0o644)
	os.WriteFile(filepath.Join(ctx, "go.mod"), []byte("module github.com/livesign/livesign\n"), 0o644)

	tag := fmt.Sprintf("localhost/livesign-coredns-test:%d", time.Now().UnixNano())
	start := time.Now()
	pm.run(t, ctx, "build", "-q", "-t", tag, ".")
	t.Logf("podman build: %v", time.Since(start).Round(time.Millisecond))

	// The image's configuration: non-root numeric user, DNS ports, entrypoint and Corefile.
	var inspect []struct {
		Config struct {
			User         string
			ExposedPorts map[string]struct{}
			Entrypoint   []string
			Cmd          []string
			WorkingDir   string
		}
		RootFS struct{ Layers []string }
	}
	if err := json.Unmarshal([]byte(pm.run(t, ctx, "image", "inspect", tag)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("podman image inspect: %v", err)
	}
	cfg := inspect[0].Config
	if cfg.User != "65532:65532" {
		t.Errorf("image user %q, want 65532:65532", cfg.User)
	}
	ports := slices.Sorted(func(yield func(string) bool) {
		for p := range cfg.ExposedPorts {
			if !yield(p) {
				return
			}
		}
	})
	if !slices.Equal(ports, []string{"53/tcp", "53/udp"}) {
		t.Errorf("exposed ports %v, want 53/tcp 53/udp", ports)
	}
	if !slices.Equal(cfg.Entrypoint, []string{"/coredns"}) || !slices.Equal(cfg.Cmd, []string{"-conf", "/etc/coredns/Corefile"}) {
		t.Errorf("entrypoint %q cmd %q", cfg.Entrypoint, cfg.Cmd)
	}
	if len(inspect[0].RootFS.Layers) != 1 {
		t.Errorf("%d layers, want 1 (the binary)", len(inspect[0].RootFS.Layers))
	}

	// Every layer of the saved image: no key.
	saved := filepath.Join(t.TempDir(), "image.tar")
	pm.run(t, ctx, "save", "--format", "oci-archive", "-o", saved, tag)
	f, err := os.Open(saved)
	if err != nil {
		t.Fatal(err)
	}
	archive := readTar(t, f)
	f.Close()
	layers := 0
	for name, e := range archive {
		if !strings.HasPrefix(name, "blobs/") || len(e.data) < 2 {
			continue
		}
		if bytes.HasPrefix(e.data, []byte("{")) { // manifest, config, index
			checkNoKeys(t, name, map[string]tarEntry{name: e})
			continue
		}
		layers++
		checkNoKeys(t, "layer "+name, readTar(t, bytes.NewReader(e.data)))
	}
	if layers == 0 {
		t.Fatal("no layer found in the saved image")
	}

	// The filesystem of a container made from it: /coredns only, our static binary, with the
	// capability to bind :53 as a non-root user.
	id := pm.run(t, ctx, "create", tag)
	exported := filepath.Join(t.TempDir(), "fs.tar")
	pm.run(t, ctx, "export", "-o", exported, id)
	pm.run(t, ctx, "rm", id)
	f, err = os.Open(exported)
	if err != nil {
		t.Fatal(err)
	}
	fs := readTar(t, f)
	f.Close()
	checkNoKeys(t, "exported filesystem", fs)
	var names []string
	for n, e := range fs {
		if e.hdr.Typeflag == tar.TypeReg {
			names = append(names, n)
		}
	}
	if !slices.Equal(names, []string{"coredns"}) {
		t.Errorf("files in the image: %v, want [coredns]", names)
	}
	cd, ok := fs["coredns"]
	if !ok {
		t.Fatal("no /coredns in the image")
	}
	if sha256.Sum256(cd.data) != sha256.Sum256(b) {
		t.Error("/coredns in the image is not the binary that was built")
	}
	if cd.hdr.Mode&0o111 == 0 {
		t.Errorf("/coredns mode %o: not executable", cd.hdr.Mode)
	}
	// security.capability v2: magic_etc (4 bytes), then permitted low word: bit 10 =
	// CAP_NET_BIND_SERVICE.
	capx := cd.hdr.PAXRecords["SCHILY.xattr.security.capability"]
	if len(capx) < 8 || capx[5]&0x04 == 0 || capx[0]&0x01 == 0 {
		t.Errorf("/coredns carries no cap_net_bind_service+ep (xattr %q): a non-root user cannot bind :53", capx)
	}
	extracted := filepath.Join(t.TempDir(), "coredns")
	if err := os.WriteFile(extracted, cd.data, 0o755); err != nil {
		t.Fatal(err)
	}
	ef, err := elf.Open(extracted)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("/coredns is dynamically linked (has an ELF interpreter): want CGO_ENABLED=0")
		}
	}
	if libs, _ := ef.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("/coredns needs shared libraries %v", libs)
	}
	ef.Close()

	// The binary from the image serves a zone that delv validates, with the image's own
	// command line (-conf <Corefile>).
	kf := livesignCeremony(t, "example.net", "ECDSAP256SHA256")
	dir := t.TempDir()
	zone, _ := os.ReadFile("../testdata/zone.db")
	os.WriteFile(filepath.Join(dir, "db.example.net"), zone, 0o644)
	os.WriteFile(filepath.Join(dir, "anchor.ds"), []byte(kf.anchor), 0o644)
	p := startCoreDNSProcess(t, extracted, dir, "example.net", func(port int) string {
		return fmt.Sprintf(`example.net:%d {
    bind 127.0.0.1
    file db.example.net
    livesign example.net {
        keys %s
        bundle %s
        trust-anchor anchor.ds
    }
}
`, port, kf.keys, kf.bundle)
	})
	signedAnswer(t, p.Addr, "example.net.", "www.example.net.", dns.TypeA)
	if ok, out := validators.Delv(t, p.Addr, "example.net.", kf.anchor, "www.example.net.", dns.TypeA); !ok {
		t.Errorf("delv does not validate www.example.net A from the image's binary:\n%s\nserver log:\n%s", out, p.Log())
	}

	// .dockerignore keeps keys and bundles out of a context that is copied whole (as
	// deploy/docker/Dockerfile.build does with COPY . .), and lets the sources and the binary in.
	os.WriteFile(filepath.Join(ctx, "Dockerfile.copyall"), []byte("FROM scratch\nCOPY . /ctx/\n"), 0o644)
	tag2 := tag + "-ctx"
	pm.run(t, ctx, "build", "-q", "-f", "Dockerfile.copyall", "-t", tag2, ".")
	id = pm.run(t, ctx, "create", tag2, "/none")
	exported2 := filepath.Join(t.TempDir(), "ctx.tar")
	pm.run(t, ctx, "export", "-o", exported2, id)
	f, err = os.Open(exported2)
	if err != nil {
		t.Fatal(err)
	}
	all := readTar(t, f)
	f.Close()
	checkNoKeys(t, "context copied with .dockerignore", all)
	for _, want := range []string{"ctx/go.mod", "ctx/cmd/coredns/main.go", "ctx/bin/image/coredns", "ctx/Dockerfile"} {
		if _, ok := all[want]; !ok {
			t.Errorf(".dockerignore keeps %s out of the context", want)
		}
	}
	for _, unwanted := range []string{"ctx/example.net.skr", "ctx/.demo", "ctx/keys"} {
		for n := range all {
			if n == unwanted || (strings.HasPrefix(n, unwanted+"/") && !strings.HasSuffix(n, "/")) {
				if all[n].hdr.Typeflag == tar.TypeReg {
					t.Errorf(".dockerignore lets %s into the context", n)
				}
			}
		}
	}
	pm.run(t, ctx, "rm", id)
	pm.run(t, ctx, "rmi", tag, tag2)
}

// dockerInstructions returns the instructions of a Dockerfile's last stage, comments and
// continuation lines folded, whitespace normalised.
func dockerInstructions(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ins []string
	cur := ""
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "#") || (l == "" && cur == "") {
			continue
		}
		cur += " " + strings.TrimSuffix(l, "\\")
		if strings.HasSuffix(l, "\\") {
			continue
		}
		ins = append(ins, strings.Join(strings.Fields(cur), " "))
		cur = ""
	}
	last := 0
	for i, in := range ins {
		if strings.HasPrefix(in, "FROM ") {
			last = i
		}
	}
	return ins[last:]
}

// TestDeployDockerfiles: the root Dockerfile has the properties operators expect (static
// binary on scratch, numeric non-root user, DNS ports, Corefile path), and
// deploy/docker/Dockerfile.build, which compiles in a golang stage (it needs a registry, so no
// test builds it), ends with the same final stage but for where the binary comes from.
func TestDeployDockerfiles(t *testing.T) {
	root := dockerInstructions(t, "../Dockerfile")
	want := []string{
		"FROM scratch",
		"COPY bin/image/coredns /coredns",
		"USER 65532:65532",
		"WORKDIR /",
		"EXPOSE 53/udp 53/tcp",
		`ENTRYPOINT ["/coredns"]`,
		`CMD ["-conf", "/etc/coredns/Corefile"]`,
	}
	if !slices.Equal(root, want) {
		t.Errorf("Dockerfile:\n%s\nwant:\n%s", strings.Join(root, "\n"), strings.Join(want, "\n"))
	}
	build := dockerInstructions(t, "../deploy/docker/Dockerfile.build")
	if len(build) != len(root) {
		t.Fatalf("Dockerfile.build's last stage:\n%s", strings.Join(build, "\n"))
	}
	for i := range root {
		a, b := root[i], build[i]
		if strings.HasPrefix(a, "COPY ") {
			a, b = a[strings.LastIndex(a, " "):], b[strings.LastIndex(b, " "):]
			if !strings.HasPrefix(build[i], "COPY --from=build ") {
				t.Errorf("Dockerfile.build: %q does not copy from the build stage", build[i])
			}
		}
		if a != b {
			t.Errorf("Dockerfile.build's last stage differs: %q, root Dockerfile %q", build[i], root[i])
		}
	}
	all, _ := os.ReadFile("../deploy/docker/Dockerfile.build")
	for _, re := range []string{`CGO_ENABLED=0 go build [^\n]*\./cmd/coredns`, `setcap cap_net_bind_service=\+ep`, `(?m)^FROM golang:\S+ AS build$`} {
		if !regexp.MustCompile(re).Match(all) {
			t.Errorf("Dockerfile.build does not match %s", re)
		}
	}
}

// privateKeyMarkers says whether b holds a private key of a BIND .private file: a line
// "PrivateKey: <base64>" (ECDSA, EdDSA) or "PrivateExponent: <base64>" (RSA) with a real value.
// (The coredns binary holds these words, and "Private-key-format:", only as format strings.)
// It looks for the words with bytes.Index and runs the regexp on their line only: images hold
// a 60 MB binary, and a test binary built with -race runs a regexp over it for a minute.
func privateKeyMarkers(b []byte) bool {
	for _, word := range [][]byte{[]byte("PrivateKey: "), []byte("PrivateExponent: ")} {
		for off := 0; ; {
			i := bytes.Index(b[off:], word)
			if i < 0 {
				break
			}
			start := off + i
			end := bytes.IndexByte(b[start:], '\n')
			if end < 0 {
				end = len(b) - start
			}
			if (start == 0 || b[start-1] == '\n') && privateKeyLine.Match(b[start:start+end]) {
				return true
			}
			off = start + len(word)
		}
	}
	return false
}

// isPrivateKeyName says whether a path in an image is named like a key file.
func isPrivateKeyName(name string) bool {
	base := filepath.Base(name)
	return strings.HasSuffix(base, ".private") || strings.HasSuffix(base, ".state") ||
		(strings.HasPrefix(base, "K") && strings.HasSuffix(base, ".key"))
}

// privateKeyLine is the key line of a BIND .private file with its base64 value.
var privateKeyLine = regexp.MustCompile(`(?m)^(PrivateKey|PrivateExponent): [A-Za-z0-9+/]{20,}={0,2}\s*$`)
