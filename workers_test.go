package livesign

import (
	"crypto"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestWorkers: concurrent signings run on workers each get their own, valid
// signature, and the workers end once idle.
func TestWorkers(t *testing.T) {
	const zone, n = "pool.example.net.", 64
	for _, alg := range testAlgs {
		t.Run(algName(alg), func(t *testing.T) {
			zsk := newZSK(t, zone, alg)
			p := newWorkers(50 * time.Millisecond)
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rrset := []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: fmt.Sprintf("h%d.%s", i, zone), Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
						A: []byte{192, 0, 2, byte(i)}}}
					sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: rrset[0].Header().Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 300},
						OrigTtl: 300, Algorithm: alg, KeyTag: zsk.Tag(), SignerName: zone, Inception: 1, Expiration: 2}
					var err error
					p.run(func() { err = sign(sig, zsk.Signer, rrset) })
					if err != nil {
						errs <- err
						return
					}
					errs <- sig.Verify(zsk.DNSKEY, rrset)
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if r := p.running.Load(); r < 1 || r > n {
				t.Errorf("%d workers after %d concurrent signings", r, n)
			}
			deadline := time.Now().Add(5 * time.Second)
			for p.running.Load() > 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if r := p.running.Load(); r != 0 {
				t.Errorf("%d workers 5 s after the last signing: idle workers did not end", r)
			}
		})
	}
}

type panickingSigner struct{ crypto.Signer }

func (panickingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { panic("boom") }

// TestSignPanic: a panic in the signing code becomes an error of that
// signing, not the end of the process.
func TestSignPanic(t *testing.T) {
	zsk := newZSK(t, "panic.example.", dns.ECDSAP256SHA256)
	rrset := []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "www.panic.example.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: []byte{192, 0, 2, 1}}}
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: "www.panic.example.", Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 300},
		OrigTtl: 300, Algorithm: dns.ECDSAP256SHA256, KeyTag: zsk.Tag(), SignerName: "panic.example.", Inception: 1, Expiration: 2}
	err := sign(sig, panickingSigner{zsk.Signer}, rrset)
	if err == nil || !strings.Contains(err.Error(), "panicked: boom") {
		t.Fatalf("got %v, want the panic as an error", err)
	}
	if err := sign(sig, zsk.Signer, rrset); err != nil {
		t.Fatal(err)
	}
}

// TestWorkersPanic: a panic on a worker is raised again on the goroutine
// that ran the function (where CoreDNS recovers it), and the worker goes on
// serving.
func TestWorkersPanic(t *testing.T) {
	p := newWorkers(time.Minute)
	got := func() (v any) {
		defer func() { v = recover() }()
		p.run(func() { panic("boom") })
		return nil
	}()
	if got != "boom" {
		t.Fatalf("run of a panicking function: recovered %v on the caller, want boom", got)
	}
	ran := false
	p.run(func() { ran = true })
	if !ran {
		t.Fatal("the pool did not run a function after a panic")
	}
	if r := p.running.Load(); r != 1 {
		t.Errorf("%d workers after two sequential runs, want the one that panicked to go on", r)
	}
}
