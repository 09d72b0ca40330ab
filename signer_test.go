package livesign

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/livesign/livesign/keystore"
)

// Defaults of DESIGN.md §3.
const (
	defValidity   = 7 * 24 * time.Hour
	defRefresh    = 24 * time.Hour
	defMaxZoneTTL = 24 * time.Hour
)

// signNow is an instant in the middle of a refresh period (not aligned).
var signNow = time.Date(2026, 12, 1, 13, 37, 42, 123456789, time.UTC)

func newZSK(t testing.TB, zone string, alg uint8) *keystore.Key {
	t.Helper()
	k, err := keystore.GenerateKey(zone, alg, false, signNow.Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustRRs(t testing.TB, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("dns.NewRR(%q): %v", l, err)
		}
		out = append(out, rr)
	}
	return out
}

// counterValue reads a counter, like prometheus/testutil.ToFloat64 (which
// this module cannot import without a go.mod change: testutil needs
// github.com/kylelemons/godebug, which go.mod does not list).
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// signatures returns the number of RRSIGs made for zone so far.
func signatures(zone string) float64 {
	return counterValue(signaturesTotal.WithLabelValues("", zone))
}

func hits(zone string) float64 {
	return counterValue(cacheHits.WithLabelValues("", zone))
}

func labelCount(name string) uint8 {
	n := dns.CountLabel(name)
	if strings.HasPrefix(name, "*.") {
		n--
	}
	return uint8(n)
}

func algName(alg uint8) string { return dns.AlgorithmToString[alg] }

var testAlgs = []uint8{dns.ECDSAP256SHA256, dns.ED25519}

func TestWindowAlignment(t *testing.T) {
	day := 24 * time.Hour
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name              string
		validity, refresh time.Duration
		base              time.Time // floor(now, refresh) of every now below
		nows              []time.Time
	}{
		{
			name:     "defaults 7d/1d",
			validity: defValidity, refresh: defRefresh, base: base,
			nows: []time.Time{
				base,
				base.Add(time.Nanosecond),
				base.Add(time.Second),
				base.Add(13*time.Hour + 37*time.Minute),
				base.Add(day - time.Second),
				base.Add(day - time.Nanosecond),
				// the same period seen from another time zone
				base.Add(5 * time.Hour).In(time.FixedZone("UTC-11", -11*3600)),
			},
		},
		{
			name:     "14d/6h",
			validity: 14 * day, refresh: 6 * time.Hour, base: base.Add(12 * time.Hour),
			nows: []time.Time{
				base.Add(12 * time.Hour),
				base.Add(14 * time.Hour),
				base.Add(18*time.Hour - time.Nanosecond),
			},
		},
		{
			name:     "2d/1h",
			validity: 2 * day, refresh: time.Hour, base: base.Add(7 * time.Hour),
			nows: []time.Time{
				base.Add(7 * time.Hour),
				base.Add(7*time.Hour + 30*time.Minute),
				base.Add(8*time.Hour - time.Nanosecond),
			},
		},
		{
			name:     "near the 2038 int32 boundary",
			validity: defValidity, refresh: defRefresh, base: time.Date(2038, 1, 19, 0, 0, 0, 0, time.UTC),
			nows: []time.Time{
				time.Date(2038, 1, 19, 3, 14, 7, 0, time.UTC),
				time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSigner(tc.validity, tc.refresh, 16, 1)
			wantInc, wantExp := tc.base.Add(-time.Hour), tc.base.Add(tc.validity)
			for _, now := range tc.nows {
				inc, exp := s.Window(now)
				if !inc.Equal(wantInc) || !exp.Equal(wantExp) {
					t.Errorf("Window(%s) = [%s, %s], want [%s, %s]", now.Format(time.RFC3339Nano),
						inc.UTC().Format(time.RFC3339), exp.UTC().Format(time.RFC3339),
						wantInc.Format(time.RFC3339), wantExp.Format(time.RFC3339))
				}
				if inc.Unix()%int64(tc.refresh/time.Second) != int64((tc.refresh-time.Hour)/time.Second)%int64(tc.refresh/time.Second) {
					t.Errorf("Window(%s): inception %d is not floor(now, %s) - 1h in Unix seconds", now, inc.Unix(), tc.refresh)
				}
				if inc.After(now) {
					t.Errorf("Window(%s): inception %s is after now", now, inc)
				}
			}
			// The next period has another window.
			inc, exp := s.Window(tc.base.Add(tc.refresh))
			if inc.Equal(wantInc) || !exp.Equal(wantExp.Add(tc.refresh)) {
				t.Errorf("Window of the next period = [%s, %s], want [%s, %s]", inc, exp, wantInc.Add(tc.refresh), wantExp.Add(tc.refresh))
			}
		})
	}
}

