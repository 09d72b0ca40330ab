package test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/kubeletsim"
	"github.com/livesign/livesign/internal/validators"
)

// configMapData returns the block-scalar values ("key: |") of the data section of the
// ConfigMap in path. (The deploy/ module decodes the manifests strictly with the Kubernetes
// types; this module does not depend on them.)
func configMapData(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]string{}
	lines := strings.Split(string(b), "\n")
	keyLine := regexp.MustCompile(`^(\s+)([-._a-zA-Z0-9]+): \|\s*$`)
	for i := 0; i < len(lines); i++ {
		m := keyLine.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		var body []string
		indent := ""
		for i++; i < len(lines); i++ {
			l := lines[i]
			if indent == "" && strings.TrimSpace(l) != "" {
				indent = l[:len(l)-len(strings.TrimLeft(l, " "))]
				if len(indent) <= len(m[1]) {
					break
				}
			}
			if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, indent) {
				break
			}
			body = append(body, strings.TrimPrefix(l, indent))
		}
		i--
		data[m[2]] = strings.TrimRight(strings.Join(body, "\n"), "\n") + "\n"
	}
	return data
}

// kubeletSecretDir lays out the ZSK files of src in dst as the kubelet mounts a Secret volume
// (internal/kubeletsim): the files in a root-owned 0755 timestamped directory, a ..data symlink
// to it, one symlink per file through ..data (the names the Deployment's items give), the mount
// point with tmpfs's mode 1777 (3777 with fsGroup) and the whole bind-mounted read-only, as the
// kubelet always mounts a Secret into the container. livesign must accept that directory,
// world-writable as its mode looks, because it cannot be written. Where the read-only mount
// cannot be made (not root), the mount point is 0755 instead.
func kubeletSecretDir(t *testing.T, src, dst string, s kubeletsim.Secret) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(src, "K*"))
	if len(paths) == 0 {
		t.Fatalf("no key files in %s", src)
	}
	files := map[string][]byte{}
	for _, f := range paths {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(f)] = b
	}
	kubeletsim.SecretDir(t, dst, files, s)
}

