package livesign

import (
	"context"
	"strings"
	"time"

	"github.com/coredns/coredns/plugin/pkg/response"
	"github.com/coredns/coredns/request"
	"github.com/miekg/dns"
)

// answer turns one reply of the next plugin into a signed reply.
type answer struct {
	l        *Livesign
	ctx      context.Context
	w        dns.ResponseWriter
	state    request.Request
	zone     *Zone
	keys     *KeySet
	now      time.Time
	wildcard string // the wildcard the backend expanded, if it says so
}

// sign builds the signed reply to in. in belongs to the next plugin and is
// not modified: the reply gets new sections.
func (a *answer) sign(in *dns.Msg) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.MsgHdr = in.MsgHdr
	m.Compress = true
	m.Question = in.Question
	co := false
	if o := a.state.Req.IsEdns0(); o != nil {
		co = o.Co()
	}

	mt, _ := response.Typify(in, a.now)
	answer, ns, extra := strip(in.Answer), strip(in.Ns), strip(in.Extra)
	switch mt {
	case response.NoError, response.NameError, response.NoData, response.Delegation:
	default: // errors, meta queries: nothing to sign
		m.Answer, m.Ns, m.Extra = answer, ns, extra
		setOPT(a.state, m, false)
		return m, nil
	}

	var err error
	if m.Answer, err = a.signAnswer(answer); err != nil {
		return nil, err
	}
	target := chainEnd(a.state.Name(), answer)
	switch mt {
	case response.NoError:
		m.Ns, err = a.signSection(ns, false)
	case response.Delegation:
		m.Ns, err = a.signReferral(ns)
	case response.NameError:
		m.Ns, err = a.deny(ns, target, nil, true)
		if !co {
			m.Rcode = dns.RcodeSuccess
		}
	case response.NoData:
		m.Ns, err = a.deny(ns, target, a.typesAt(target, ns), false)
	}
	if err != nil {
		return nil, err
	}
	m.Ns = append(m.Ns, a.wildcardProofs(answer)...)
	if err = a.signLast(m); err != nil {
		return nil, err
	}
	m.Extra = extra
	setOPT(a.state, m, co)
	return m, nil
}

// signAnswer signs each in-zone RRset of the answer section. RRsets the
// backend synthesized from a wildcard are signed as the wildcard.
func (a *answer) signAnswer(rrs []dns.RR) ([]dns.RR, error) {
	var out []dns.RR
	for _, set := range rrsets(rrs) {
		out = append(out, set...)
		owner := set[0].Header().Name
		if !dns.IsSubDomain(a.zone.Name, owner) {
			continue
		}
		sig, err := a.l.signer.Sign(a.ctx, set, a.expandedFrom(owner), a.zone.Name, a.keys.ZSK, a.now)
		if err != nil {
			return nil, err
		}
		out = append(out, sig)
	}
	return out, nil
}

// expandedFrom returns the wildcard owner was synthesized from, or "".
func (a *answer) expandedFrom(owner string) string {
	if a.wildcard == "" || strings.EqualFold(owner, a.wildcard) {
		return ""
	}
	parent := a.wildcard[2:]
	if dns.IsSubDomain(parent, owner) && !strings.EqualFold(owner, parent) {
		return a.wildcard
	}
	return ""
}

// wildcardProofs returns, for each answer owner synthesized from a
// wildcard, an NSEC proving that no closer match exists: it covers the next
// closer name, the ancestor of the owner one label below the wildcard's
// parent (RFC 4035 §5.3.4). It is signed later by signLast.
func (a *answer) wildcardProofs(answer []dns.RR) []dns.RR {
	var out []dns.RR
	done := map[string]bool{}
	for _, set := range rrsets(answer) {
		owner := strings.ToLower(set[0].Header().Name)
		w := a.expandedFrom(owner)
		if w == "" {
			continue
		}
		labels := dns.SplitDomainName(owner)
		closer := dns.Fqdn(strings.Join(labels[len(labels)-dns.CountLabel(w):], "."))
		if done[closer] {
			continue
		}
		done[closer] = true
		out = append(out, coveringNSEC(closer, set[0].Header().Ttl))
	}
	return out
}

// signSection signs the in-zone RRsets of an authority section, except NS
// RRsets below the apex (delegations, which the parent does not sign).
func (a *answer) signSection(rrs []dns.RR, _ bool) ([]dns.RR, error) {
	var out []dns.RR
	for _, set := range rrsets(rrs) {
		out = append(out, set...)
		hdr := set[0].Header()
		if !dns.IsSubDomain(a.zone.Name, hdr.Name) || (hdr.Rrtype == dns.TypeNS && !strings.EqualFold(hdr.Name, a.zone.Name)) {
			continue
		}
		sig, err := a.l.signer.Sign(a.ctx, set, "", a.zone.Name, a.keys.ZSK, a.now)
		if err != nil {
			return nil, err
		}
		out = append(out, sig)
	}
	return out, nil
}