// TestWindowCoversMaxZoneTTL checks the §4 rule expiration > now +
// max-zone-ttl at every instant of a refresh period, with the defaults.
func TestWindowCoversMaxZoneTTL(t *testing.T) {
	s := NewSigner(defValidity, defRefresh, 16, 1)
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, off := range []time.Duration{0, time.Nanosecond, time.Minute, 12 * time.Hour, defRefresh - time.Second, defRefresh - time.Nanosecond} {
		now := base.Add(off)
		_, exp := s.Window(now)
		if !exp.After(now.Add(defMaxZoneTTL)) {
			t.Errorf("now %s: expiration %s is not after now + max-zone-ttl", now, exp)
		}
		// An RRSIG made at now, cached for max-zone-ttl, is still valid when it leaves the cache.
		sig := &dns.RRSIG{}
		inc, _ := s.Window(now)
		sig.Inception, sig.Expiration = uint32(inc.Unix()), uint32(exp.Unix())
		if !sig.ValidityPeriod(now) || !sig.ValidityPeriod(now.Add(defMaxZoneTTL)) {
			t.Errorf("now %s: RRSIG window [%s, %s] not valid over [now, now+max-zone-ttl]", now, inc, exp)
		}
	}
}

func TestSignFields(t *testing.T) {
	const zone = "fields.example.net."
	tests := []struct {
		name  string
		rrset []string
	}{
		{"apex A", []string{"fields.example.net. 300 IN A 192.0.2.1"}},
		{"deep AAAA pair", []string{"a.b.c.fields.example.net. 60 IN AAAA 2001:db8::1", "a.b.c.fields.example.net. 60 IN AAAA 2001:db8::2"}},
		{"MX with names", []string{"Mail.Fields.Example.NET. 3600 IN MX 10 MX1.fields.example.net.", "Mail.Fields.Example.NET. 3600 IN MX 20 mx2.fields.example.net."}},
		{"TXT", []string{`t.fields.example.net. 86400 IN TXT "hello" "world"`}},
		{"DS at a delegation", []string{"sub.fields.example.net. 172800 IN DS 12345 13 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE8F4F5F7B8F8A0F0F0F0F0F0F"}},
	}
	for _, alg := range testAlgs {
		zsk := newZSK(t, zone, alg)
		for _, tc := range tests {
			t.Run(algName(alg)+"/"+tc.name, func(t *testing.T) {
				s := NewSigner(defValidity, defRefresh, 64, 4)
				rrset := mustRRs(t, tc.rrset...)
				sig, err := s.Sign(context.Background(), rrset, "", zone, zsk, signNow)
				if err != nil {
					t.Fatal(err)
				}
				hdr := rrset[0].Header()
				inc, exp := s.Window(signNow)
				if err := sig.Verify(zsk.DNSKEY, rrset); err != nil {
					t.Errorf("Verify: %v", err)
				}
				if !sig.ValidityPeriod(signNow) {
					t.Errorf("RRSIG not valid at now")
				}
				checks := []struct {
					what      string
					got, want any
				}{
					{"owner", sig.Hdr.Name, hdr.Name},
					{"type", sig.Hdr.Rrtype, dns.TypeRRSIG},
					{"class", sig.Hdr.Class, hdr.Class},
					{"TTL", sig.Hdr.Ttl, hdr.Ttl},
					{"OrigTtl", sig.OrigTtl, hdr.Ttl},
					{"TypeCovered", sig.TypeCovered, hdr.Rrtype},
					{"Algorithm", sig.Algorithm, alg},
					{"SignerName", sig.SignerName, zone},
					{"KeyTag", sig.KeyTag, zsk.Tag()},
					{"Labels", sig.Labels, labelCount(hdr.Name)},
					{"Inception", sig.Inception, uint32(inc.Unix())},
					{"Expiration", sig.Expiration, uint32(exp.Unix())},
				}
				for _, c := range checks {
					if c.got != c.want {
						t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
					}
				}
			})
		}
	}
}

