package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
)

// TestCorefileExample starts CoreDNS with Corefile.example as written, with
// .demo/ pointing at freshly made keys and the ports at free ones, and
// checks that unbound validates its answers.
func TestCorefileExample(t *testing.T) {
	b, err := os.ReadFile("../Corefile.example")
	if err != nil {
		t.Fatal(err)
	}
	kf := livesignCeremony(t, "example.net", "ECDSAP256SHA256")
	demo := t.TempDir()
	db, err := os.ReadFile("../testdata/zone.db")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"db.example.net": db, "anchor.ds": []byte(kf.anchor)}
	if files["example.net.bundle"], err = os.ReadFile(kf.bundle); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(demo, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(kf.keys, filepath.Join(demo, "keys")); err != nil {
		t.Fatal(err)
	}
	var port int
	startCoreDNS(t, func() string {
		port = validators.FreePort(t)
		return strings.NewReplacer(
			".demo/", demo+"/",
			":1053", fmt.Sprintf(":%d", port),
			"127.0.0.1:9153", fmt.Sprintf("127.0.0.1:%d", validators.FreePort(t)),
			"127.0.0.1:8181", fmt.Sprintf("127.0.0.1:%d", validators.FreePort(t)),
			"127.0.0.1:8080", fmt.Sprintf("127.0.0.1:%d", validators.FreePort(t)),
		).Replace(string(b))
	})
	u := validators.StartUnbound(t, "example.net.", fmt.Sprintf("127.0.0.1:%d", port), kf.anchor)
	if m := u.Query(t, "www.example.net.", dns.TypeA); m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData {
		t.Fatalf("www.example.net A through Corefile.example: not validated\n%s", m)
	}
}
