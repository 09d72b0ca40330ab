package test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
)

// The deployment tests (e2e_deploy_*_test.go, upstream_test.go) run CoreDNS as operators do: as
// a separate process from a built binary, not in-process.

var staticBin struct {
	once sync.Once
	path string
	err  error
}

// staticCoreDNS builds ./cmd/coredns once per test binary exactly as `make image` does
// (CGO_ENABLED=0, -trimpath, -ldflags=-s -w), so the image test, the replica test and
// `make image` share the Go build cache.
func staticCoreDNS(t *testing.T) string {
	t.Helper()
	staticBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "livesign-coredns")
		if err != nil {
			staticBin.err = err
			return
		}
		staticBin.path = filepath.Join(dir, "coredns")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", staticBin.path, "github.com/livesign/livesign/cmd/coredns")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			staticBin.err = fmt.Errorf("CGO_ENABLED=0 go build github.com/livesign/livesign/cmd/coredns: %v\n%s", err, out)
		}
	})
	if staticBin.err != nil {
		t.Fatal(staticBin.err)
	}
	return staticBin.path
}

// coreDNSProcess is a CoreDNS binary running as a child process.
type coreDNSProcess struct {
	Addr string // 127.0.0.1:port, UDP and TCP
	cmd  *exec.Cmd
	out  *validators.LogBuffer
	done chan struct{}
}

// Log returns what the process printed so far.
func (p *coreDNSProcess) Log() string { return p.out.String() }

// startCoreDNSProcess writes corefile into dir and runs `bin -conf dir/Corefile` there; it waits
// until the server answers a query for probe (its SOA) on addr, and kills the process on
// cleanup. The test fails with the process's output if it exits or does not answer in 30 s.
func startCoreDNSProcess(t *testing.T, bin, dir, corefile, addr, probe string) *coreDNSProcess {
	t.Helper()
	conf := filepath.Join(dir, "Corefile")
	if err := os.WriteFile(conf, []byte(corefile), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &coreDNSProcess{Addr: addr, out: &validators.LogBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "-conf", conf)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(probe), dns.TypeSOA)
	c := &dns.Client{Timeout: 500 * time.Millisecond}
	for deadline := time.Now().Add(30 * time.Second); ; {
		select {
		case <-p.done:
			t.Fatalf("%s -conf %s exited: %v\n%s\nCorefile:\n%s", bin, conf, p.cmd.ProcessState, p.Log(), corefile)
		default:
		}
		if r, _, err := c.Exchange(q, addr); err == nil && r.Rcode == dns.RcodeSuccess {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s on %s does not answer after 30 s:\n%s\nCorefile:\n%s", bin, addr, p.Log(), corefile)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// signedAnswer asks server for name/qtype with DO and checks that the answer holds the RRset
// and an RRSIG over it that verifies with a ZSK of the zone's served DNSKEY set (asked too), at
// the current time. It returns the RRSIG.
func signedAnswer(t *testing.T, server, zone, name string, qtype uint16) *dns.RRSIG {
	t.Helper()
	ask := func(n string, qt uint16) *dns.Msg {
		q := new(dns.Msg)
		q.SetQuestion(dns.Fqdn(n), qt)
		q.SetEdns0(1232, true)
		c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
		r, _, err := c.Exchange(q, server)
		if err != nil {
			t.Fatalf("%s %s @%s: %v", n, dns.TypeToString[qt], server, err)
		}
		if r.Rcode != dns.RcodeSuccess {
			t.Fatalf("%s %s @%s: %s", n, dns.TypeToString[qt], server, dns.RcodeToString[r.Rcode])
		}
		return r
	}
	keys := map[uint16]*dns.DNSKEY{}
	for _, rr := range ask(zone, dns.TypeDNSKEY).Answer {
		if k, ok := rr.(*dns.DNSKEY); ok {
			keys[k.KeyTag()] = k
		}
	}
	r := ask(name, qtype)
	var rrset []dns.RR
	var sig *dns.RRSIG
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *dns.RRSIG:
			if rr.TypeCovered == qtype {
				sig = rr
			}
		default:
			if rr.Header().Rrtype == qtype {
				rrset = append(rrset, rr)
			}
		}
	}
	if len(rrset) == 0 || sig == nil {
		t.Fatalf("%s %s @%s: want the RRset and its RRSIG, got:\n%v", name, dns.TypeToString[qtype], server, r)
	}
	k := keys[sig.KeyTag]
	if k == nil || k.Flags&dns.SEP != 0 {
		t.Fatalf("%s %s: RRSIG by key %d, not a ZSK of the served DNSKEY set %v", name, dns.TypeToString[qtype], sig.KeyTag, keys)
	}
	if err := sig.Verify(k, rrset); err != nil {
		t.Fatalf("%s %s: RRSIG does not verify: %v\n%v", name, dns.TypeToString[qtype], err, r)
	}
	if !sig.ValidityPeriod(time.Now()) {
		t.Fatalf("%s %s: RRSIG not valid now: %v", name, dns.TypeToString[qtype], sig)
	}
	return sig
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