func TestSignWildcard(t *testing.T) {
	const zone = "example.net."
	const wildcard = "*.wild.example.net."
	tests := []struct {
		owner  string
		labels uint8
	}{
		{"a.b.wild.example.net.", 3},
		{"x.wild.example.net.", 3},
		{"A.B.C.Wild.Example.Net.", 3},
	}
	for _, alg := range testAlgs {
		zsk := newZSK(t, zone, alg)
		for _, tc := range tests {
			t.Run(algName(alg)+"/"+tc.owner, func(t *testing.T) {
				s := NewSigner(defValidity, defRefresh, 64, 4)
				rrset := mustRRs(t,
					tc.owner+" 300 IN A 192.0.2.7",
					tc.owner+" 300 IN A 192.0.2.8")
				sig, err := s.Sign(context.Background(), rrset, wildcard, zone, zsk, signNow)
				if err != nil {
					t.Fatal(err)
				}
				if sig.Labels != tc.labels {
					t.Errorf("Labels = %d, want %d", sig.Labels, tc.labels)
				}
				if sig.Hdr.Name != tc.owner {
					t.Errorf("owner = %q, want the query name %q", sig.Hdr.Name, tc.owner)
				}
				if sig.SignerName != zone || sig.KeyTag != zsk.Tag() || sig.OrigTtl != 300 {
					t.Errorf("signer %q tag %d origttl %d, want %q %d 300", sig.SignerName, sig.KeyTag, sig.OrigTtl, zone, zsk.Tag())
				}
				// A validator reconstructs the wildcard from the label count.
				if err := sig.Verify(zsk.DNSKEY, rrset); err != nil {
					t.Errorf("Verify over the expanded RRset: %v", err)
				}
				// The RRset the caller passed is left alone.
				for _, rr := range rrset {
					if rr.Header().Name != tc.owner {
						t.Errorf("Sign changed the owner of the caller's RR to %q", rr.Header().Name)
					}
				}
			})
		}
	}
}

func TestSignEmptyRRset(t *testing.T) {
	s := NewSigner(defValidity, defRefresh, 16, 1)
	zsk := newZSK(t, "example.net.", dns.ED25519)
	if sig, err := s.Sign(context.Background(), nil, "", "example.net.", zsk, signNow); err == nil {
		t.Errorf("Sign(empty) = %v, want an error", sig)
	}
}

// TestSignCacheHit: the same RRset signed again, however it is presented, is
// served from the cache: no new signature, the same signature bytes.
func TestSignCacheHit(t *testing.T) {
	base := []string{
		"www.%s 300 IN A 192.0.2.1",
		"www.%s 300 IN A 192.0.2.2",
		"www.%s 300 IN A 192.0.2.3",
	}
	tests := []struct {
		name   string
		second []string // RRs of the second Sign, %s = zone
		now    time.Time
	}{
		{"identical", base, signNow},
		{"other order", []string{base[2], base[0], base[1]}, signNow},
		{"owner in upper case", []string{"WWW.%s 300 IN A 192.0.2.1", "WWW.%s 300 IN A 192.0.2.2", "WWW.%s 300 IN A 192.0.2.3"}, signNow},
		{"mixed case and order", []string{"wWw.%s 300 IN A 192.0.2.3", "wWw.%s 300 IN A 192.0.2.1", "wWw.%s 300 IN A 192.0.2.2"}, signNow},
		{"duplicate RR", append(append([]string{}, base...), base[0]), signNow},
		{"later in the same period", base, signNow.Add(10 * time.Hour)},
	}
	for _, alg := range testAlgs {
		for i, tc := range tests {
			t.Run(algName(alg)+"/"+tc.name, func(t *testing.T) {
				zone := fmt.Sprintf("hit%d-%d.example.", alg, i)
				zsk := newZSK(t, zone, alg)
				s := NewSigner(defValidity, defRefresh, 64, 4)
				first := mustRRs(t, fmt.Sprintf(base[0], zone), fmt.Sprintf(base[1], zone), fmt.Sprintf(base[2], zone))
				var second []dns.RR
				for _, l := range tc.second {
					second = append(second, mustRRs(t, fmt.Sprintf(l, zone))...)
				}
				sig1, err := s.Sign(context.Background(), first, "", zone, zsk, signNow)
				if err != nil {
					t.Fatal(err)
				}
				n, h := signatures(zone), hits(zone)
				sig2, err := s.Sign(context.Background(), second, "", zone, zsk, tc.now)
				if err != nil {
					t.Fatal(err)
				}
				if d := signatures(zone) - n; d != 0 {
					t.Errorf("second Sign made %v new signatures, want a cache hit", d)
				}
				if d := hits(zone) - h; d != 1 {
					t.Errorf("cache hits grew by %v, want 1", d)
				}
				if sig1.Signature != sig2.Signature {
					t.Errorf("signature bytes differ on a cache hit:\n%s\n%s", sig1.Signature, sig2.Signature)
				}
				if sig2.Hdr.Name != second[0].Header().Name {
					t.Errorf("owner = %q, want the name asked for, %q", sig2.Hdr.Name, second[0].Header().Name)
				}
				if sig1.Hdr.Name != first[0].Header().Name {
					t.Errorf("first RRSIG's owner changed to %q", sig1.Hdr.Name)
				}
				if err := sig2.Verify(zsk.DNSKEY, second); err != nil {
					t.Errorf("cached RRSIG does not verify over the second RRset: %v", err)
				}
			})
		}
	}
}

