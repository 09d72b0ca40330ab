package livesign

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"hash/maphash"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coredns/coredns/plugin/metrics"
	"github.com/coredns/coredns/plugin/pkg/cache"
	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
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

	// Wait bounds how long a signing waits for a free slot, and Queue how
	// many signings wait at once; a signing beyond either is shed (errShed)
	// instead of piling up.
	Wait  time.Duration
	Queue int

	cache   *cache.Cache[*sigEntry] // RRsets of the zone
	denials *cache.Cache[*sigEntry] // NSECs: one per query name, so a flood cannot evict the rest
	flight  singleflight.Group
	slots   chan struct{}
	waiting atomic.Int64 // signings waiting for a slot
	ids     sync.Map     // timeline.KeyRef -> *keyIdentity
}

type sigEntry struct {
	key    string
	sig    *dns.RRSIG
	signed []dns.RR // the RRset as signed (owner may be a wildcard), for pre-signing; nil for NSECs
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
		Queue:    queuePerSigner * concurrent,
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
	base := timeline.WindowBase(now, s.Refresh)
	return base.Add(-time.Hour), base.Add(s.Validity)
}

// WindowEnd returns when the validity window of signatures made at now
// ends: the next aligned base, when every replica moves to new RRSIGs.
func (s *Signer) WindowEnd(now time.Time) time.Time {
	return timeline.WindowBase(now, s.Refresh).Add(s.Refresh)
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
	signAs = signingName(signAs)
	incep, expir := s.Window(now)
	id := s.identity(zsk)
	buf := keyBufs.Get().(*[]byte)
	defer keyBufs.Put(buf)
	*buf = appendCacheKey((*buf)[:0], rrset, signAs, id, incep)
	if *buf == nil {
		*buf = make([]byte, 0, 512)
		return nil, fmt.Errorf("cannot pack the %s RRset at %s", dns.TypeToString[rrset[0].Header().Rrtype], owner)
	}
	hash := maphash.Bytes(hashSeed, *buf)
	server := metrics.WithServer(ctx)
	c := s.cache
	if rrset[0].Header().Rrtype == dns.TypeNSEC {
		c = s.denials
	}

	if sig := cached(c, hash, *buf); sig != nil {
		cacheHits.WithLabelValues(server, zone).Inc()
		return withSigOwner(sig, owner), nil
	}
	cacheMisses.WithLabelValues(server, zone).Inc()

	// Concurrent misses of one RRset sign once, in the goroutine of the
	// first; while it waits for a signing slot it watches its own context.
	// If that context ends, the others waiting on it try again themselves.
	key := string(*buf)
	sign := func() (any, error) {
		if sig := cached(c, hash, []byte(key)); sig != nil {
			return sig, nil // signed while we missed the cache
		}
		if err := s.acquire(ctx); err != nil {
			return nil, err
		}
		defer func() { <-s.slots }()

		// The cache keeps a copy of a zone RRset for pre-signing. An NSEC
		// is made by livesign for this answer alone and never pre-signed.
		signed, keep := rrset, c == s.cache
		if keep || signAs != owner {
			signed = withOwner(rrset, signAs)
		}
		hdr := signed[0].Header()
		sig := &dns.RRSIG{
			Hdr:        dns.RR_Header{Name: hdr.Name, Rrtype: dns.TypeRRSIG, Class: hdr.Class, Ttl: hdr.Ttl},
			OrigTtl:    hdr.Ttl,
			Algorithm:  zsk.DNSKEY.Algorithm,
			KeyTag:     id.tag,
			SignerName: zone,
			Inception:  uint32(incep.Unix()),
			Expiration: uint32(expir.Unix()),
		}
		if err := sign(sig, zsk.Signer, signed); err != nil {
			return nil, err
		}
		signaturesTotal.WithLabelValues(server, zone).Inc()
		if !keep {
			signed = nil
		}
		c.Add(hash, &sigEntry{key: key, sig: sig, signed: signed, zone: zone})
		return sig, nil
	}
	for {
		v, err, _ := s.flight.Do(key, sign)
		if err == nil {
			return withSigOwner(v.(*dns.RRSIG), owner), nil
		}
		if ctx.Err() != nil || !(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			return nil, err
		}
		// Another caller's context ended while it signed for us: go again.
	}
}

// sign fills in sig's signature over rrset with k. A panic in the signing
// code becomes its error: the background loop pre-signs too, where nothing
// else would recover it.
func sign(sig *dns.RRSIG, k crypto.Signer, rrset []dns.RR) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("signing %s %s panicked: %v", rrset[0].Header().Name, dns.TypeToString[rrset[0].Header().Rrtype], r)
		}
	}()
	if nsec, ok := rrset[0].(*dns.NSEC); ok && len(rrset) == 1 {
		return signNSEC(sig, k, nsec)
	}
	return sig.Sign(keystore.Deterministic(k), rrset)
}

// signingName returns owner written so that miekg/dns's RRSIG.Sign, which
// takes any owner starting with '*' for a wildcard, counts its labels right
// (RFC 4034 §3.1.3): a first label that starts with '*' but is longer is
// written \042..., and a first label that is the single octet '*' written
// \042 becomes "*".
func signingName(owner string) string {
	switch {
	case strings.HasPrefix(owner, "*.") || owner == "*":
		return owner
	case strings.HasPrefix(owner, "*"):
		return `\042` + owner[1:]
	case strings.HasPrefix(owner, `\042.`):
		return "*" + owner[4:]
	}
	return owner
}

