package livesign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coredns/coredns/plugin/metrics"
	"github.com/coredns/coredns/plugin/pkg/cache"
	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
	"golang.org/x/sync/singleflight"
)

// Signer makes RRSIGs with a ZSK. Signatures are cached by the RRset's
// canonical content, the key and the validity window; identical concurrent
// misses are signed once; at most a fixed number of signings run at once, so
// a flood of never-seen names cannot starve cached answers.
type Signer struct {
	Validity time.Duration // signature-validity
	Refresh  time.Duration // signature-refresh: windows are aligned to it

	// Wait bounds how long a signing waits for a free slot; then the query
	// gets SERVFAIL instead of piling up.
	Wait time.Duration

	cache   *cache.Cache[*sigEntry] // RRsets of the zone
	denials *cache.Cache[*sigEntry] // NSECs: one per query name, so a flood cannot evict the rest
	flight  singleflight.Group
	slots   chan struct{}
}

type sigEntry struct {
	key    string
	sig    *dns.RRSIG
	signed []dns.RR // the RRset as signed (owner may be a wildcard), for pre-signing
	zone   string
	hits   atomic.Int64
}

// NewSigner returns a Signer with a cache of size signatures (plus a tenth
// of that, at least 1024, for NSEC signatures) and at most concurrent
// signings running at once.
func NewSigner(validity, refresh time.Duration, size, concurrent int) *Signer {
	if concurrent < 1 {
		concurrent = 1
	}
	return &Signer{
		Validity: validity,
		Refresh:  refresh,
		Wait:     time.Second,
		cache:    cache.New[*sigEntry](size),
		denials:  cache.New[*sigEntry](max(size/10, 1024)),
		slots:    make(chan struct{}, concurrent),
	}
}

// Window returns the aligned validity window for signatures made at now:
// inception = floor(now, refresh) - 1h, expiration = floor(now, refresh) +
// validity, floor counted from the Unix epoch. Every replica computes the
// same window, so caches stay warm.
func (s *Signer) Window(now time.Time) (inception, expiration time.Time) {
	base := alignedBase(now, s.Refresh)
	return base.Add(-time.Hour), base.Add(s.Validity)
}

