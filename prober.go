package livesign

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/metadata"
	"github.com/coredns/coredns/plugin/pkg/cache"
	"github.com/coredns/coredns/plugin/pkg/nonwriter"
	"github.com/miekg/dns"
	"golang.org/x/sync/singleflight"
)

// typeProber learns what the zone holds by asking the next plugin internal
// questions: no CoreDNS backend answers "which types are here?" or "does
// this name exist?". Answers are cached per name for at most the negative
// TTL, and concurrent lookups of one name collapse into one. A failed
// lookup is never cached: an incomplete bitmap would let aggressive NSEC
// caching deny real data.
type typeProber struct {
	l      *Livesign // asks l.Next
	cache  *cache.Cache[*probeEntry]
	flight singleflight.Group
	now    func() time.Time
}

type probeEntry struct {
	name     string
	types    []uint16
	soa      *dns.SOA  // for the "SOA" lookups of an apex
	presence presence  // for the presence lookups
	rrs      []dns.RR  // for the RRset lookups
	wildcard string    // for the RRset lookups: the wildcard it came from
	expires  time.Time //
}

// existence is what a name is in the zone, for the signing gate.
type existence int

const (
	// absent: the backend says NXDOMAIN; no data, no descendant, no
	// wildcard match.
	absent existence = iota
	// synthesized: no data and no descendant, but a wildcard matches.
	synthesized
	// present: the name owns data, is an empty non-terminal or a
	// delegation point.
	present
	// occluded: below a zone cut or a DNAME; not the zone's to deny.
	occluded
)

func (e existence) String() string {
	return [...]string{"absent", "synthesized from a wildcard", "present", "below a zone cut or DNAME"}[e]
}

// presence is what the backend says about a name.
type presence struct {
	is       existence
	wildcard string // for synthesized: the wildcard that matches
}