// TestSignCacheMiss: any change of TTL, RDATA, key or window makes a new signature.
func TestSignCacheMiss(t *testing.T) {
	for _, alg := range testAlgs {
		zone := fmt.Sprintf("miss%d.example.", alg)
		zsk := newZSK(t, zone, alg)
		other := newZSK(t, zone, alg)
		for other.Tag() == zsk.Tag() {
			other = newZSK(t, zone, alg)
		}
		rrs := func(lines ...string) []dns.RR {
			for i := range lines {
				lines[i] = fmt.Sprintf(lines[i], zone)
			}
			return mustRRs(t, lines...)
		}
		first := rrs("www.%s 300 IN A 192.0.2.1", "www.%s 300 IN A 192.0.2.2")
		tests := []struct {
			name  string
			rrset []dns.RR
			key   *keystore.Key
			now   time.Time
		}{
			{"TTL", rrs("www.%s 301 IN A 192.0.2.1", "www.%s 301 IN A 192.0.2.2"), zsk, signNow},
			{"RDATA changed", rrs("www.%s 300 IN A 192.0.2.1", "www.%s 300 IN A 192.0.2.3"), zsk, signNow},
			{"RR added", rrs("www.%s 300 IN A 192.0.2.1", "www.%s 300 IN A 192.0.2.2", "www.%s 300 IN A 192.0.2.3"), zsk, signNow},
			{"RR removed", rrs("www.%s 300 IN A 192.0.2.1"), zsk, signNow},
			{"other owner", rrs("ftp.%s 300 IN A 192.0.2.1", "ftp.%s 300 IN A 192.0.2.2"), zsk, signNow},
			{"other type", rrs("www.%s 300 IN TXT \"192.0.2.1\""), zsk, signNow},
			{"other key", first, other, signNow},
			{"next window", first, zsk, signNow.Add(defRefresh)},
			{"previous window", first, zsk, signNow.Add(-defRefresh)},
		}
		for _, tc := range tests {
			t.Run(algName(alg)+"/"+tc.name, func(t *testing.T) {
				s := NewSigner(defValidity, defRefresh, 64, 4)
				sig1, err := s.Sign(context.Background(), first, "", zone, zsk, signNow)
				if err != nil {
					t.Fatal(err)
				}
				n := signatures(zone)
				sig2, err := s.Sign(context.Background(), tc.rrset, "", zone, tc.key, tc.now)
				if err != nil {
					t.Fatal(err)
				}
				if d := signatures(zone) - n; d != 1 {
					t.Errorf("second Sign made %v signatures, want 1 (a cache miss)", d)
				}
				if sig1.Signature == sig2.Signature {
					t.Errorf("second Sign returned the first signature")
				}
				if err := sig2.Verify(tc.key.DNSKEY, tc.rrset); err != nil {
					t.Errorf("Verify: %v", err)
				}
				inc, exp := s.Window(tc.now)
				if sig2.Inception != uint32(inc.Unix()) || sig2.Expiration != uint32(exp.Unix()) || sig2.KeyTag != tc.key.Tag() {
					t.Errorf("RRSIG window [%d, %d] tag %d, want [%d, %d] tag %d", sig2.Inception, sig2.Expiration, sig2.KeyTag, inc.Unix(), exp.Unix(), tc.key.Tag())
				}
				// The first signature is still cached.
				sig3, err := s.Sign(context.Background(), first, "", zone, zsk, signNow)
				if err != nil {
					t.Fatal(err)
				}
				if sig3.Signature != sig1.Signature {
					t.Errorf("the first signature was evicted or overwritten")
				}
			})
		}
	}
}