// Sign returns the RRSIG over rrset made by zsk for zone. All RRs in rrset
// share owner, class, type and TTL. When wildcard is not empty the RRset was
// synthesized from that wildcard: it is signed as the wildcard (RFC 4035
// §5.3.4 label count) and the RRSIG's owner is the RRset's owner. rrset is
// not modified: it usually belongs to the backend.
func (s *Signer) Sign(ctx context.Context, rrset []dns.RR, wildcard, zone string, zsk *keystore.Key, now time.Time) (*dns.RRSIG, error) {
	if len(rrset) == 0 {
		return nil, errors.New("empty RRset")
	}
	owner := rrset[0].Header().Name
	signAs := owner
	if wildcard != "" {
		signAs = wildcard
	}
	// Copies: packing writes Rdlength into the RRs, and the owner may change.
	signed := withOwner(rrset, signAs)
	incep, expir := s.Window(now)
	key := cacheKey(signed, zsk, incep)
	hash := hashString(key)
	server := metrics.WithServer(ctx)
	c := s.cache
	if signed[0].Header().Rrtype == dns.TypeNSEC {
		c = s.denials
	}

	if sig := cached(c, hash, key); sig != nil {
		cacheHits.WithLabelValues(server, zone).Inc()
		return withSigOwner(sig, owner), nil
	}
	cacheMisses.WithLabelValues(server, zone).Inc()

	// The signing runs detached from the first caller's context, so that
	// one cancelled query does not fail the others waiting on it.
	ch := s.flight.DoChan(key, func() (any, error) {
		if sig := cached(c, hash, key); sig != nil {
			return sig, nil // signed while we missed the cache
		}
		wait := time.NewTimer(s.Wait)
		defer wait.Stop()
		select {
		case s.slots <- struct{}{}:
		case <-wait.C:
			return nil, fmt.Errorf("all %d signers busy for %s", cap(s.slots), s.Wait)
		}
		defer func() { <-s.slots }()

		hdr := signed[0].Header()
		sig := &dns.RRSIG{
			Hdr:        dns.RR_Header{Name: hdr.Name, Rrtype: dns.TypeRRSIG, Class: hdr.Class, Ttl: hdr.Ttl},
			OrigTtl:    hdr.Ttl,
			Algorithm:  zsk.DNSKEY.Algorithm,
			KeyTag:     zsk.Tag(),
			SignerName: zone,
			Inception:  uint32(incep.Unix()),
			Expiration: uint32(expir.Unix()),
		}
		if err := sig.Sign(zsk.Signer, signed); err != nil {
			return nil, err
		}
		signaturesTotal.WithLabelValues(server, zone).Inc()
		c.Add(hash, &sigEntry{key: key, sig: sig, signed: signed, zone: zone})
		return sig, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return withSigOwner(res.Val.(*dns.RRSIG), owner), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Presign signs, with zsk and the window in force at at, the n RRsets of
// zone whose signatures were served most often, so that the first queries
// after a key switch at at find their signatures cached. It returns how
// many it signed.
func (s *Signer) Presign(ctx context.Context, zone string, zsk *keystore.Key, at time.Time, n int) int {
	var hot []*sigEntry
	s.cache.Walk(func(items map[uint64]*sigEntry, k uint64) bool {
		if e := items[k]; e.zone == zone && e.sig.KeyTag != zsk.Tag() {
			hot = append(hot, e)
		}
		return true
	})
	sort.Slice(hot, func(i, j int) bool { return hot[i].hits.Load() > hot[j].hits.Load() })
	done := 0
	for _, e := range hot[:min(n, len(hot))] {
		owner := e.signed[0].Header().Name
		wildcard := ""
		if strings.HasPrefix(owner, "*.") {
			wildcard = owner
		}
		if _, err := s.Sign(ctx, e.signed, wildcard, zone, zsk, at); err == nil {
			done++
		}
	}
	return done
}

// cached returns the signature for key in c, or nil.
func cached(c *cache.Cache[*sigEntry], hash uint64, key string) *dns.RRSIG {
	if e, ok := c.Get(hash); ok && e.key == key {
		e.hits.Add(1)
		return e.sig
	}
	return nil
}

// withSigOwner returns a copy of sig with its owner set to owner. Cached
// signatures are shared: a plugin in front (cache sets TTLs in place) must
// only ever see a copy of its own.
func withSigOwner(sig *dns.RRSIG, owner string) *dns.RRSIG {
	c := *sig
	c.Hdr.Name = owner
	return &c
}

// withOwner returns copies of rrset with owner name set to owner.
func withOwner(rrset []dns.RR, owner string) []dns.RR {
	out := make([]dns.RR, len(rrset))
	for i, rr := range rrset {
		out[i] = dns.Copy(rr)
		out[i].Header().Name = owner
	}
	return out
}

// cacheKey is the canonical identity of a signature: owner (lower case),
// class, type, TTL and the sorted RDATA set, plus the key (tag, algorithm
// and a hash of the public key: tags alone collide) and the window. rrset
// holds copies the caller owns.
func cacheKey(rrset []dns.RR, zsk *keystore.Key, incep time.Time) string {
	size := 0
	for _, rr := range rrset {
		rr.Header().Name = strings.ToLower(rr.Header().Name)
		size += dns.Len(rr)
	}
	buf := make([]byte, size+1)
	wires := make([][]byte, 0, len(rrset))
	off := 0
	for _, rr := range rrset {
		end, err := dns.PackRR(rr, buf, off, nil, false)
		if err != nil {
			continue
		}
		wires = append(wires, buf[off:end])
		off = end
	}
	sort.Slice(wires, func(i, j int) bool { return bytes.Compare(wires[i], wires[j]) < 0 })
	var b strings.Builder
	tag, u, kh := zsk.Tag(), uint32(incep.Unix()), hashString(zsk.DNSKEY.PublicKey)
	b.Write([]byte{byte(tag >> 8), byte(tag), zsk.DNSKEY.Algorithm})
	for i := 56; i >= 0; i -= 8 {
		b.WriteByte(byte(kh >> i))
	}
	b.Write([]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)})
	for i, w := range wires {
		if i > 0 && bytes.Equal(w, wires[i-1]) {
			continue
		}
		b.Write(w)
	}
	return b.String()
}
