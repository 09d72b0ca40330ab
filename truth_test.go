package livesign

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/livesign/livesign/timeline"
	"github.com/miekg/dns"
)

// zoneTruth is what a zone file holds, worked out from its records alone,
// not by the file plugin: the ground truth livesign's replies are checked
// against. It follows RFC 1034 §4.3.2 and RFC 4592: names below a zone cut
// or a DNAME are not the zone's; a name exists when it owns data or has a
// descendant that does; a wildcard synthesizes for a name that does not
// exist when it sits right below the name's closest encloser.
type zoneTruth struct {
	apex     dname
	names    map[string]*truthName // existing names, by dname.String()
	all      []dname               // existing names in canonical order
	occluder []dname               // zone cuts and DNAME owners
	cuts     []dname               // zone cuts
	keyTypes []uint16              // served at the apex from the key set
}

type truthName struct {
	sets map[uint16][]dns.RR
}

// newZoneTruth reads zone (zone-file text for origin). keyTypes are the
// types the key set serves at the apex (DNSKEY, maybe CDS and CDNSKEY).
func newZoneTruth(origin, zone string, keyTypes []uint16) (*zoneTruth, error) {
	apex, ok := parseName(origin)
	if !ok {
		return nil, fmt.Errorf("bad origin %q", origin)
	}
	var rrs []dns.RR
	zp := dns.NewZoneParser(strings.NewReader(zone), origin, "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, err
	}
	t := &zoneTruth{apex: apex, names: map[string]*truthName{}, keyTypes: keyTypes}
	for _, rr := range rrs {
		n, _ := parseName(rr.Header().Name)
		switch rr.Header().Rrtype {
		case dns.TypeNS:
			if compareNames(n, apex) != 0 {
				t.occluder = append(t.occluder, n)
				t.cuts = append(t.cuts, n)
			}
		case dns.TypeDNAME:
			t.occluder = append(t.occluder, n)
		}
	}
	for _, rr := range rrs {
		h := rr.Header()
		n, _ := parseName(h.Name)
		if !n.isBelow(apex) || t.occluded(n) {
			continue // glue, or out of zone
		}
		if t.isCut(n) && h.Rrtype != dns.TypeNS && h.Rrtype != dns.TypeDS {
			continue // glue at the cut itself
		}
		for a := n; a.isBelow(apex); a = a.parent() {
			if t.names[a.String()] == nil {
				t.names[a.String()] = &truthName{sets: map[uint16][]dns.RR{}}
				t.all = append(t.all, a)
			}
		}
		e := t.names[n.String()]
		e.sets[h.Rrtype] = append(e.sets[h.Rrtype], rr)
	}
	slices.SortFunc(t.all, compareNames)
	return t, nil
}

// occluded tells whether n lies strictly below a zone cut or DNAME owner.
func (t *zoneTruth) occluded(n dname) bool {
	for _, o := range t.occluder {
		if len(n) > len(o) && n.isBelow(o) {
			return true
		}
	}
	return false
}

func (t *zoneTruth) isCut(n dname) bool {
	return slices.ContainsFunc(t.cuts, func(c dname) bool { return compareNames(c, n) == 0 })
}

func (t *zoneTruth) exists(n dname) bool { return t.names[n.String()] != nil }

// types returns the types served at n: its RRsets, and the key set's at
// the apex.
func (t *zoneTruth) types(n dname) []uint16 {
	var out []uint16
	if e := t.names[n.String()]; e != nil {
		for typ := range e.sets {
			out = append(out, typ)
		}
	}
	if compareNames(n, t.apex) == 0 {
		out = append(out, t.keyTypes...)
	}
	return bitmap(out)
}

// synthesizer returns the wildcard that synthesizes answers for n, which
// does not exist, or nil.
func (t *zoneTruth) synthesizer(n dname) dname {
	if t.exists(n) || t.occluded(n) || !n.isBelow(t.apex) {
		return nil
	}
	ce := n.parent()
	for !t.exists(ce) {
		ce = ce.parent()
	}
	w := with("*", ce)
	if e := t.names[w.String()]; e != nil && len(e.sets) > 0 {
		return w
	}
	return nil
}

