package livesign

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// origin is where an RRset of the answer section comes from, and so whether
// and how livesign signs it.
type origin struct {
	sign     bool
	wildcard string // synthesized from this wildcard: signed as it, with a proof
}

// origins decides, for each RRset of the answer section, whether the ZSK
// signs it. Only RRsets of the query's chain inside the zone are the zone's:
// the query name's own (from the top-level lookup), each CNAME target's as
// long as the chain has not left the zone (checked against a direct lookup
// of the backend: the file plugin resolves targets through the whole server,
// and past an out-of-zone name whatever comes back is someone else's), and
// a DNAME above a chain name. A synthesized CNAME of a DNAME stays unsigned,
// as RFC 6672 §5.3 lets it. An RRset a wildcard synthesized is signed as the
// wildcard, after checking that the wildcard holds it; only the top-level
// lookup's metadata or a direct lookup of the owner says which wildcard.
func (a *answer) origins(sets [][]dns.RR, chain []string) ([]origin, error) {
	out := make([]origin, len(sets))
	inside := chain[:left(chain, a.zone.Name)]
	at := func(name string) int {
		return slices.IndexFunc(inside, func(s string) bool { return equalNames(s, name) })
	}
	for i, set := range sets {
		h := set[0].Header()
		switch {
		case h.Class != dns.ClassINET:
			continue
		case equalNames(h.Name, a.zone.Name) && isKeyType(h.Rrtype):
			continue // the key set's own, signed by the KSK
		case h.Rrtype == dns.TypeDNAME:
			above := slices.ContainsFunc(inside, func(n string) bool { return inZone(n, strings.ToLower(h.Name)) && !equalNames(n, h.Name) })
			if !above || !inZone(h.Name, a.zone.Name) {
				continue
			}
			wc, err := a.direct(set)
			if err != nil {
				return nil, err
			}
			out[i] = origin{sign: wc == ""}
			continue
		}
		idx := at(h.Name)
		switch {
		case idx < 0:
			continue // not on the chain inside the zone
		case h.Rrtype != dns.TypeCNAME && idx < len(chain)-1:
			continue // data beside a CNAME is not the zone's
		case h.Rrtype == dns.TypeCNAME && fromDNAME(set[0].(*dns.CNAME), sets):
			continue
		}
		wildcard := ""
		if idx == 0 && h.Rrtype != dns.TypeCNAME {
			// The top-level lookup's own answer: no other lookup ran while
			// it made it, so its metadata is about the query name alone.
			wildcard = a.wildcard
		} else {
			wc, err := a.direct(set)
			if err != nil {
				return nil, err
			}
			wildcard = wc
		}
		if wildcard != "" {
			if err := a.checkWildcard(set, wildcard); err != nil {
				return nil, err
			}
		}
		out[i] = origin{sign: true, wildcard: wildcard}
	}
	return out, nil
}

// direct checks set against the backend's direct answer for its owner and
// type, asked again when the cached one differs, and returns the wildcard
// it was synthesized from, if any.
func (a *answer) direct(set []dns.RR) (string, error) {
	h := set[0].Header()
	ttl, err := a.negativeTTL()
	if err != nil {
		return "", err
	}
	for _, fresh := range []bool{false, true} {
		rrs, wc, err := a.l.prober.RRset(a.ctx, a.w, h.Name, h.Rrtype, ttl, fresh)
		if err != nil {
			return "", err
		}
		if sameRRset(rrs, set) {
			return wc, nil
		}
	}
	return "", &untrue{nsec: fmt.Sprintf("%s %s", h.Name, dns.TypeToString[h.Rrtype]),
		reason: "the answer's RRset is not what the backend holds at that name: it came from outside the zone or the zone changed meanwhile"}
}

// checkWildcard checks that wildcard may have synthesized set: it is a
// wildcard of the zone above set's owner, and it holds set's records.
func (a *answer) checkWildcard(set []dns.RR, wildcard string) error {
	h := set[0].Header()
	refuse := func(reason string) error {
		return &untrue{nsec: fmt.Sprintf("%s %s as %s", h.Name, dns.TypeToString[h.Rrtype], wildcard), reason: reason}
	}
	w, ok1 := parseName(wildcard)
	o, ok2 := parseName(h.Name)
	z, _ := parseName(a.zone.Name)
	switch {
	case !ok1 || !ok2 || len(w) == 0 || w[0] != "*":
		return refuse("not a wildcard")
	case !w.isBelow(z) || !o.isBelow(w.parent()) || len(o) <= len(w.parent()) || compareNames(o, w) == 0:
		return refuse("the owner is not below the wildcard's parent in the zone")
	}
	ttl, err := a.negativeTTL()
	if err != nil {
		return err
	}
	for _, fresh := range []bool{false, true} {
		rrs, wc, err := a.l.prober.RRset(a.ctx, a.w, wildcard, h.Rrtype, ttl, fresh)
		if err != nil {
			return err
		}
		if wc == "" && sameRRset(rrs, set) {
			return nil
		}
	}
	return refuse("the wildcard does not hold these records")
}

// fromDNAME tells whether c is the CNAME a DNAME in sets synthesized.
func fromDNAME(c *dns.CNAME, sets [][]dns.RR) bool {
	for _, set := range sets {
		d, ok := set[0].(*dns.DNAME)
		if !ok || equalNames(d.Hdr.Name, c.Hdr.Name) || !dns.IsSubDomain(d.Hdr.Name, c.Hdr.Name) {
			continue
		}
		prefix := c.Hdr.Name[:len(c.Hdr.Name)-len(d.Hdr.Name)]
		if equalNames(c.Target, prefix+dns.Fqdn(d.Target)) {
			return true
		}
	}
	return false
}

// isKeyType tells whether t is served from the key set at the apex.
func isKeyType(t uint16) bool {
	return t == dns.TypeDNSKEY || t == dns.TypeCDS || t == dns.TypeCDNSKEY || t == dns.TypeRRSIG
}

// sameRRset tells whether a and b hold the same records, owner aside:
// type, class, TTL and RDATA, in any order.
func sameRRset(a, b []dns.RR) bool {
	ka, kb := rdataKeys(a), rdataKeys(b)
	return ka != nil && kb != nil && slices.EqualFunc(ka, kb, bytes.Equal)
}

// rdataKeys returns the records of rrs packed without owner, sorted and
// without duplicates, or nil when one does not pack.
func rdataKeys(rrs []dns.RR) [][]byte {
	keys := make([][]byte, 0, len(rrs))
	for _, rr := range rrs {
		c := dns.Copy(rr)
		c.Header().Name = "."
		buf := make([]byte, dns.Len(c)+1)
		off, err := dns.PackRR(c, buf, 0, nil, false)
		if err != nil {
			return nil
		}
		keys = append(keys, buf[:off])
	}
	slices.SortFunc(keys, bytes.Compare)
	return slices.CompactFunc(keys, bytes.Equal)
}
