package livesign

import (
	"fmt"
	"runtime"
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
			before := runtime.NumGoroutine()
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
			deadline := time.Now().Add(5 * time.Second)
			for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := runtime.NumGoroutine(); n > before {
				t.Errorf("%d goroutines 5 s after the last signing, %d before: idle workers did not end", n, before)
			}
		})
	}
}