// between returns the existing names strictly between a and b in canonical
// order, or after a when b is the apex (the zone's last NSEC).
func (t *zoneTruth) between(a, b dname) []dname {
	i, found := slices.BinarySearchFunc(t.all, a, compareNames)
	if found {
		i++
	}
	j := len(t.all)
	if compareNames(b, t.apex) != 0 {
		j, _ = slices.BinarySearchFunc(t.all, b, compareNames)
	}
	if i >= j {
		return nil
	}
	return t.all[i:j]
}

// checkReply checks m, livesign's reply, against the truth: it packs and
// unpacks; every RRSIG verifies over its RRset with one of keys and is valid
// at now; every RRset the ZSK signed (labels says as which name) is held by
// the zone at that name exactly, or by the wildcard that synthesizes the
// owner; every signed NSEC is true. It returns what is wrong.
func (t *zoneTruth) checkReply(m *dns.Msg, keys []dns.RR, now time.Time) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	wire, err := m.Pack()
	if err != nil {
		return []string{fmt.Sprintf("reply does not pack: %v", err)}
	}
	back := new(dns.Msg)
	if err := back.Unpack(wire); err != nil {
		return []string{fmt.Sprintf("reply does not unpack: %v", err)}
	}
	for _, sec := range [][]dns.RR{back.Answer, back.Ns} {
		for _, rr := range sec {
			sig, ok := rr.(*dns.RRSIG)
			if !ok {
				continue
			}
			var set []dns.RR
			for _, x := range sec {
				if h := x.Header(); h.Rrtype == sig.TypeCovered && strings.EqualFold(h.Name, sig.Hdr.Name) {
					set = append(set, x)
				}
			}
			if len(set) == 0 {
				fail("RRSIG %s %s covers nothing in its section", sig.Hdr.Name, dns.TypeToString[sig.TypeCovered])
				continue
			}
			if err := verifyWith(sig, set, keys, now); err != nil {
				fail("RRSIG over %s %s: %v", sig.Hdr.Name, dns.TypeToString[sig.TypeCovered], err)
			}
			if isKeyType(sig.TypeCovered) {
				continue // the key set's, signed by the KSK
			}
			if nsec, ok := set[0].(*dns.NSEC); ok {
				for _, p := range t.checkNSEC(nsec) {
					fail("%s: %s", nsec, p)
				}
				continue
			}
			for _, p := range t.checkSigned(set, sig) {
				fail("%s %s: %s", sig.Hdr.Name, dns.TypeToString[sig.TypeCovered], p)
			}
		}
	}
	return bad
}

// verifyWith checks sig over set with the key of keys it names, and its
// validity at now.
func verifyWith(sig *dns.RRSIG, set []dns.RR, keys []dns.RR, now time.Time) error {
	for _, k := range keys {
		key, ok := k.(*dns.DNSKEY)
		if !ok || key.KeyTag() != sig.KeyTag || key.Algorithm != sig.Algorithm {
			continue
		}
		if err := sig.Verify(key, set); err != nil {
			return err
		}
		if !sig.ValidityPeriod(now) {
			return fmt.Errorf("not valid at %s", now)
		}
		return nil
	}
	return fmt.Errorf("no key with tag %d", sig.KeyTag)
}

// checkSigned checks a signed RRset against the zone.
func (t *zoneTruth) checkSigned(set []dns.RR, sig *dns.RRSIG) []string {
	owner, _ := parseName(set[0].Header().Name)
	labels := len(owner)
	if labels > 0 && owner[0] == "*" {
		labels--
	}
	typ := set[0].Header().Rrtype
	if int(sig.Labels) == labels {
		if !owner.isBelow(t.apex) || t.occluded(owner) || !t.exists(owner) {
			return []string{"signed as an existing name, but the zone has no such name"}
		}
		if !sameCanonical(t.names[owner.String()].sets[typ], set) {
			return []string{"signed, but the zone holds other records there"}
		}
		return nil
	}
	if int(sig.Labels) > labels {
		return []string{fmt.Sprintf("RRSIG labels %d > %d", sig.Labels, labels)}
	}
	w := with("*", owner[len(owner)-int(sig.Labels):])
	if got := t.synthesizer(owner); got == nil || compareNames(got, w) != 0 {
		return []string{fmt.Sprintf("signed as synthesized from %s, but the zone synthesizes it from %v", w, got)}
	}
	if !sameCanonical(t.names[w.String()].sets[typ], set) {
		return []string{fmt.Sprintf("signed as %s, which holds other records", w)}
	}
	return nil
}