// TestDeployKubernetesCorefile runs the Corefile of deploy/kubernetes/configmap.yaml, with its
// zone, in CoreDNS with livesign: the paths under /etc/coredns and /etc/livesign/keys point at
// temporary copies (keys in the kubelet's Secret layout, bundle = an SKR from livesign plan
// -corefile + sign-ksr), the ports at free loopback ports. It must serve signed answers that
// delv validates, be ready on /ready, healthy on /health, and export livesign's metrics.
func TestDeployKubernetesCorefile(t *testing.T) {
	t.Parallel()
	data := configMapData(t, "../deploy/kubernetes/configmap.yaml")
	corefile, zone := data["Corefile"], data["db.example.net"]
	if !strings.Contains(corefile, "livesign example.net {") || !strings.Contains(zone, "SOA") {
		t.Fatalf("configmap.yaml: Corefile %q, zone %q", corefile, zone)
	}

	cli, dir := livesignCLI(t), t.TempDir()
	etc := filepath.Join(dir, "etc", "coredns")
	os.MkdirAll(etc, 0o755)
	os.WriteFile(filepath.Join(etc, "db.example.net"), []byte(zone), 0o644)
	rewrite := strings.NewReplacer("/etc/coredns/", etc+"/", "/etc/livesign/keys", filepath.Join(dir, "secret"))
	// The operator's side of the ceremony, with the timings of the ConfigMap's Corefile.
	os.WriteFile(filepath.Join(dir, "Corefile.plan"), []byte(rewrite.Replace(corefile)), 0o644)
	run(t, dir, cli, "keygen", "-zone", "example.net", "-ksk", "-dir", "ksk")
	run(t, dir, cli, "plan", "-corefile", "Corefile.plan", "-zone", "example.net", "-keys", "keys", "-until", "+45d", "-out", "zone.ksr")
	run(t, dir, cli, "sign-ksr", "-ksk", "ksk", "-ksr", "zone.ksr", "-out", filepath.Join(etc, "example.net.skr"))
	ksks, _ := filepath.Glob(filepath.Join(dir, "ksk", "*.key"))
	anchor := run(t, dir, cli, "ds", ksks[0])
	os.WriteFile(filepath.Join(etc, "anchor.ds"), []byte(anchor), 0o644)
	// The Deployment's defaultMode 0400; see TestDeployKubernetesSecretFSGroupMode for the mode
	// the kubelet really gives the files with the Deployment's fsGroup.
	kubeletSecretDir(t, filepath.Join(dir, "keys"), filepath.Join(dir, "secret"), kubeletsim.Secret{DefaultMode: 0o400})

	var port, mport, rport, hport int
	startCoreDNS(t, func() string {
		port, mport, rport, hport = validators.FreePort(t), validators.FreePort(t), validators.FreePort(t), validators.FreePort(t)
		text := rewrite.Replace(corefile)
		for _, r := range [][2]string{
			{"example.net:53 {", fmt.Sprintf("example.net:%d {\n    bind 127.0.0.1", port)},
			{"prometheus :9153", fmt.Sprintf("prometheus 127.0.0.1:%d", mport)},
			{"ready :8181", fmt.Sprintf("ready 127.0.0.1:%d", rport)},
			{"health :8080 {", fmt.Sprintf("health 127.0.0.1:%d {", hport)},
		} {
			if !strings.Contains(text, r[0]) {
				t.Fatalf("configmap.yaml Corefile has no %q (the test rewrites it):\n%s", r[0], text)
			}
			text = strings.Replace(text, r[0], r[1], 1)
		}
		if strings.Contains(text, " /etc/") {
			t.Fatalf("a pod path is left in the Corefile:\n%s", text)
		}
		return text
	})
	server := fmt.Sprintf("127.0.0.1:%d", port)

	signedAnswer(t, server, "example.net.", "www.example.net.", dns.TypeA)
	signedAnswer(t, server, "example.net.", "example.net.", dns.TypeMX)
	if ok, out := validators.Delv(t, server, "example.net.", anchor, "www.example.net.", dns.TypeA); !ok {
		t.Errorf("delv does not validate www.example.net A:\n%s", out)
	}
	get := func(url string) (int, string) {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			resp, err := http.Get(url)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK || time.Now().After(deadline) {
					return resp.StatusCode, string(b)
				}
			} else if time.Now().After(deadline) {
				t.Fatalf("GET %s: %v", url, err)
			}
		}
	}
	if code, body := get(fmt.Sprintf("http://127.0.0.1:%d/ready", rport)); code != http.StatusOK {
		t.Errorf("readiness probe /ready: %d %s", code, body)
	}
	if code, body := get(fmt.Sprintf("http://127.0.0.1:%d/health", hport)); code != http.StatusOK {
		t.Errorf("liveness probe /health: %d %s", code, body)
	}
	if _, body := get(fmt.Sprintf("http://127.0.0.1:%d/metrics", mport)); !strings.Contains(body, "coredns_livesign_bundle_expiration_timestamp_seconds") {
		t.Errorf("the scrape port serves no livesign metric")
	}
}

// TestDeployKubernetesSecretFSGroupMode: with fsGroup (which the non-root pod needs to read
// its Secret at all) the kubelet gives Secret files group read: defaultMode 0400 becomes 0440,
// owned by root, group fsGroup (and the mount point 3777, the timestamped directory 2755). livesign must load such keys, or the Deployment of
// deploy/kubernetes cannot start.
func TestDeployKubernetesSecretFSGroupMode(t *testing.T) {
	t.Parallel()
	kf := livesignCeremony(t, "example.net", "ECDSAP256SHA256")
	secret := filepath.Join(t.TempDir(), "secret")
	kubeletSecretDir(t, kf.keys, secret, kubeletsim.Secret{DefaultMode: 0o400, FSGroup: 65532})
	kf.keys = secret
	server := startServer(t, "example.net", kf, "", "")
	signedAnswer(t, server, "example.net.", "www.example.net.", dns.TypeA)
}