// TestSignCacheKeyTagCollision: two different ZSKs that share a key tag are
// different keys; a signature made by one must never be served for the other.
// Tags collide by chance (RFC 4034 App. B is a 16-bit checksum), e.g. after a
// rollover or algorithm change while signatures of the same window are cached.
func TestSignCacheKeyTagCollision(t *testing.T) {
	const zone = "collide.example."
	a, b := collidingKeys(t, zone)
	s := NewSigner(defValidity, defRefresh, 64, 4)
	rrset := mustRRs(t, "www.collide.example. 300 IN A 192.0.2.1")
	if _, err := s.Sign(context.Background(), rrset, "", zone, a, signNow); err != nil {
		t.Fatal(err)
	}
	sig, err := s.Sign(context.Background(), rrset, "", zone, b, signNow)
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Verify(b.DNSKEY, rrset); err != nil {
		t.Errorf("RRSIG returned for ZSK %d (alg %d) does not verify with that key: %v (the cache served ZSK %d alg %d's signature)",
			b.Tag(), b.DNSKEY.Algorithm, err, a.Tag(), a.DNSKEY.Algorithm)
	}
}

// collidingKeys generates ZSKs until two of them (ECDSA and/or Ed25519) share a key tag.
func collidingKeys(t *testing.T, zone string) (*keystore.Key, *keystore.Key) {
	t.Helper()
	seen := map[uint16]*keystore.Key{}
	for i := 0; i < 20000; i++ {
		k := newZSK(t, zone, testAlgs[i%2])
		if o, ok := seen[k.Tag()]; ok {
			return o, k
		}
		seen[k.Tag()] = k
	}
	t.Fatal("no key tag collision in 20000 keys")
	return nil, nil
}

// TestSignCachedNotMutated: a cached wildcard signature is handed out with
// each caller's owner, and what one caller got is not changed by the next.
func TestSignCachedNotMutated(t *testing.T) {
	const zone = "mut.example."
	const wildcard = "*.wild.mut.example."
	for _, alg := range testAlgs {
		t.Run(algName(alg), func(t *testing.T) {
			zsk := newZSK(t, zone, alg)
			s := NewSigner(defValidity, defRefresh, 64, 4)
			owners := []string{"a.b.wild.mut.example.", "c.wild.mut.example.", "a.b.wild.mut.example.", "*.wild.mut.example."}
			var sigs []*dns.RRSIG
			var sets [][]dns.RR
			for _, o := range owners {
				rrset := mustRRs(t, o+" 300 IN TXT \"w\"")
				w := wildcard
				if o == wildcard {
					w = "" // the wildcard name itself asked for
				}
				sig, err := s.Sign(context.Background(), rrset, w, zone, zsk, signNow)
				if err != nil {
					t.Fatal(err)
				}
				sigs = append(sigs, sig)
				sets = append(sets, rrset)
			}
			for i, sig := range sigs {
				if sig.Hdr.Name != owners[i] {
					t.Errorf("RRSIG %d has owner %q after later Signs, want %q", i, sig.Hdr.Name, owners[i])
				}
				if sig.Signature != sigs[0].Signature {
					t.Errorf("RRSIG %d was not served from the cache", i)
				}
				if err := sig.Verify(zsk.DNSKEY, sets[i]); err != nil {
					t.Errorf("RRSIG %d (%s): %v", i, owners[i], err)
				}
			}
			// Changing what a caller got does not reach the cache.
			sigs[1].Hdr.Name = "evil.example."
			sigs[1].Hdr.Ttl = 1
			again, err := s.Sign(context.Background(), mustRRs(t, "z.wild.mut.example. 300 IN TXT \"w\""), wildcard, zone, zsk, signNow)
			if err != nil {
				t.Fatal(err)
			}
			if again.Hdr.Name != "z.wild.mut.example." || again.Hdr.Ttl != 300 {
				t.Errorf("cached RRSIG was changed through a returned copy: owner %q TTL %d", again.Hdr.Name, again.Hdr.Ttl)
			}
		})
	}
}

