package livesign

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/coredns/coredns/plugin/pkg/cache"
	"github.com/coredns/coredns/plugin/pkg/nonwriter"
	"github.com/miekg/dns"
	"golang.org/x/sync/singleflight"
)

// typeProber finds which RR types exist at a name by asking the next plugin,
// one query per type: no CoreDNS backend answers "which types are here?".
// Results are cached per name for at most the negative TTL, and concurrent
// lookups of one name collapse into one.
type typeProber struct {
	cache  *cache.Cache[*typeEntry]
	flight singleflight.Group
	now    func() time.Time
}

type typeEntry struct {
	name    string
	types   []uint16
	cut     bool // name is a delegation point
	expires time.Time
}

// probeTypes is every RR type a backend can hold: all types miekg/dns knows,
// minus meta types and the DNSSEC types livesign makes itself.
var probeTypes = func() []uint16 {
	skip := map[uint16]bool{
		dns.TypeNone: true, dns.TypeOPT: true, dns.TypeANY: true, dns.TypeAXFR: true, dns.TypeIXFR: true,
		dns.TypeMAILA: true, dns.TypeMAILB: true, dns.TypeTKEY: true, dns.TypeTSIG: true,
		dns.TypeRRSIG: true, dns.TypeNSEC: true, dns.TypeNSEC3: true, dns.TypeNSEC3PARAM: true,
		dns.TypeDNSKEY: true, dns.TypeCDS: true, dns.TypeCDNSKEY: true, TypeNXNAME: true,
		dns.TypeCNAME: true, dns.TypeNS: true, dns.TypeSOA: true, // probed first, see lookup
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

func newTypeProber(size int, now func() time.Time) *typeProber {
	return &typeProber{cache: cache.New[*typeEntry](size), now: now}
}

// TypesAt returns the types that exist at name, and whether name is a
// delegation point. ttl bounds how long the answer is cached.
func (p *typeProber) TypesAt(ctx context.Context, next func(context.Context, dns.ResponseWriter, *dns.Msg), w dns.ResponseWriter, name string, ttl uint32) ([]uint16, bool) {
	name = strings.ToLower(name)
	h := hashString(name)
	now := p.now()
	if e, ok := p.cache.Get(h); ok && e.name == name && now.Before(e.expires) {
		return e.types, e.cut
	}
	v, _, _ := p.flight.Do(name, func() (any, error) {
		e := p.lookup(ctx, next, w, name)
		e.expires = now.Add(time.Duration(ttl) * time.Second)
		p.cache.Add(h, e)
		return e, nil
	})
	e := v.(*typeEntry)
	return e.types, e.cut
}

func (p *typeProber) lookup(ctx context.Context, next func(context.Context, dns.ResponseWriter, *dns.Msg), w dns.ResponseWriter, name string) *typeEntry {
	e := &typeEntry{name: name}
	seen := map[uint16]bool{}
	for _, qt := range probeTypes {
		m := new(dns.Msg)
		m.SetQuestion(name, qt)
		nw := nonwriter.New(w)
		next(ctx, nw, m)
		if nw.Msg == nil {
			continue
		}
		for _, rr := range nw.Msg.Answer {
			if strings.EqualFold(rr.Header().Name, name) {
				seen[rr.Header().Rrtype] = true
			}
		}
		if len(nw.Msg.Answer) == 0 && !nw.Msg.Authoritative {
			for _, rr := range nw.Msg.Ns {
				if rr.Header().Rrtype == dns.TypeNS && strings.EqualFold(rr.Header().Name, name) {
					e.cut = true
				}
			}
		}
		if seen[dns.TypeCNAME] {
			break // nothing else can live beside a CNAME
		}
		if e.cut && qt != dns.TypeDS {
			// A delegation point: the parent only holds NS and maybe DS.
			seen[dns.TypeNS] = true
			m := new(dns.Msg)
			m.SetQuestion(name, dns.TypeDS)
			nw := nonwriter.New(w)
			next(ctx, nw, m)
			if nw.Msg != nil {
				for _, rr := range nw.Msg.Answer {
					if rr.Header().Rrtype == dns.TypeDS && strings.EqualFold(rr.Header().Name, name) {
						seen[dns.TypeDS] = true
					}
				}
			}
			break
		}
	}
	for t := range seen {
		e.types = append(e.types, t)
	}
	sort.Slice(e.types, func(i, j int) bool { return e.types[i] < e.types[j] })
	return e
}
