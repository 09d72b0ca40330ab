package livesign

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/miekg/dns"
)

// Memory bounds of the signature caches, as stated in the README (cache)
// and bench/README.md: a flood of new names fills the NSEC cache to its
// configured capacity and no further, and each signature kept costs at most
// a fixed number of bytes of heap.
const (
	maxBytesPerDenial  = 512 // one NSEC signature (measured 436): cache key, RRSIG, entry, map slot
	maxBytesPerRRsetRR = 576 // one signature over a one-RR set, with the RRset copy kept for pre-signing (measured 484)
)

func TestCacheMemoryUnderFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("signs thousands of names")
	}
	const size = 2560 // cache 2560: 2560 RRset signatures, 1024 NSEC signatures
	tests := []struct {
		name     string
		perEntry int
		rrset    func(i int) []dns.RR
		cache    func(s *Signer) int
		capacity int
	}{
		{"NSEC", maxBytesPerDenial,
			func(i int) []dns.RR {
				return []dns.RR{compactNSEC(fmt.Sprintf("fl-%016x.example.net.", i), "example.net.", 3600, []uint16{TypeNXNAME})}
			},
			func(s *Signer) int { return s.denials.Len() }, 1024},
		{"A", maxBytesPerRRsetRR,
			func(i int) []dns.RR {
				return mustRRs(t, fmt.Sprintf("h%016x.example.net. 3600 IN A 192.0.2.%d", i, i%250))
			},
			func(s *Signer) int { return s.cache.Len() }, size},
	}
	for _, alg := range testAlgs {
		for _, tc := range tests {
			t.Run(algName(alg)+"/"+tc.name, func(t *testing.T) {
				zsk := newZSK(t, "example.net.", alg)
				s := NewSigner(defValidity, defRefresh, size, 4)
				signings := 3 * tc.capacity
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				for i := range signings {
					if _, err := s.Sign(context.Background(), tc.rrset(i), "", "example.net.", zsk, signNow); err != nil {
						t.Fatal(err)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				n := tc.cache(s)
				if n > tc.capacity || n < tc.capacity*9/10 {
					t.Fatalf("%d entries cached after %d signings, want at most (and nearly) %d", n, signings, tc.capacity)
				}
				per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / int64(n)
				t.Logf("%d entries, %d bytes of heap each", n, per)
				if per > int64(tc.perEntry) {
					t.Errorf("%d bytes of heap per cached signature, want at most %d", per, tc.perEntry)
				}
				runtime.KeepAlive(s)
			})
		}
	}
}
