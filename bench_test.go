package livesign

// Micro-benchmarks of the hot paths, run by `make bench` (scripts/bench.sh) and by
// `go test -run '^$' -bench . -benchmem`. They serve the fixture zone (testdata/zone.db)
// through the file plugin, with the clock fixed at testNow, and pack every reply the way
// the server does, so the wire cost of the RRSIGs is counted. See bench/README.md.

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/file"
	"github.com/coredns/coredns/plugin/test"
	"github.com/coredns/coredns/request"
	"github.com/livesign/livesign/config"
	"github.com/miekg/dns"
)

// packWriter packs each reply into a reused buffer, as the server would.
type packWriter struct {
	test.ResponseWriter
	buf  []byte
	last *dns.Msg
}

func (w *packWriter) WriteMsg(m *dns.Msg) error {
	b, err := m.PackBuffer(w.buf)
	if err != nil {
		return err
	}
	w.buf, w.last = b[:cap(b)], m
	return nil
}

// benchBackend is the file plugin serving the fixture zone.
func benchBackend(b *testing.B) plugin.Handler {
	b.Helper()
	f, err := os.Open("testdata/zone.db")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	z, err := file.Parse(f, "example.net.", "db.example.net", 0)
	if err != nil {
		b.Fatal(err)
	}
	return file.File{Zones: file.Zones{Z: map[string]*file.Zone{"example.net.": z}, Names: []string{"example.net."}}}
}

// newBenchPlugin is newTestPlugin for benchmarks: livesign over the file plugin with the
// ldns-classic fixture keys and bundle; cfg may adjust the configuration, now is the clock.
func newBenchPlugin(b *testing.B, now func() time.Time, adjust func(*config.Config)) *Livesign {
	b.Helper()
	cfg := config.Default("example.net.")
	cfg.Keys = b.TempDir()
	entries, err := os.ReadDir("testdata/ldns-classic/zsk")
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("testdata/ldns-classic/zsk", e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cfg.Keys, e.Name()), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	cfg.Bundle = "testdata/ldns-classic/bundle.zone"
	cfg.TrustAnchor = "testdata/ldns-classic/ksk.ds"
	if adjust != nil {
		adjust(&cfg)
	}
	l, err := New([]config.Config{cfg}, now)
	if err != nil {
		b.Fatal(err)
	}
	l.Next = benchBackend(b)
	return l
}

func fixedNow() time.Time { return testNow }

func benchMsg(name string, qtype uint16, do bool) *dns.Msg {
	r := new(dns.Msg)
	r.SetQuestion(name, qtype)
	r.SetEdns0(1232, do)
	return r
}

// serve runs one query through h and fails on an error or a missing or SERVFAIL reply.
func serve(b *testing.B, h plugin.Handler, w *packWriter, r *dns.Msg) {
	w.last = nil
	// On a new goroutine, as miekg/dns serves each UDP query: its stack
	// starts small, and what grows it is part of the cost.
	done := make(chan error, 1)
	go func() {
		_, err := h.ServeDNS(context.Background(), w, r)
		done <- err
	}()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if w.last == nil || w.last.Rcode == dns.RcodeServerFailure {
		b.Fatalf("%s: no answer or SERVFAIL: %v", r.Question[0].Name, w.last)
	}
}

// BenchmarkServeUnsigned is the floor: the file plugin alone answering www A with DO.
func BenchmarkServeUnsigned(b *testing.B) {
	h := benchBackend(b)
	w, r := &packWriter{}, benchMsg("www.example.net.", dns.TypeA, true)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, h, w, r)
	}
}

// BenchmarkServeCacheHit: www A with DO, its RRSIG already in the signature cache.
func BenchmarkServeCacheHit(b *testing.B) {
	l := newBenchPlugin(b, fixedNow, nil)
	w, r := &packWriter{}, benchMsg("www.example.net.", dns.TypeA, true)
	serve(b, l, w, r) // fill the cache
	b.ReportAllocs()
	for b.Loop() {
		serve(b, l, w, r)
	}
}

// BenchmarkServeNoDO: a query without DO passes through livesign untouched.
func BenchmarkServeNoDO(b *testing.B) {
	l := newBenchPlugin(b, fixedNow, nil)
	w, r := &packWriter{}, benchMsg("www.example.net.", dns.TypeA, false)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, l, w, r)
	}
}

// BenchmarkServeSignMiss: www A with DO where every query falls in a new validity window
// (signature-refresh 1s, the clock one second further at each query), so its RRSIG is
// never cached: one full signing of a positive RRset per query.
func BenchmarkServeSignMiss(b *testing.B) {
	var tick atomic.Int64
	now := func() time.Time { return testNow.Add(time.Duration(tick.Load()) * time.Second) }
	l := newBenchPlugin(b, now, func(c *config.Config) { c.SignatureRefresh = time.Second; c.ResponseCache = 0 })
	w, r := &packWriter{}, benchMsg("www.example.net.", dns.TypeA, true)
	b.ReportAllocs()
	for b.Loop() {
		tick.Add(1)
		serve(b, l, w, r)
	}
}

// BenchmarkServeCompactNXDOMAIN: a name that does not exist, new at every query (the flood
// workload): one fresh NSEC signature, the SOA's from the cache.
func BenchmarkServeCompactNXDOMAIN(b *testing.B) {
	l := newBenchPlugin(b, fixedNow, nil)
	w := &packWriter{}
	serve(b, l, w, benchMsg("warm.example.net.", dns.TypeA, true)) // the SOA signature
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		serve(b, l, w, benchMsg("fl-"+strconv.Itoa(i)+".example.net.", dns.TypeA, true))
	}
}

// BenchmarkServeCompactNXDOMAINCached: the same nonexistent name over and over: the NSEC
// signature comes from the cache too.
func BenchmarkServeCompactNXDOMAINCached(b *testing.B) {
	l := newBenchPlugin(b, fixedNow, nil)
	w, r := &packWriter{}, benchMsg("nope.example.net.", dns.TypeA, true)
	serve(b, l, w, r)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, l, w, r)
	}
}

// BenchmarkMsgCopy: a deep copy of a signed answer (what copying the backend's message or
// a cached reply costs).
func BenchmarkMsgCopy(b *testing.B) {
	l := newBenchPlugin(b, fixedNow, nil)
	w := &packWriter{}
	serve(b, l, w, benchMsg("alias.example.net.", dns.TypeA, true))
	m := w.last
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Copy()
	}
}

// BenchmarkGateCompactNXDOMAIN: the signing gate's check of the compact NSEC of a flood
// answer (a new nonexistent name each time, its absence known from the backend's reply),
// the part of BenchmarkServeCompactNXDOMAIN that the gate adds.
func BenchmarkGateCompactNXDOMAIN(b *testing.B) {
	l := newBenchPlugin(b, fixedNow, nil)
	z := l.zone("example.net.")
	ks, err := z.Keys(testNow)
	if err != nil {
		b.Fatal(err)
	}
	w := &packWriter{}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		name := "fl-" + strconv.Itoa(i) + ".example.net."
		r := benchMsg(name, dns.TypeA, true)
		a := &answer{l: l, ctx: context.Background(), w: w, state: request.Request{W: w, Req: r}, zone: z, keys: ks, now: testNow,
			ttl: 3600, absent: name}
		if err := a.checkNSEC(compactNSEC(name, z.Name, 3600, []uint16{TypeNXNAME})); err != nil {
			b.Fatal(err)
		}
	}
}
