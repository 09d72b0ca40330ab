package livesign

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/cache"
	"github.com/coredns/coredns/plugin/pkg/nonwriter"
	"github.com/miekg/dns"
	"golang.org/x/sync/singleflight"
)

// typeProber finds which RR types exist at a name by asking the next plugin,
// one query per type: no CoreDNS backend answers "which types are here?".
// Results are cached per name for at most the negative TTL, and concurrent
// lookups of one name collapse into one. A failed lookup is never cached:
// an incomplete bitmap would let aggressive NSEC caching deny real data.
type typeProber struct {
	l      *Livesign // asks l.Next
	cache  *cache.Cache[*typeEntry]
	flight singleflight.Group
	now    func() time.Time
}

type typeEntry struct {
	name    string
	types   []uint16
	soa     *dns.SOA // for the "SOA" lookups of an apex
	expires time.Time
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
	return &typeProber{l: l, cache: cache.New[*typeEntry](size), now: l.now}
}

// TypesAt returns the types that exist at name. ttl bounds how long the
// answer is cached.
func (p *typeProber) TypesAt(ctx context.Context, w dns.ResponseWriter, name string, ttl uint32) ([]uint16, error) {
	e, err := p.get(ctx, "types:", name, ttl, func(ctx context.Context) (*typeEntry, error) {
		return p.lookup(ctx, w, name)
	})
	if err != nil {
		return nil, err
	}
	return e.types, nil
}

// SOA returns the SOA record at the apex of zone, cached for its TTL (an
// hour at most).
func (p *typeProber) SOA(ctx context.Context, w dns.ResponseWriter, zone string) (*dns.SOA, error) {
	e, err := p.get(ctx, "soa:", zone, 3600, func(ctx context.Context) (*typeEntry, error) {
		m, err := p.ask(ctx, w, zone, dns.TypeSOA)
		if err != nil {
			return nil, err
		}
		for _, rr := range m.Answer {
			if soa, ok := rr.(*dns.SOA); ok {
				return &typeEntry{soa: soa}, nil
			}
		}
		return nil, fmt.Errorf("the backend has no SOA at %s", zone)
	})
	if err != nil {
		return nil, err
	}
	return e.soa, nil
}

// get returns the cached entry for prefix+name or makes it with make, once
// for all concurrent callers; the lookup runs detached from any one
// caller's context.
func (p *typeProber) get(ctx context.Context, prefix, name string, ttl uint32, make func(context.Context) (*typeEntry, error)) (*typeEntry, error) {
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
				err = fmt.Errorf("type lookup of %s: the next plugin panicked: %v", name, r)
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
		return res.Val.(*typeEntry), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ask sends one internal query to the next plugin and returns its reply,
// or an error when there is none or it is not NOERROR/NXDOMAIN.
func (p *typeProber) ask(ctx context.Context, w dns.ResponseWriter, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	nw := nonwriter.New(w)
	rcode, err := plugin.NextOrFailure("livesign", p.l.Next, ctx, nw, m)
	if nw.Msg == nil {
		return nil, fmt.Errorf("type lookup %s %s: no reply (rcode %s, %v)", name, dns.TypeToString[qtype], dns.RcodeToString[rcode], err)
	}
	if r := nw.Msg.Rcode; r != dns.RcodeSuccess && r != dns.RcodeNameError {
		return nil, fmt.Errorf("type lookup %s %s: rcode %s", name, dns.TypeToString[qtype], dns.RcodeToString[r])
	}
	return nw.Msg, nil
}

func (p *typeProber) lookup(ctx context.Context, w dns.ResponseWriter, name string) (*typeEntry, error) {
	seen := map[uint16]bool{}
	for _, qt := range probeTypes {
		m, err := p.ask(ctx, w, name, qt)
		if err != nil {
			return nil, err
		}
		for _, rr := range m.Answer {
			if strings.EqualFold(rr.Header().Name, name) {
				seen[rr.Header().Rrtype] = true
			}
		}
		if seen[dns.TypeCNAME] {
			break // nothing else can live beside a CNAME
		}
		if isReferral(m, name) {
			// A delegation point: the parent holds only NS and maybe DS.
			seen[dns.TypeNS] = true
			ds, err := p.ask(ctx, w, name, dns.TypeDS)
			if err != nil {
				return nil, err
			}
			for _, rr := range ds.Answer {
				if rr.Header().Rrtype == dns.TypeDS && strings.EqualFold(rr.Header().Name, name) {
					seen[dns.TypeDS] = true
				}
			}
			break
		}
	}
	e := &typeEntry{}
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
		if rr.Header().Rrtype == dns.TypeNS && strings.EqualFold(rr.Header().Name, name) {
			return true
		}
	}
	return false
}