// signReferral signs a referral: the NS RRset stays unsigned, a DS RRset is
// signed, and without DS an NSEC at the cut proves the child is unsigned.
func (a *answer) signReferral(ns []dns.RR) ([]dns.RR, error) {
	out, err := a.signSection(ns, true)
	if err != nil {
		return nil, err
	}
	var cut string
	var ttl uint32
	for _, rr := range ns {
		switch rr.Header().Rrtype {
		case dns.TypeDS:
			return out, nil
		case dns.TypeNS:
			cut, ttl = rr.Header().Name, rr.Header().Ttl
		}
	}
	if cut == "" || !dns.IsSubDomain(a.zone.Name, cut) {
		return out, nil
	}
	return append(out, compactNSEC(strings.ToLower(cut), ttl, []uint16{dns.TypeNS})), nil
}

// deny builds the authority section of a compact negative answer: the SOA
// and an NSEC at name whose bitmap lists types (NXNAME when the name does
// not exist at all). Signatures are added by signLast.
func (a *answer) deny(ns []dns.RR, name string, types []uint16, nxname bool) ([]dns.RR, error) {
	out, err := a.signSection(ns, false)
	if err != nil {
		return nil, err
	}
	if nxname {
		types = []uint16{TypeNXNAME}
	}
	return append(out, compactNSEC(strings.ToLower(name), negativeTTL(ns), types)), nil
}

// typesAt returns the types at name for a NODATA bitmap: what the backend
// holds there (for a wildcard expansion, what the wildcard holds), plus the
// keys at the apex, never the queried type.
func (a *answer) typesAt(name string, ns []dns.RR) []uint16 {
	probe := name
	if w := a.expandedFrom(name); w != "" {
		probe = w
	}
	next := func(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) { a.l.Next.ServeDNS(ctx, w, r) }
	types, _ := a.l.prober.TypesAt(a.ctx, next, a.w, probe, negativeTTL(ns))
	var out []uint16
	for _, t := range types {
		if t != a.state.QType() {
			out = append(out, t)
		}
	}
	if strings.EqualFold(name, a.zone.Name) {
		out = append(out, dns.TypeDNSKEY)
		if len(a.keys.CDS) > 0 {
			out = append(out, dns.TypeCDS)
		}
		if len(a.keys.CDNSKEY) > 0 {
			out = append(out, dns.TypeCDNSKEY)
		}
	}
	return out
}

// signLast signs the NSEC records livesign made for the authority section.
func (a *answer) signLast(m *dns.Msg) error {
	var out []dns.RR
	for _, rr := range m.Ns {
		out = append(out, rr)
		if nsec, ok := rr.(*dns.NSEC); ok {
			sig, err := a.l.signer.Sign(a.ctx, []dns.RR{nsec}, "", a.zone.Name, a.keys.ZSK, a.now)
			if err != nil {
				return err
			}
			out = append(out, sig)
		}
	}
	m.Ns = out
	return nil
}

// negativeTTL is the TTL for denial records: min(SOA TTL, SOA minimum)
// (RFC 9077), or 300 s when the backend gave no SOA.
func negativeTTL(ns []dns.RR) uint32 {
	for _, rr := range ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return min(soa.Hdr.Ttl, soa.Minttl)
		}
	}
	return 300
}

// chainEnd follows the CNAME chain from qname through the answer and
// returns the name the final answer is about.
func chainEnd(qname string, answer []dns.RR) string {
	name := qname
	for range len(answer) {
		moved := false
		for _, rr := range answer {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, name) {
				name, moved = c.Target, true
				break
			}
		}
		if !moved {
			break
		}
	}
	return name
}

// rrsets groups rrs into RRsets (same owner, type, class), in order of
// first appearance.
func rrsets(rrs []dns.RR) [][]dns.RR {
	var sets [][]dns.RR
	index := map[string]int{}
	for _, rr := range rrs {
		h := rr.Header()
		k := strings.ToLower(h.Name) + "/" + dns.TypeToString[h.Rrtype] + "/" + dns.ClassToString[h.Class]
		if i, ok := index[k]; ok {
			sets[i] = append(sets[i], rr)
			continue
		}
		index[k] = len(sets)
		sets = append(sets, []dns.RR{rr})
	}
	return sets
}

// strip returns rrs without DNSSEC records and OPT: livesign makes its own.
func strip(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, 0, len(rrs))
	for _, rr := range rrs {
		switch rr.Header().Rrtype {
		case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeOPT:
			continue
		}
		out = append(out, rr)
	}
	return out
}

// setOPT gives m an OPT record echoing DO (and CO when co) if the query had
// EDNS, and returns it.
func setOPT(state request.Request, m *dns.Msg, co bool) *dns.OPT {
	q := state.Req.IsEdns0()
	if q == nil {
		return nil
	}
	o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	o.SetUDPSize(uint16(state.Size()))
	if q.Do() {
		o.SetDo()
	}
	if co {
		o.SetCo()
	}
	m.Extra = append(m.Extra, o)
	return o
}
