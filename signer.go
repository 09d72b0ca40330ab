package livesign

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"strings"
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

	cache  *cache.Cache[*sigEntry]
	flight singleflight.Group
	slots  chan struct{}
}

type sigEntry struct {
	key string
	sig *dns.RRSIG
}

// NewSigner returns a Signer with a cache of size signatures and at most
// concurrent signings running at once.
func NewSigner(validity, refresh time.Duration, size, concurrent int) *Signer {
	if concurrent < 1 {
		concurrent = 1
	}
	return &Signer{
		Validity: validity,
		Refresh:  refresh,
		cache:    cache.New[*sigEntry](size),
		slots:    make(chan struct{}, concurrent),
	}
}

// Window returns the aligned validity window for signatures made at now:
// inception = floor(now, refresh) - 1h, expiration = floor(now, refresh) +
// validity. Every replica computes the same window, so caches stay warm.
func (s *Signer) Window(now time.Time) (inception, expiration time.Time) {
	base := now.Truncate(s.Refresh)
	return base.Add(-time.Hour), base.Add(s.Validity)
}

// Sign returns the RRSIG over rrset made by zsk for zone. All RRs in rrset
// share owner, class, type and TTL. When wildcard is not empty the RRset was
// synthesized from that wildcard: it is signed as the wildcard (RFC 4035
// §5.3.4 label count) and the RRSIG's owner is the RRset's owner.
func (s *Signer) Sign(ctx context.Context, rrset []dns.RR, wildcard, zone string, zsk *keystore.Key, now time.Time) (*dns.RRSIG, error) {
	if len(rrset) == 0 {
		return nil, errors.New("empty RRset")
	}
	owner := rrset[0].Header().Name
	signed := rrset
	if wildcard != "" {
		signed = withOwner(rrset, wildcard)
	}
	incep, expir := s.Window(now)
	key := cacheKey(signed, zsk.Tag(), incep)
	hash := hashString(key)

	if e, ok := s.cache.Get(hash); ok && e.key == key {
		cacheHits.WithLabelValues(metrics.WithServer(ctx), zone).Inc()
		return withSigOwner(e.sig, owner), nil
	}
	cacheMisses.WithLabelValues(metrics.WithServer(ctx), zone).Inc()

	v, err, _ := s.flight.Do(key, func() (any, error) {
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
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
		signaturesTotal.WithLabelValues(metrics.WithServer(ctx), zone).Inc()
		s.cache.Add(hash, &sigEntry{key: key, sig: sig})
		return sig, nil
	})
	if err != nil {
		return nil, err
	}
	return withSigOwner(v.(*dns.RRSIG), owner), nil
}

// withSigOwner returns sig with its owner set to owner, copying it when it
// differs: cached signatures are shared and never modified.
func withSigOwner(sig *dns.RRSIG, owner string) *dns.RRSIG {
	if sig.Hdr.Name == owner {
		return sig
	}
	c := dns.Copy(sig).(*dns.RRSIG)
	c.Hdr.Name = owner
	return c
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

// cacheKey is the canonical identity of a signature: owner, class, type,
// TTL and the sorted RDATA set, plus key tag and window.
func cacheKey(rrset []dns.RR, tag uint16, incep time.Time) string {
	size := 0
	for _, rr := range rrset {
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
	hdr := rrset[0].Header()
	b.WriteString(strings.ToLower(hdr.Name))
	b.WriteByte(0)
	b.Write([]byte{byte(tag >> 8), byte(tag), byte(hdr.Rrtype >> 8), byte(hdr.Rrtype)})
	u := uint32(incep.Unix())
	b.Write([]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)})
	for i, w := range wires {
		if i > 0 && bytes.Equal(w, wires[i-1]) {
			continue
		}
		b.Write(w)
	}
	return b.String()
}