// TestSignSingleflight: concurrent identical misses make one signature. A
// straggler that missed the cache just before the flight ended must not sign
// again; the scenario is repeated so that such an interleaving shows up.
func TestSignSingleflight(t *testing.T) {
	const workers, rounds = 64, 25
	for _, alg := range testAlgs {
		t.Run(algName(alg), func(t *testing.T) {
			zone := fmt.Sprintf("flight%d.example.", alg)
			zsk := newZSK(t, zone, alg)
			s := NewSigner(defValidity, defRefresh, 1024, 8)
			extra := 0
			for r := 0; r < rounds; r++ {
				rrset := mustRRs(t, fmt.Sprintf("www.%s 300 IN A 192.0.2.%d", zone, r+1), fmt.Sprintf("www.%s 300 IN A 198.51.100.%d", zone, r+1))
				n := signatures(zone)
				var (
					wg    sync.WaitGroup
					start = make(chan struct{})
					sigs  = make([]*dns.RRSIG, workers)
					errs  = make([]error, workers)
				)
				for i := 0; i < workers; i++ {
					wg.Add(1)
					go func(i int) {
						defer wg.Done()
						mine := copyRRs(rrset) // each query has its own message (see TestSignLeavesRRsAlone)
						<-start
						sigs[i], errs[i] = s.Sign(context.Background(), mine, "", zone, zsk, signNow)
					}(i)
				}
				close(start)
				wg.Wait()
				if d := signatures(zone) - n; d != 1 {
					t.Errorf("round %d: %d concurrent Signs of one RRset made %v signatures, want 1", r, workers, d)
					extra++
				}
				for i := range sigs {
					if errs[i] != nil {
						t.Fatalf("round %d: Sign %d: %v", r, i, errs[i])
					}
					if err := sigs[i].Verify(zsk.DNSKEY, rrset); err != nil {
						t.Errorf("round %d: RRSIG %d: %v", r, i, err)
					}
				}
				if t.Failed() && extra > 3 {
					t.Fatalf("stopping after %d rounds with duplicate signings", extra)
				}
			}
		})
	}
}

func copyRRs(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
	}
	return out
}

// TestSignLeavesRRsAlone: Sign must not write to the RRs it is given. They
// belong to the backend (the file plugin hands every query pointers into its
// zone tree), so a write is a data race between concurrent queries.
func TestSignLeavesRRsAlone(t *testing.T) {
	const zone = "ro.example."
	zsk := newZSK(t, zone, dns.ED25519)
	for _, tc := range []struct {
		name, wildcard string
		rrs            []string
	}{
		{"plain", "", []string{"www.ro.example. 300 IN A 192.0.2.1", "www.ro.example. 300 IN A 192.0.2.2"}},
		{"wildcard", "*.ro.example.", []string{"x.ro.example. 300 IN TXT \"x\""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSigner(defValidity, defRefresh, 64, 4)
			rrset := mustRRs(t, tc.rrs...)
			before := make([]string, len(rrset))
			hdrs := make([]dns.RR_Header, len(rrset))
			for i, rr := range rrset {
				before[i], hdrs[i] = rr.String(), *rr.Header()
			}
			if _, err := s.Sign(context.Background(), rrset, tc.wildcard, zone, zsk, signNow); err != nil {
				t.Fatal(err)
			}
			for i, rr := range rrset {
				if rr.String() != before[i] || *rr.Header() != hdrs[i] {
					t.Errorf("Sign changed the caller's RR %d: header %+v, was %+v", i, *rr.Header(), hdrs[i])
				}
			}
		})
	}
}

// TestSignSharedRRsConcurrently signs one RRset, shared as the file plugin
// shares its records, from many goroutines. Under -race it fails when Sign
// writes to the RRs.
func TestSignSharedRRsConcurrently(t *testing.T) {
	const zone = "shared.example."
	zsk := newZSK(t, zone, dns.ED25519)
	s := NewSigner(defValidity, defRefresh, 64, 4)
	rrset := mustRRs(t, "www.shared.example. 300 IN A 192.0.2.1", "www.shared.example. 300 IN A 192.0.2.2")
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sig, err := s.Sign(context.Background(), rrset, "", zone, zsk, signNow.Add(time.Duration(i%4)*defRefresh))
			if err == nil {
				err = sig.Verify(zsk.DNSKEY, copyRRs(rrset))
			}
			errs[i] = err
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Sign %d: %v", i, err)
		}
	}
}

// countingSigner wraps a crypto.Signer and records how many Sign calls run at once.
type countingSigner struct {
	crypto.Signer
	running, max atomic.Int32
}

