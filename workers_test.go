package livesign

import (
	"crypto"
	"errors"
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
			p := newWorkers(4, n, 50*time.Millisecond)
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
					if qerr := p.run(func() { err = sign(sig, zsk.Signer, rrset) }, i%2 == 0); qerr != nil {
						errs <- qerr
						return
					}
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
			if r := p.running.Load(); r < 1 || r > p.n {
				t.Errorf("%d workers after %d concurrent signings, want 1 to %d", r, n, p.n)
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
	p := newWorkers(1, 1, time.Minute)
	got := func() (v any) {
		defer func() { v = recover() }()
		p.run(func() { panic("boom") }, false)
		return nil
	}()
	if got != "boom" {
		t.Fatalf("run of a panicking function: recovered %v on the caller, want boom", got)
	}
	ran := false
	if err := p.run(func() { ran = true }, false); err != nil {
		t.Fatal(err)
	}
	if !ran {
		t.Fatal("the pool did not run a function after a panic")
	}
	if r := p.running.Load(); r != 1 {
		t.Errorf("%d workers after two sequential runs, want the one that panicked to go on", r)
	}
}

// TestWorkersQueue: with every worker busy, queries wait in their queue up
// to its bound and the next one is refused at once without running; known
// names are taken before the others.
func TestWorkersQueue(t *testing.T) {
	p := newWorkers(1, 1, time.Minute)
	block := make(chan struct{})
	var mu sync.Mutex
	var order []string
	ran := func(name string) func() {
		return func() { mu.Lock(); order = append(order, name); mu.Unlock() }
	}
	done := make(chan error, 3)
	go func() { done <- p.run(func() { <-block }, false) }()
	waitFor(t, func() bool { return p.running.Load() == 1 && p.waiting() == 0 })
	go func() { done <- p.run(ran("new"), false) }()
	waitFor(t, func() bool { return len(p.queue) == 1 })
	go func() { done <- p.run(ran("known"), true) }()
	waitFor(t, func() bool { return len(p.known) == 1 })

	start := time.Now()
	if err := p.run(ran("refused"), false); !errors.Is(err, errShed) {
		t.Errorf("run with the queue full: error %v, want errShed", err)
	} else if d := time.Since(start); d > time.Second {
		t.Errorf("the refused run took %s: it must not wait", d)
	}
	close(block)
	for range 3 {
		if err := <-done; err != nil {
			t.Errorf("a queued run: %v", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(order, " ") != "known new" {
		t.Errorf("ran %q, want the known name first, then the new one, and not the refused one", order)
	}
}

// TestWorkersPause: a worker with a backlog pauses for network polls as it
// works through it, and every pause ends (a pause that waited for a poll
// that never came would hang the queue).
func TestWorkersPause(t *testing.T) {
	p := newWorkers(1, 4*pauseAt, time.Minute)
	block := make(chan struct{})
	const n = 2 * pauseAt
	var wg sync.WaitGroup
	wg.Add(n + 1)
	go func() { defer wg.Done(); p.run(func() { <-block }, false) }()
	waitFor(t, func() bool { return p.running.Load() == 1 && p.waiting() == 0 })
	for range n {
		go func() {
			defer wg.Done()
			p.run(func() { // 100 µs of work, so the backlog takes longer than yieldEvery
				for start := time.Now(); time.Since(start) < 100*time.Microsecond; {
				}
			}, false)
		}()
	}
	waitFor(t, func() bool { return p.waiting() == n })
	time.Sleep(yieldEvery)
	close(block)
	wg.Wait()
	if p.pauses.Load() == 0 {
		t.Errorf("a worker went through a backlog of %d (%s of work) without a pause for the network", n, n*100*time.Microsecond)
	}
}

// TestPollWait: pauses end, one at a time and many at once.
func TestPollWait(t *testing.T) {
	pollWait()
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() { defer wg.Done(); pollWait() }()
	}
	wg.Wait()
}