// probeTypes is every RR type a backend can hold: all types miekg/dns knows,
// minus meta types and the DNSSEC types livesign makes itself. SOA, NS and
// CNAME come first: they decide early what else can be there.
var probeTypes = func() []uint16 {
	skip := map[uint16]bool{
		dns.TypeNone: true, dns.TypeOPT: true, dns.TypeANY: true, dns.TypeAXFR: true, dns.TypeIXFR: true,
		dns.TypeMAILA: true, dns.TypeMAILB: true, dns.TypeTKEY: true, dns.TypeTSIG: true,
		dns.TypeRRSIG: true, dns.TypeNSEC: true, dns.TypeNSEC3: true, dns.TypeNSEC3PARAM: true,
		dns.TypeDNSKEY: true, dns.TypeCDS: true, dns.TypeCDNSKEY: true, TypeNXNAME: true,
		dns.TypeCNAME: true, dns.TypeNS: true, dns.TypeSOA: true,
	}
	var ts []uint16
	for t := range dns.TypeToString {
		if !skip[t] {
			ts = append(ts, t)
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return append([]uint16{dns.TypeSOA, dns.TypeNS, dns.TypeCNAME}, ts...)
}()

func newTypeProber(l *Livesign, size int) *typeProber {
	return &typeProber{l: l, cache: cache.New[*probeEntry](size), now: l.now}
}

// ask sends one internal query for name and qtype, without DO, to the next
// plugin and returns its reply and the wildcard the backend says it expanded
// for name (the file plugin's zone/wildcard metadata), if any. The query
// gets a metadata context of its own, so that what the backend says about
// this lookup is not mixed with what it says about any other.
func (p *typeProber) ask(ctx context.Context, w dns.ResponseWriter, name string, qtype uint16) (*dns.Msg, string, error) {
	m := new(dns.Msg)
	m.SetQuestion(wireForm(name), qtype)
	ctx = metadata.ContextWithMetadata(ctx)
	nw := nonwriter.New(w)
	rcode, err := plugin.NextOrFailure("livesign", p.l.Next, ctx, nw, m)
	if nw.Msg == nil {
		return nil, "", fmt.Errorf("internal lookup %s %s: no reply (rcode %s, %v)", name, dns.TypeToString[qtype], dns.RcodeToString[rcode], err)
	}
	if r := nw.Msg.Rcode; r != dns.RcodeSuccess && r != dns.RcodeNameError {
		return nil, "", fmt.Errorf("internal lookup %s %s: rcode %s", name, dns.TypeToString[qtype], dns.RcodeToString[r])
	}
	return nw.Msg, wildcardOf(ctx), nil
}

// wireForm returns name written as it reaches the backend from the wire:
// the file plugin answers "\042x" (as a zone file may write a name) other
// than "*x" (as a query brings it).
func wireForm(name string) string {
	if !strings.Contains(name, `\`) {
		return name
	}
	if n, ok := parseName(name); ok {
		return n.String()
	}
	return name
}

// wildcardOf returns the wildcard the backend says it expanded, fully
// qualified, or "".
func wildcardOf(ctx context.Context) string {
	if f := metadata.ValueFunc(ctx, "zone/wildcard"); f != nil {
		if w := f(); w != "" {
			return dns.Fqdn(w)
		}
	}
	return ""
}

// TypesAt returns the types that exist at name, not counting what a
// wildcard synthesizes there. ttl bounds how long the answer is cached.
func (p *typeProber) TypesAt(ctx context.Context, w dns.ResponseWriter, name string, ttl uint32) ([]uint16, error) {
	e, err := p.get(ctx, "types:", name, ttl, func(ctx context.Context) (*probeEntry, error) {
		return p.lookupTypes(ctx, w, name)
	})
	if err != nil {
		return nil, err
	}
	return e.types, nil
}

// SOA returns the SOA record at the apex of zone, cached for its TTL (an
// hour at most).
func (p *typeProber) SOA(ctx context.Context, w dns.ResponseWriter, zone string) (*dns.SOA, error) {
	e, err := p.get(ctx, "soa:", zone, 3600, func(ctx context.Context) (*probeEntry, error) {
		m, _, err := p.ask(ctx, w, zone, dns.TypeSOA)
		if err != nil {
			return nil, err
		}
		for _, rr := range m.Answer {
			if soa, ok := rr.(*dns.SOA); ok {
				return &probeEntry{soa: soa}, nil
			}
		}
		return nil, fmt.Errorf("the backend has no SOA at %s", zone)
	})
	if err != nil {
		return nil, err
	}
	return e.soa, nil
}

// Presence returns what the backend says name is: absent, synthesized from
// a wildcard, present, or occluded by a zone cut or DNAME. It asks for type
// CNAME, which no backend chases. A name the backend answers from a wildcard
// is asked about once more through its first child: a wildcard matches the
// child the same way only if name has no descendants, which tells an empty
// non-terminal (which the CoreDNS file plugin answers from a wildcard
// above it, against RFC 4592) from a name that does not exist.
func (p *typeProber) Presence(ctx context.Context, w dns.ResponseWriter, name string, ttl uint32) (presence, error) {
	e, err := p.get(ctx, "presence:", name, ttl, func(ctx context.Context) (*probeEntry, error) {
		pr, err := p.lookupPresence(ctx, w, name)
		return &probeEntry{presence: pr}, err
	})
	if err != nil {
		return presence{}, err
	}
	return e.presence, nil
}

func (p *typeProber) lookupPresence(ctx context.Context, w dns.ResponseWriter, name string) (presence, error) {
	m, wc, err := p.ask(ctx, w, name, dns.TypeCNAME)
	if err != nil {
		return presence{}, err
	}
	if cut := referralCut(m); cut != "" && len(m.Answer) == 0 && !m.Authoritative {
		if equalNames(cut, name) {
			return presence{is: present}, nil // a delegation point
		}
		return presence{is: occluded}, nil
	}
	for _, rr := range m.Answer {
		if d, ok := rr.(*dns.DNAME); ok && !equalNames(d.Hdr.Name, name) {
			return presence{is: occluded}, nil
		}
	}
	switch {
	case m.Rcode == dns.RcodeNameError:
		return presence{is: absent}, nil
	case wc == "":
		return presence{is: present}, nil
	}
	n, ok := parseName(name)
	if !ok {
		return presence{}, fmt.Errorf("internal lookup: %q is not a domain name", name)
	}
	child, ok := dnsLimits.firstChild(n)
	if !ok {
		return presence{is: synthesized, wildcard: wc}, nil // no room for descendants
	}
	_, cwc, err := p.ask(ctx, w, child.String(), dns.TypeCNAME)
	if err != nil {
		return presence{}, err
	}
	if equalNames(cwc, wc) {
		return presence{is: synthesized, wildcard: wc}, nil
	}
	return presence{is: present}, nil
}

// RRset returns the RRset of type qtype that the backend answers at owner
// when asked for it directly, and the wildcard it was synthesized from, if
// any. With fresh set it asks again instead of using the cache.
func (p *typeProber) RRset(ctx context.Context, w dns.ResponseWriter, owner string, qtype uint16, ttl uint32, fresh bool) ([]dns.RR, string, error) {
	key := "rrset:" + dns.TypeToString[qtype] + ":"
	if fresh {
		p.cache.Remove(hashString(key + strings.ToLower(owner)))
	}
	e, err := p.get(ctx, key, owner, ttl, func(ctx context.Context) (*probeEntry, error) {
		m, wc, err := p.ask(ctx, w, owner, qtype)
		if err != nil {
			return nil, err
		}
		e := &probeEntry{wildcard: wc}
		for _, rr := range m.Answer {
			if h := rr.Header(); h.Rrtype == qtype && equalNames(h.Name, owner) {
				e.rrs = append(e.rrs, rr)
			}
		}
		return e, nil
	})
	if err != nil {
		return nil, "", err
	}
	return e.rrs, e.wildcard, nil
}

// get returns the cached entry for prefix+name or makes it with make, once
// for all concurrent callers; the lookup runs detached from any one
// caller's context.
func (p *typeProber) get(ctx context.Context, prefix, name string, ttl uint32, make func(context.Context) (*probeEntry, error)) (*probeEntry, error) {
	key := prefix + strings.ToLower(name)
	h := hashString(key)
	now := p.now()
	if e, ok := p.cache.Get(h); ok && e.name == key && now.Before(e.expires) {
		return e, nil
	}
	ch := p.flight.DoChan(key, func() (_ any, err error) {
		// A panic here would take the whole server down: DoChan re-panics
		// in a goroutine of its own, out of reach of the recover plugin.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("internal lookup of %s: the next plugin panicked: %v", name, r)
			}
		}()
		e, err := make(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		if e.soa != nil {
			ttl = min(ttl, e.soa.Hdr.Ttl)
		}
		e.name, e.expires = key, now.Add(time.Duration(ttl)*time.Second)
		p.cache.Add(h, e)
		return e, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*probeEntry), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// lookupTypes asks for every type at name. Answers the backend synthesized
// from a wildcard do not count: they are not name's own data.
func (p *typeProber) lookupTypes(ctx context.Context, w dns.ResponseWriter, name string) (*probeEntry, error) {
	seen := map[uint16]bool{}
	for _, qt := range probeTypes {
		m, wc, err := p.ask(ctx, w, name, qt)
		if err != nil {
			return nil, err
		}
		if wc != "" {
			continue
		}
		for _, rr := range m.Answer {
			if equalNames(rr.Header().Name, name) {
				seen[rr.Header().Rrtype] = true
			}
		}
		if seen[dns.TypeCNAME] {
			break // nothing else can live beside a CNAME
		}
		if isReferral(m, name) {
			// A delegation point: the parent holds only NS and maybe DS.
			seen[dns.TypeNS] = true
			ds, _, err := p.ask(ctx, w, name, dns.TypeDS)
			if err != nil {
				return nil, err
			}
			for _, rr := range ds.Answer {
				if rr.Header().Rrtype == dns.TypeDS && equalNames(rr.Header().Name, name) {
					seen[dns.TypeDS] = true
				}
			}
			break
		}
	}
	e := &probeEntry{}
	for t := range seen {
		e.types = append(e.types, t)
	}
	sort.Slice(e.types, func(i, j int) bool { return e.types[i] < e.types[j] })
	return e, nil
}

// isReferral tells whether m is a referral to a zone cut at name.
func isReferral(m *dns.Msg, name string) bool {
	if len(m.Answer) != 0 || m.Authoritative {
		return false
	}
	for _, rr := range m.Ns {
		if rr.Header().Rrtype == dns.TypeNS && equalNames(rr.Header().Name, name) {
			return true
		}
	}
	return false
}