// checkNSEC checks an NSEC against the zone (DESIGN.md §5.2).
func (t *zoneTruth) checkNSEC(n *dns.NSEC) []string {
	var bad []string
	owner, ok1 := parseName(n.Hdr.Name)
	next, ok2 := parseName(n.NextDomain)
	if !ok1 || !ok2 || !owner.isBelow(t.apex) || !next.isBelow(t.apex) {
		return []string{"owner or next name outside the zone"}
	}
	got := bitmap(n.TypeBitMap)
	switch w := t.synthesizer(owner); {
	case t.exists(owner):
		if want := bitmap(t.types(owner), dns.TypeNSEC, dns.TypeRRSIG); !slices.Equal(got, want) {
			bad = append(bad, fmt.Sprintf("owner exists with %v, bitmap %v", typeNames(want), typeNames(got)))
		}
	case t.occluded(owner):
		bad = append(bad, "owner is below a zone cut or DNAME")
	case w != nil:
		if !subset(got, dns.TypeNSEC, dns.TypeRRSIG) && !slices.Equal(got, bitmap(t.types(w), dns.TypeNSEC, dns.TypeRRSIG)) {
			bad = append(bad, fmt.Sprintf("owner is synthesized from %s, bitmap %v", w, typeNames(got)))
		}
	default:
		if !subset(got, dns.TypeNSEC, dns.TypeRRSIG, TypeNXNAME) {
			bad = append(bad, fmt.Sprintf("owner does not exist, bitmap %v", typeNames(got)))
		}
	}
	if compareNames(next, t.apex) != 0 && compareNames(owner, next) >= 0 {
		bad = append(bad, "next name does not follow the owner")
	}
	for _, x := range t.between(owner, next) {
		bad = append(bad, fmt.Sprintf("denies %s, which exists", x))
	}
	return bad
}

// keyTypesOf returns the types a key set serves at the apex.
func keyTypesOf(ks *timeline.KeySet) []uint16 {
	out := []uint16{dns.TypeDNSKEY}
	if len(ks.CDS) > 0 {
		out = append(out, dns.TypeCDS)
	}
	if len(ks.CDNSKEY) > 0 {
		out = append(out, dns.TypeCDNSKEY)
	}
	return out
}

// sigsIn counts the RRSIGs of a message.
func sigsIn(m *dns.Msg) int {
	n := 0
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			if _, ok := rr.(*dns.RRSIG); ok {
				n++
			}
		}
	}
	return n
}

// sameCanonical tells whether a and b are the same RRset in the canonical
// form signatures cover (RFC 4034 §6.2): domain names in RDATA compare
// without case.
func sameCanonical(a, b []dns.RR) bool {
	return sameRRset(canonicalRDATA(a), canonicalRDATA(b))
}

func canonicalRDATA(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		c := dns.Copy(rr)
		switch c := c.(type) {
		case *dns.CNAME:
			c.Target = strings.ToLower(c.Target)
		case *dns.DNAME:
			c.Target = strings.ToLower(c.Target)
		case *dns.NS:
			c.Ns = strings.ToLower(c.Ns)
		case *dns.MX:
			c.Mx = strings.ToLower(c.Mx)
		case *dns.SRV:
			c.Target = strings.ToLower(c.Target)
		case *dns.PTR:
			c.Ptr = strings.ToLower(c.Ptr)
		case *dns.SOA:
			c.Ns, c.Mbox = strings.ToLower(c.Ns), strings.ToLower(c.Mbox)
		}
		out[i] = c
	}
	return out
}