func (c *countingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	n := c.running.Add(1)
	defer c.running.Add(-1)
	for {
		m := c.max.Load()
		if n <= m || c.max.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(time.Millisecond) // widen the window in which overlaps would show
	return c.Signer.Sign(r, digest, opts)
}

// TestSignBounded: with one signing slot, many distinct RRsets signed at once
// all complete, verify, and never sign concurrently.
func TestSignBounded(t *testing.T) {
	for _, tc := range []struct {
		alg        uint8
		concurrent int
		n          int
	}{
		{dns.ECDSAP256SHA256, 1, 40},
		{dns.ED25519, 1, 40},
		{dns.ED25519, 3, 60},
		{dns.ED25519, 0, 10}, // < 1 means 1
	} {
		t.Run(fmt.Sprintf("%s/concurrent=%d", algName(tc.alg), tc.concurrent), func(t *testing.T) {
			zone := fmt.Sprintf("bound%d-%d.example.", tc.alg, tc.concurrent)
			zsk := newZSK(t, zone, tc.alg)
			cs := &countingSigner{Signer: zsk.Signer}
			key := *zsk
			key.Signer = cs
			s := NewSigner(defValidity, defRefresh, 1024, tc.concurrent)
			n := signatures(zone)
			var wg sync.WaitGroup
			sets := make([][]dns.RR, tc.n)
			sigs := make([]*dns.RRSIG, tc.n)
			errs := make([]error, tc.n)
			done := make(chan struct{})
			for i := 0; i < tc.n; i++ {
				sets[i] = mustRRs(t, fmt.Sprintf("r%d.%s 300 IN A 192.0.2.%d", i, zone, i%250+1))
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					sigs[i], errs[i] = s.Sign(context.Background(), sets[i], "", zone, &key, signNow)
				}(i)
			}
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("concurrent Signs did not complete")
			}
			for i := range sigs {
				if errs[i] != nil {
					t.Fatalf("Sign %d: %v", i, errs[i])
				}
				if err := sigs[i].Verify(zsk.DNSKEY, sets[i]); err != nil {
					t.Errorf("RRSIG %d: %v", i, err)
				}
			}
			if d := signatures(zone) - n; d != float64(tc.n) {
				t.Errorf("%d distinct RRsets made %v signatures", tc.n, d)
			}
			limit := max(tc.concurrent, 1)
			if m := cs.max.Load(); m > int32(limit) || m < 1 {
				t.Errorf("up to %d signings ran at once, want at most %d", m, limit)
			}
		})
	}
}

// TestSignContextCancelledWaitingForSlot: a caller whose context ends while
// every signing slot is busy gets an error, and the failure is not cached.
func TestSignContextCancelledWaitingForSlot(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ctx    func() (context.Context, context.CancelFunc)
		target error
	}{
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, context.DeadlineExceeded},
		{"already cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zone := "busy-" + strings.ReplaceAll(tc.name, " ", "-") + ".example."
			zsk := newZSK(t, zone, dns.ED25519)
			s := NewSigner(defValidity, defRefresh, 64, 2)
			for i := 0; i < cap(s.slots); i++ {
				s.slots <- struct{}{} // every signer busy
			}
			rrset := mustRRs(t, "www."+zone+" 300 IN A 192.0.2.1")
			n := signatures(zone)
			ctx, cancel := tc.ctx()
			defer cancel()
			res := make(chan error, 1)
			go func() {
				sig, err := s.Sign(ctx, rrset, "", zone, zsk, signNow)
				if err == nil && sig == nil {
					err = errors.New("nil RRSIG and nil error")
				}
				res <- err
			}()
			var err error
			select {
			case err = <-res:
			case <-time.After(10 * time.Second):
				t.Fatal("Sign did not return after its context ended")
			}
			if err == nil {
				t.Fatal("Sign with a cancelled context and no free slot returned no error")
			}
			if !errors.Is(err, tc.target) {
				t.Errorf("error %v, want %v", err, tc.target)
			}
			if d := signatures(zone) - n; d != 0 {
				t.Errorf("%v signatures made while no slot was free", d)
			}
			// Free the slots: the next Sign signs (the error was not cached).
			for i := 0; i < cap(s.slots); i++ {
				<-s.slots
			}
			sig, err := s.Sign(context.Background(), rrset, "", zone, zsk, signNow)
			if err != nil {
				t.Fatalf("Sign after the slots were freed: %v", err)
			}
			if err := sig.Verify(zsk.DNSKEY, rrset); err != nil {
				t.Error(err)
			}
			if d := signatures(zone) - n; d != 1 {
				t.Errorf("%v signatures, want 1", d)
			}
		})
	}
}