// queuePerSigner is how many signings may wait per signing slot: at the
// 50-100 µs a flood answer costs, 64 waiting add at most a few
// milliseconds, and more would only add latency, not throughput.
const queuePerSigner = 64

// errShed is the error of a signing the signer cannot afford: Queue
// signings already wait for a slot, or it waited Wait without getting one.
var errShed = errors.New("signing shed: more to sign than the signers can")

// acquire takes a signing slot, waiting at most Wait and no longer than
// ctx lives, or fails with errShed when Queue signings wait already.
func (s *Signer) acquire(ctx context.Context) error {
	select {
	case s.slots <- struct{}{}:
		return nil
	default:
	}
	if s.waiting.Add(1) > int64(s.Queue) {
		s.waiting.Add(-1)
		return fmt.Errorf("%w (%d waiting for %d signers)", errShed, s.Queue, cap(s.slots))
	}
	defer s.waiting.Add(-1)
	wait := time.NewTimer(s.Wait)
	defer wait.Stop()
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-wait.C:
		return fmt.Errorf("%w (all %d signers busy for %s)", errShed, cap(s.slots), s.Wait)
	}
}

// keyIdentity is what a signature cache key says of the ZSK: its tag,
// algorithm and a hash of its public key (tags alone collide).
type keyIdentity struct {
	tag uint16
	raw [11]byte
}

// identity returns the ZSK's identity, computed once per key: a key tag
// is computed by packing the DNSKEY, too slow for every query.
func (s *Signer) identity(zsk *keystore.Key) *keyIdentity {
	ref := timeline.RefOf(zsk.DNSKEY) // not the *Key: every reload makes new ones
	if v, ok := s.ids.Load(ref); ok {
		return v.(*keyIdentity)
	}
	id := &keyIdentity{tag: zsk.Tag()}
	kh := maphash.String(hashSeed, zsk.DNSKEY.PublicKey)
	id.raw[0], id.raw[1], id.raw[2] = byte(id.tag>>8), byte(id.tag), zsk.DNSKEY.Algorithm
	for i := 0; i < 8; i++ {
		id.raw[3+i] = byte(kh >> (56 - 8*i))
	}
	s.ids.Store(ref, id)
	return id
}

var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Presign signs, with zsk and the window in force at at, the n RRsets of
// zone whose signatures were served most often, so that the first queries
// after a key switch at at find their signatures cached. It returns how
// many it signed.
func (s *Signer) Presign(ctx context.Context, zone string, zsk *keystore.Key, at time.Time, n int) int {
	var hot []*sigEntry
	tag := s.identity(zsk).tag
	s.cache.Walk(func(items map[uint64]*sigEntry, k uint64) bool {
		if e := items[k]; e.zone == zone && e.sig.KeyTag != tag {
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
		if ctx.Err() != nil {
			break
		}
		if _, err := s.Sign(ctx, e.signed, wildcard, zone, zsk, at); err == nil {
			done++
		}
	}
	return done
}

// cached returns the signature for key in c, or nil.
func cached(c *cache.Cache[*sigEntry], hash uint64, key []byte) *dns.RRSIG {
	if e, ok := c.Get(hash); ok && e.key == string(key) {
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

// appendCacheKey appends to b the canonical identity of a signature: the
// key identity, the window, the owner as signed (lower case), then type,
// class, TTL and RDATA of each RR in canonical order, duplicates out. rrset
// is not modified: each RR is packed from a shallow copy, since packing
// writes the RDLENGTH into the header.
func appendCacheKey(b []byte, rrset []dns.RR, owner string, id *keyIdentity, incep time.Time) []byte {
	b = append(b, id.raw[:]...)
	u := uint32(incep.Unix())
	b = append(b, byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
	b = append(b, strings.ToLower(owner)...)
	b = append(b, 0)
	start := len(b)
	var offs [][2]int
	for _, rr := range rrset {
		c := shallowCopy(rr)
		c.Header().Name = "."
		if need := len(b) + dns.Len(c); cap(b) < need {
			b = append(b[:cap(b)], make([]byte, need-cap(b))...)[:len(b)]
		}
		end, err := dns.PackRR(c, b[:cap(b)], len(b), nil, false)
		if err != nil {
			return nil // not a key: no caching
		}
		offs = append(offs, [2]int{len(b), end})
		b = b[:end]
	}
	if len(offs) > 1 { // canonical order, duplicates out
		wires := make([][]byte, len(offs))
		for i, o := range offs {
			wires[i] = append([]byte(nil), b[o[0]:o[1]]...)
		}
		sort.Slice(wires, func(i, j int) bool { return bytes.Compare(wires[i], wires[j]) < 0 })
		b = b[:start]
		for i, w := range wires {
			if i == 0 || !bytes.Equal(w, wires[i-1]) {
				b = append(b, w...)
			}
		}
	}
	return b
}

// shallowCopy returns a copy of the RR struct that shares its slices and
// strings: enough to let packing write the header without touching rr.
func shallowCopy(rr dns.RR) dns.RR {
	v := reflect.ValueOf(rr).Elem()
	c := reflect.New(v.Type())
	c.Elem().Set(v)
	return c.Interface().(dns.RR)
}
