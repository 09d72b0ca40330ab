package livesign

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"
	"github.com/miekg/dns"
)

// TestSignerSheds: with every signer busy, Queue signings wait and the next
// one is shed at once; a waiting signing is shed after Wait; the waiting
// ones get their signatures once a signer is free.
func TestSignerSheds(t *testing.T) {
	const zone = "shed.example."
	zsk := newZSK(t, zone, dns.ED25519)
	s := NewSigner(defValidity, defRefresh, 64, 1)
	s.Queue = 2
	s.slots <- struct{}{} // the only signer is busy
	rrset := func(i int) []dns.RR { return mustRRs(t, fmt.Sprintf("h%d.%s 300 IN A 192.0.2.1", i, zone)) }

	res := make(chan error, 2)
	for i := range 2 {
		go func() {
			sig, err := s.Sign(context.Background(), rrset(i), "", zone, zsk, signNow)
			if err == nil {
				err = sig.Verify(zsk.DNSKEY, rrset(i))
			}
			res <- err
		}()
	}
	waitFor(t, func() bool { return s.waiting.Load() == 2 })
	start := time.Now()
	if _, err := s.Sign(context.Background(), rrset(3), "", zone, zsk, signNow); !errors.Is(err, errShed) {
		t.Errorf("third signing with the queue full: error %v, want errShed", err)
	} else if d := time.Since(start); d > s.Wait/2 {
		t.Errorf("the shed signing took %s: it must not wait", d)
	}

	<-s.slots // the signer is free again
	for range 2 {
		if err := <-res; err != nil {
			t.Errorf("a waiting signing: %v", err)
		}
	}
	if s.waiting.Load() != 0 {
		t.Errorf("after the queue drained: %d waiting", s.waiting.Load())
	}

	s.Wait = 20 * time.Millisecond
	s.slots <- struct{}{}
	if _, err := s.Sign(context.Background(), rrset(4), "", zone, zsk, signNow); !errors.Is(err, errShed) {
		t.Errorf("a signing that waited Wait: error %v, want errShed", err)
	}
	<-s.slots
}

// TestHandlerSheds: with the signer saturated, a DO query whose answer
// needs a new signature gets no reply over UDP (the CPU goes to signing)
// and SERVFAIL with an Extended DNS Error over TCP, and is counted; an
// answer in the response cache, one whose signatures are all cached and a
// query without DO are still answered.
func TestHandlerSheds(t *testing.T) {
	l := newTestPlugin(t)
	z := l.zones[0]
	do := queryOpt{do: true}
	query(t, l, "www.example.net.", dns.TypeA, do) // into the response cache

	for range cap(z.signer.slots) {
		z.signer.slots <- struct{}{}
	}
	z.signer.waiting.Store(int64(z.signer.Queue))
	defer func() {
		z.signer.waiting.Store(0)
		for range cap(z.signer.slots) {
			<-z.signer.slots
		}
	}()
	shed0 := counterValue(shedQueries.WithLabelValues("", z.Name))

	r := new(dns.Msg)
	r.SetQuestion("new-name.example.net.", dns.TypeA)
	r.SetEdns0(1232, true)
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	rcode, err := l.ServeDNS(context.Background(), rec, r)
	if err != nil || rcode != dns.RcodeSuccess || rec.Msg != nil {
		t.Errorf("UDP query needing a signature: rcode %s, error %v, reply %v; want no reply and RcodeSuccess (CoreDNS writes nothing then)",
			dns.RcodeToString[rcode], err, rec.Msg)
	}
	if d := counterValue(shedQueries.WithLabelValues("", z.Name)) - shed0; d != 1 {
		t.Errorf("shed_total rose by %v, want 1", d)
	}

	m := query(t, l, "new-name.example.net.", dns.TypeA, queryOpt{do: true, tcp: true})
	if o := m.IsEdns0(); m.Rcode != dns.RcodeServerFailure || o == nil || len(o.Option) == 0 || o.Option[0].Option() != dns.EDNS0EDE {
		t.Errorf("TCP query needing a signature: want SERVFAIL with an Extended DNS Error, got\n%s", m)
	}

	if m := query(t, l, "www.example.net.", dns.TypeA, do); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 2 {
		t.Errorf("www A from the response cache: want the signed answer, got\n%s", m)
	}
	// With CO the response cache has another key: a miss there, but every
	// signature the answer needs is in the signature cache.
	if m := query(t, l, "www.example.net.", dns.TypeA, queryOpt{do: true, co: true}); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 2 {
		t.Errorf("www A with CO, its signatures cached: want the signed answer, got\n%s", m)
	}
	if m := query(t, l, "new-name.example.net.", dns.TypeA, queryOpt{}); m.Rcode != dns.RcodeNameError {
		t.Errorf("query without DO: want the backend's NXDOMAIN, got\n%s", m)
	}
}

// TestHandlerShedsQueued: with every worker busy and the queue full, a DO
// query that misses the response cache is shed before it reaches the
// backend (no reply over UDP, counted), while an answer in the response
// cache is still served.
func TestHandlerShedsQueued(t *testing.T) {
	l := newTestPlugin(t)
	z := l.zones[0]
	do := queryOpt{do: true}
	query(t, l, "www.example.net.", dns.TypeA, do) // into the response cache

	z.workers = newWorkers(1, 1, time.Minute)
	block := make(chan struct{})
	done := make(chan error, 2)
	go func() { done <- z.workers.run(func() { <-block }, false) }()
	waitFor(t, func() bool { return z.workers.running.Load() == 1 && z.workers.waiting() == 0 })
	go func() { done <- z.workers.run(func() {}, false) }()
	waitFor(t, func() bool { return z.workers.waiting() == 1 })
	defer func() {
		close(block)
		for range 2 {
			<-done
		}
	}()
	shed0 := counterValue(shedQueries.WithLabelValues("", z.Name))

	r := new(dns.Msg)
	r.SetQuestion("queued.example.net.", dns.TypeA)
	r.SetEdns0(1232, true)
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	rcode, err := l.ServeDNS(context.Background(), rec, r)
	if err != nil || rcode != dns.RcodeSuccess || rec.Msg != nil {
		t.Errorf("UDP query with the queue full: rcode %s, error %v, reply %v; want no reply and RcodeSuccess",
			dns.RcodeToString[rcode], err, rec.Msg)
	}
	if d := counterValue(shedQueries.WithLabelValues("", z.Name)) - shed0; d != 1 {
		t.Errorf("shed_total rose by %v, want 1", d)
	}
	if m := query(t, l, "www.example.net.", dns.TypeA, do); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 2 {
		t.Errorf("www A from the response cache with the queue full: want the signed answer, got\n%s", m)
	}
}
