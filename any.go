package livesign

import (
	"fmt"

	"github.com/miekg/dns"
)

// anyAnswer answers ANY at name, which exists, with one of its RRsets
// (RFC 8482 §4.1), the one of the lowest type, signed: data the zone holds,
// never a synthesized record. At a name a wildcard synthesizes, that is the
// wildcard's RRset, signed as the wildcard with its proof. A name without
// data (an empty non-terminal) gets a NODATA whose NSEC lists no type.
func (a *answer) anyAnswer(ns []dns.RR, name string) (answer, authority []dns.RR, err error) {
	p, err := a.presence(name)
	if err != nil {
		return nil, nil, err
	}
	source := name
	if p.is == synthesized {
		source = p.wildcard
	}
	ttl, err := a.negativeTTL()
	if err != nil {
		return nil, nil, err
	}
	types, err := a.l.prober.TypesAt(a.ctx, a.w, source, ttl)
	if err != nil {
		return nil, nil, err
	}
	if len(types) == 0 {
		authority, err = a.deny(ns, name, nil)
		return nil, authority, err
	}
	rrs, _, err := a.l.prober.RRset(a.ctx, a.w, source, types[0], ttl, false)
	if err != nil {
		return nil, nil, err
	}
	if len(rrs) == 0 {
		return nil, nil, fmt.Errorf("ANY at %s: the backend lists type %s there but answers none", name, dns.TypeToString[types[0]])
	}
	wildcard := ""
	if p.is == synthesized {
		rrs, wildcard = withOwner(rrs, name), p.wildcard
		if err := a.addProof(name, wildcard); err != nil {
			return nil, nil, err
		}
	}
	sigs, err := a.rrsigs(rrs, wildcard)
	if err != nil {
		return nil, nil, err
	}
	return append(append([]dns.RR(nil), rrs...), sigs...), nil, nil
}
