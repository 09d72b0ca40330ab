package livesign

import (
	"fmt"
	"slices"

	"github.com/miekg/dns"
)

// maxGaps bounds the names an NSEC may deny besides its owner: a compact
// NSEC denies none, a minimally covering one (RFC 4470) one, the next
// closer name of a wildcard answer.
const maxGaps = 2

// untrue is the error of an NSEC the signing gate refuses.
type untrue struct {
	nsec   string
	reason string
}

func (e *untrue) Error() string {
	return fmt.Sprintf("refused to sign %s: %s", e.nsec, e.reason)
}

// checkNSEC is the signing gate. Every NSEC passes it before the ZSK signs
// it, and it holds only what the backend confirms (DESIGN.md §5.2):
//   - if the owner exists (data, empty non-terminal or delegation point),
//     the bitmap is exactly the owner's types; if it does not, the bitmap
//     claims no data (or, for a name a wildcard synthesizes, exactly the
//     wildcard's types), and NXNAME only where nothing matches at all;
//   - no existing name lies strictly between owner and next name.
//
// The gate derives what the NSEC denies from the owner and next name alone,
// not from how livesign built it: starting after the owner (after its first
// child if it exists), it walks the names in canonical order up to the next
// name, skipping the descendants of each name it finds absent, and asks the
// backend about each. An NSEC that would deny more than maxGaps names, or
// any existing one, is refused.
func (a *answer) checkNSEC(nsec *dns.NSEC) error {
	refuse := func(format string, args ...any) error {
		return &untrue{nsec: fmt.Sprintf("NSEC %s %s", nsec.Hdr.Name, nsec.NextDomain), reason: fmt.Sprintf(format, args...)}
	}
	apex, _ := parseName(a.zone.Name)
	owner, ok1 := parseName(nsec.Hdr.Name)
	next, ok2 := parseName(nsec.NextDomain)
	switch {
	case !ok1 || !ok2:
		return refuse("not a valid name")
	case !owner.isBelow(apex) || !next.isBelow(apex):
		return refuse("outside the zone")
	}
	wrap := compareNames(next, apex) == 0 // the last NSEC of the zone points back at the apex
	if !wrap && compareNames(owner, next) >= 0 {
		return refuse("next name does not follow the owner")
	}

	p, err := a.presence(nsec.Hdr.Name)
	if err != nil {
		return err
	}
	bits := nsec.TypeBitMap
	switch p.is {
	case present:
		types, err := a.servedTypes(nsec.Hdr.Name)
		if err != nil {
			return err
		}
		if want := bitmap(types, dns.TypeNSEC, dns.TypeRRSIG); !slices.Equal(bitmap(bits), want) {
			return refuse("the owner exists with types %v, the bitmap says %v", typeNames(want), typeNames(bits))
		}
	case absent:
		if !subset(bits, dns.TypeNSEC, dns.TypeRRSIG, TypeNXNAME) {
			return refuse("the owner does not exist, the bitmap says %v", typeNames(bits))
		}
	case synthesized:
		types, err := a.servedTypes(p.wildcard)
		if err != nil {
			return err
		}
		if !subset(bits, dns.TypeNSEC, dns.TypeRRSIG) && !slices.Equal(bitmap(bits), bitmap(types, dns.TypeNSEC, dns.TypeRRSIG)) {
			return refuse("the owner is synthesized from %s with types %v, the bitmap says %v", p.wildcard, typeNames(types), typeNames(bits))
		}
	default:
		return refuse("the owner is %s", p.is)
	}

	var gap dname
	ok := false
	if p.is == present {
		gap, ok = dnsLimits.firstChild(owner)
	}
	if !ok {
		gap, ok = dnsLimits.after(owner)
	}
	for n := 0; ok && gap.isBelow(apex) && (wrap || compareNames(gap, next) < 0); n++ {
		if n == maxGaps {
			return refuse("it would deny more than %d names, %s among them", maxGaps, gap)
		}
		g, err := a.presence(gap.String())
		if err != nil {
			return err
		}
		if g.is == present || g.is == occluded {
			return refuse("%s lies between owner and next name and is %s", gap, g.is)
		}
		gap, ok = dnsLimits.after(gap)
	}
	return nil
}

// subset tells whether every type of types is one of allowed.
func subset(types []uint16, allowed ...uint16) bool {
	for _, t := range types {
		if !slices.Contains(allowed, t) {
			return false
		}
	}
	return true
}

// typeNames writes types as mnemonics, for messages.
func typeNames(types []uint16) []string {
	out := make([]string, len(types))
	for i, t := range types {
		if t == TypeNXNAME {
			out[i] = "NXNAME"
			continue
		}
		out[i] = dns.Type(t).String()
	}
	return out
}