// TestSignCancelDoesNotFailOthers: when the caller that started a signing
// gives up (its query timed out), other queries waiting for the same
// signature, whose contexts are fine, must still get it (§4: a signing
// failure of one query must not turn unrelated queries into SERVFAIL).
func TestSignCancelDoesNotFailOthers(t *testing.T) {
	const zone = "shared-cancel.example."
	zsk := newZSK(t, zone, dns.ED25519)
	s := NewSigner(defValidity, defRefresh, 64, 1)
	s.slots <- struct{}{} // the only signer is busy
	rrset := mustRRs(t, "www."+zone+" 300 IN A 192.0.2.1")
	misses := func() float64 { return counterValue(cacheMisses.WithLabelValues("", zone)) }
	m0 := misses()

	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	resA := make(chan error, 1)
	go func() {
		_, err := s.Sign(ctxA, rrset, "", zone, zsk, signNow)
		resA <- err
	}()
	waitFor(t, func() bool { return misses()-m0 >= 1 })
	waitBlocked(t, "A waiting for the slot", func(stack string) bool {
		return strings.Contains(stack, ".(*Signer).acquire(")
	})

	resB := make(chan error, 1)
	go func() {
		sig, err := s.Sign(context.Background(), rrset, "", zone, zsk, signNow)
		if err == nil {
			err = sig.Verify(zsk.DNSKEY, rrset)
		}
		resB <- err
	}()
	waitFor(t, func() bool { return misses()-m0 >= 2 })
	waitBlocked(t, "B waiting for A's signature", func(stack string) bool {
		return strings.Contains(stack, "singleflight.(*Group).Do(") && !strings.Contains(stack, ".(*Signer).acquire(")
	})

	cancelA()
	if err := <-resA; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: error %v, want context.Canceled", err)
	}
	<-s.slots // the signer is free again
	select {
	case err := <-resB:
		if err != nil {
			t.Errorf("caller with a live context failed because another caller's context was cancelled: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("caller with a live context never got its signature")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(time.Millisecond)
	}
}

// waitBlocked waits (10 s at most) until a goroutine whose stack matches is blocked (in a
// channel operation, a select, a lock or a WaitGroup: neither running nor runnable), and fails
// the test, saying what it waited for, if none is.
func waitBlocked(t *testing.T, what string, match func(stack string) bool) {
	t.Helper()
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.Stack(buf, true)
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			header, _, _ := strings.Cut(g, "\n")
			if !strings.Contains(header, "[running]") && !strings.Contains(header, "[runnable]") && match(g) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; goroutines:\n%s", what, buf[:n])
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSignDeterministic: two replicas (two Signers, no shared cache) with
// one ZSK make byte-identical RRSIGs over an RRset in one window, and
// different ones over different data; every one verifies.
func TestSignDeterministic(t *testing.T) {
	const zone = "det.example.net."
	for _, alg := range testAlgs {
		t.Run(algName(alg), func(t *testing.T) {
			zsk := newZSK(t, zone, alg)
			a, b := NewSigner(defValidity, defRefresh, 64, 4), NewSigner(defValidity, defRefresh, 64, 4)
			sign := func(s *Signer, rr string, now time.Time) *dns.RRSIG {
				t.Helper()
				rrset := mustRRs(t, rr)
				sig, err := s.Sign(context.Background(), rrset, "", zone, zsk, now)
				if err != nil {
					t.Fatal(err)
				}
				if err := sig.Verify(zsk.DNSKEY, rrset); err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return sig
			}
			www := "www.det.example.net. 300 IN A 192.0.2.1"
			tests := []struct {
				name  string
				x, y  *dns.RRSIG
				equal bool
			}{
				{"same RRset, same window, two replicas", sign(a, www, signNow), sign(b, www, signNow.Add(time.Minute)), true},
				{"other data", sign(a, www, signNow), sign(b, "www.det.example.net. 300 IN A 192.0.2.2", signNow), false},
				{"next window", sign(a, www, signNow), sign(b, www, signNow.Add(defRefresh)), false},
			}
			for _, tc := range tests {
				if got := tc.x.Signature == tc.y.Signature; got != tc.equal {
					t.Errorf("%s: signatures equal = %v, want %v", tc.name, got, tc.equal)
				}
			}
		})
	}
}
