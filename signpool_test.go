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

// TestSignPool: concurrent signings on the pool each get their own, valid
// signature, and the workers end once idle.
func TestSignPool(t *testing.T) {
	const zone, jobs = "pool.example.net.", 64
	for _, alg := range testAlgs {
		t.Run(algName(alg), func(t *testing.T) {
			zsk := newZSK(t, zone, alg)
			p := newSignPool(50 * time.Millisecond)
			var wg sync.WaitGroup
			errs := make(chan error, jobs)
			for i := range jobs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rrset := []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: fmt.Sprintf("h%d.%s", i, zone), Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
						A: []byte{192, 0, 2, byte(i)}}}
					sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: rrset[0].Header().Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 300},
						OrigTtl: 300, Algorithm: alg, KeyTag: zsk.Tag(), SignerName: zone, Inception: 1, Expiration: 2}
					if err := p.sign(sig, zsk.Signer, rrset); err != nil {
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
			if n := p.workers.Load(); n < 1 || n > jobs {
				t.Errorf("%d workers after %d concurrent signings", n, jobs)
			}
			deadline := time.Now().Add(5 * time.Second)
			for p.workers.Load() > 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := p.workers.Load(); n != 0 {
				t.Errorf("%d workers 5 s after the last signing: idle workers did not end", n)
			}
		})
	}
}

type panickingSigner struct{ crypto.Signer }

func (panickingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { panic("boom") }

// TestSignPoolPanic: a panic while signing on a worker becomes an error of
// that signing, not the end of the process.
func TestSignPoolPanic(t *testing.T) {
	zsk := newZSK(t, "panic.example.", dns.ECDSAP256SHA256)
	p := newSignPool(50 * time.Millisecond)
	rrset := []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "www.panic.example.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: []byte{192, 0, 2, 1}}}
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: "www.panic.example.", Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 300},
		OrigTtl: 300, Algorithm: dns.ECDSAP256SHA256, KeyTag: zsk.Tag(), SignerName: "panic.example.", Inception: 1, Expiration: 2}
	err := p.sign(sig, panickingSigner{zsk.Signer}, rrset)
	if err == nil || !strings.Contains(err.Error(), "panicked: boom") {
		t.Fatalf("got %v, want the panic as an error", err)
	}
	// The pool still works.
	if err := p.sign(sig, zsk.Signer, rrset); err != nil {
		t.Fatal(err)
	}
}
