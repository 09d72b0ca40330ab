package livesign

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/nonwriter"
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
	wildcard string // the wildcard the backend says it expanded, if any
	expanded string // the owner that wildcard was expanded into (set by sign)
	co       bool   // the query has CO and livesign honours it: NXDOMAIN stays NXDOMAIN
	kind     kind   // what the backend's reply said, set by sign
}

// kind is what a reply of the next plugin says, for signing.
type kind int

const (
	positive  kind = iota // data (maybe after a CNAME chain)
	noData                // the chain's last name exists, the type not
	nameError             // the chain's last name does not exist
	referral              // a delegation below the zone
	other                 // an error rcode: passed on unsigned
)

// classify says what in is about and which name a denial is about: the end
// of the CNAME chain that starts at the query name. A query for type CNAME
// has no chain: the CNAME at the query name is its data (RFC 1034 §3.6.2).
func classify(in *dns.Msg, qname string, qtype uint16, zone string) (kind, string) {
	target := qname
	if qtype != dns.TypeCNAME {
		target = chainEnd(qname, in.Answer)
	}
	switch in.Rcode {
	case dns.RcodeNameError:
		return nameError, target
	case dns.RcodeSuccess:
	default:
		return other, target
	}
	for _, rr := range in.Answer {
		if h := rr.Header(); strings.EqualFold(h.Name, target) && (h.Rrtype == qtype || qtype == dns.TypeANY) {
			return positive, target
		}
	}
	if cut := referralCut(in); cut != "" && !strings.EqualFold(cut, zone) && inZone(cut, zone) {
		// A referral to a zone cut below the apex: asked directly for a name
		// at or below the cut, or reached by a CNAME chain whose end lies
		// there, in which case the answer holds the chain (RFC 1034 §4.3.2
		// step 3b). Either way the parent is not authoritative for the
		// chain's end and must not deny anything about it (RFC 4035 §2.3).
		if len(in.Answer) == 0 && isReferral(in, cut) || len(in.Answer) > 0 && inZone(target, strings.ToLower(cut)) {
			return referral, target
		}
	}
	if !inZone(target, zone) {
		return positive, target // the chain leaves the zone: the resolver goes on
	}
	return noData, target
}

// referralCut returns the owner of the first NS RRset in the authority section.
func referralCut(in *dns.Msg) string {
	for _, rr := range in.Ns {
		if rr.Header().Rrtype == dns.TypeNS {
			return rr.Header().Name
		}
	}
	return ""
}

// sign builds the signed reply to in. in belongs to the next plugin and is
// not modified: the reply gets new sections, and RRs are copied before any
// change.
func (a *answer) sign(in *dns.Msg) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.MsgHdr = in.MsgHdr
	m.Compress = true
	m.Question = in.Question
	qtype := a.state.QType()

	answer, ns, extra := strip(in.Answer), strip(in.Ns), strip(in.Extra)
	k, target := classify(in, a.state.Name(), qtype, a.zone.Name)
	if k == other {
		a.kind = k
		m.Answer, m.Ns, m.Extra = answer, ns, extra
		setOPT(a.state, m, a.co)
		return m, nil
	}
	if k == noData && len(answer) > 0 && !strings.EqualFold(target, a.state.Name()) {
		// A chain that ends in an in-zone name without data: the backend
		// resolved that name through the whole server, livesign included,
		// which turned its NXDOMAIN into the compact NOERROR when the query
		// has no CO. Ask the backend itself whether the name exists, so that
		// the chain's end gets the denial a direct query gets.
		exists, err := a.exists(target)
		if err != nil {
			return nil, err
		}
		if !exists {
			k = nameError
		}
	}
	a.kind = k
	a.expanded = a.expansion(answer, target)

	var err error
	if m.Answer, err = a.signRRsets(answer, true); err != nil {
		return nil, err
	}
	switch {
	case k == positive:
		m.Ns, err = a.signRRsets(ns, false)
	case k == referral:
		m.Ns, err = a.signReferral(ns)
	case len(answer) == 0 && qtype == dns.TypeNSEC && target == a.state.Name():
		// The NSEC itself: data, not a denial.
		m.Rcode = dns.RcodeSuccess
		m.Answer, err = a.synthesize(ns, target, k == nameError)
	case k == nameError:
		// ANY too: a name that does not exist has no RRset to answer with.
		// The rcode of a CNAME chain is that of its last name (RFC 6604 §2):
		// NXDOMAIN with CO, the compact NOERROR without (RFC 9824 §3.2).
		m.Ns, err = a.deny(ns, target, []uint16{TypeNXNAME})
		m.Rcode = dns.RcodeSuccess
		if a.co {
			m.Rcode = dns.RcodeNameError
		}
	case len(answer) == 0 && qtype == dns.TypeANY && target == a.state.Name():
		// RFC 8482's HINFO where the name owns RRsets; at an empty
		// non-terminal a HINFO would contradict the name's own NSEC, which
		// lists no type, so ANY gets that NSEC in a NODATA answer.
		var types []uint16
		if types, err = a.typesAt(target, ns); err == nil {
			if len(types) == 0 {
				m.Ns, err = a.deny(ns, target, nil)
			} else {
				m.Answer, err = a.hinfo(ns, target)
			}
		}
	case k == noData:
		var types []uint16
		if types, err = a.typesAt(target, ns); err == nil {
			m.Ns, err = a.deny(ns, target, types)
		}
	}
	if err != nil {
		return nil, err
	}
	proofs, err := a.wildcardProofs(answer, ns)
	if err != nil {
		return nil, err
	}
	m.Ns = append(m.Ns, proofs...)
	if err = a.signNSECs(m); err != nil {
		return nil, err
	}
	m.Extra = extra
	setOPT(a.state, m, a.co)
	return m, nil
}

// exists asks the next plugin, without DO, whether name exists: whether it
// answers NOERROR (data, NODATA, an empty non-terminal, a wildcard) rather
// than NXDOMAIN for the query's type at name.
func (a *answer) exists(name string) (bool, error) {
	r := new(dns.Msg)
	r.SetQuestion(dns.Fqdn(name), a.state.QType())
	nw := nonwriter.New(a.w)
	rcode, err := plugin.NextOrFailure(a.l.Name(), a.l.Next, a.ctx, nw, r)
	if nw.Msg == nil {
		return false, fmt.Errorf("existence lookup %s %s: no reply (rcode %s, %v)", name, dns.TypeToString[a.state.QType()], dns.RcodeToString[rcode], err)
	}
	switch nw.Msg.Rcode {
	case dns.RcodeSuccess:
		return true, nil
	case dns.RcodeNameError:
		return false, nil
	}
	return false, fmt.Errorf("existence lookup %s %s: rcode %s", name, dns.TypeToString[a.state.QType()], dns.RcodeToString[nw.Msg.Rcode])
}

// expansion returns the owner the backend synthesized from a.wildcard, in
// lower case, or "". The file plugin names the last wildcard it used; it
// applies to the first owner of the chain below the wildcard's parent (a
// later owner there is a real name the wildcard's CNAME points to), or to
// target when the wildcard gave no data of the queried type.
func (a *answer) expansion(answer []dns.RR, target string) string {
	if a.wildcard == "" {
		return ""
	}
	parent := a.wildcard[2:]
	owners := make([]string, 0, len(answer)+1)
	for _, rr := range answer {
		owners = append(owners, rr.Header().Name)
	}
	for _, owner := range append(owners, target) {
		if dns.IsSubDomain(parent, owner) && !strings.EqualFold(owner, parent) && !strings.EqualFold(owner, a.wildcard) {
			return strings.ToLower(owner)
		}
	}
	return ""
}

// expandedFrom returns the wildcard owner was synthesized from, or "".
func (a *answer) expandedFrom(owner string) string {
	if a.expanded == "" || !strings.EqualFold(a.expanded, owner) {
		return ""
	}
	return a.wildcard
}

// signRRsets signs the in-zone RRsets of a section, except NS RRsets below
// the apex (delegations, which the parent does not sign). In the answer
// section an RRset synthesized from a wildcard is signed as the wildcard.
func (a *answer) signRRsets(rrs []dns.RR, answerSection bool) ([]dns.RR, error) {
	var out []dns.RR
	for _, set := range rrsets(rrs) {
		out = append(out, set...)
		hdr := set[0].Header()
		if !inZone(hdr.Name, a.zone.Name) || (hdr.Rrtype == dns.TypeNS && !strings.EqualFold(hdr.Name, a.zone.Name)) {
			continue
		}
		wildcard := ""
		if answerSection {
			wildcard = a.expandedFrom(hdr.Name)
		}
		sig, err := a.zone.signer.Sign(a.ctx, set, wildcard, a.zone.Name, a.keys.ZSK, a.now)
		if err != nil {
			return nil, err
		}
		out = append(out, sig)
	}
	return out, nil
}

// wildcardProofs returns, for the answer owner synthesized from a
// wildcard, an NSEC proving that no closer match exists: it covers the next
// closer name, the ancestor of the owner one label below the wildcard's
// parent (RFC 4035 §5.3.4). It is signed later by signNSECs.
func (a *answer) wildcardProofs(answer, ns []dns.RR) ([]dns.RR, error) {
	owner, w := a.expanded, a.wildcard
	if owner == "" {
		return nil, nil
	}
	found := false
	for _, rr := range answer {
		found = found || strings.EqualFold(rr.Header().Name, owner)
	}
	if !found {
		return nil, nil
	}
	ttl, err := a.negativeTTL(ns)
	if err != nil {
		return nil, err
	}
	labels := dns.SplitDomainName(owner)
	closer := dns.Fqdn(strings.Join(labels[len(labels)-dns.CountLabel(w):], "."))
	return []dns.RR{coveringNSEC(closer, ttl)}, nil
}

// signReferral signs a referral: the NS RRset stays unsigned, a DS RRset is
// signed, and without DS an NSEC at the cut proves the child is unsigned.
func (a *answer) signReferral(ns []dns.RR) ([]dns.RR, error) {
	out, err := a.signRRsets(ns, false)
	if err != nil {
		return nil, err
	}
	cut := ""
	for _, rr := range ns {
		switch rr.Header().Rrtype {
		case dns.TypeDS:
			return out, nil
		case dns.TypeNS:
			cut = rr.Header().Name
		}
	}
	if cut == "" || !inZone(cut, a.zone.Name) {
		return out, nil
	}
	ttl, err := a.negativeTTL(ns)
	if err != nil {
		return nil, err
	}
	return append(out, compactNSEC(strings.ToLower(cut), ttl, []uint16{dns.TypeNS})), nil
}

// deny builds the authority section of a compact negative answer: the SOA
// and an NSEC at name whose bitmap lists types. Signatures are added by
// signNSECs.
func (a *answer) deny(ns []dns.RR, name string, types []uint16) ([]dns.RR, error) {
	out, err := a.signRRsets(ns, false)
	if err != nil {
		return nil, err
	}
	ttl, err := a.negativeTTL(ns)
	if err != nil {
		return nil, err
	}
	return append(out, compactNSEC(strings.ToLower(name), ttl, types)), nil
}

// synthesize answers a query for type NSEC with the compact NSEC at the
// name, signed here.
func (a *answer) synthesize(ns []dns.RR, name string, nx bool) ([]dns.RR, error) {
	ttl, err := a.negativeTTL(ns)
	if err != nil {
		return nil, err
	}
	name = strings.ToLower(name)
	types := []uint16{TypeNXNAME}
	if !nx {
		if types, err = a.typesAt(name, ns); err != nil {
			return nil, err
		}
	}
	nsec := compactNSEC(name, ttl, types)
	sig, err := a.zone.signer.Sign(a.ctx, []dns.RR{nsec}, "", a.zone.Name, a.keys.ZSK, a.now)
	if err != nil {
		return nil, err
	}
	return []dns.RR{nsec, sig}, nil
}

// hinfo answers a query for ANY at a name that owns RRsets with RFC 8482's
// single synthesized HINFO (§4.2), signed here. It is an answer to ANY, not
// an RRset of the zone: the NSEC at the name does not list HINFO, so that a
// query for HINFO gets a NODATA that validates; a validator checks the
// HINFO against its RRSIG alone.
func (a *answer) hinfo(ns []dns.RR, name string) ([]dns.RR, error) {
	ttl, err := a.negativeTTL(ns)
	if err != nil {
		return nil, err
	}
	hinfo := &dns.HINFO{Hdr: dns.RR_Header{Name: strings.ToLower(name), Rrtype: dns.TypeHINFO, Class: dns.ClassINET, Ttl: ttl}, Cpu: "RFC8482"}
	sig, err := a.zone.signer.Sign(a.ctx, []dns.RR{hinfo}, "", a.zone.Name, a.keys.ZSK, a.now)
	if err != nil {
		return nil, err
	}
	return []dns.RR{hinfo, sig}, nil
}

// typesAt returns the types at name for a NODATA bitmap: what the backend
// holds there (for a wildcard expansion, what the wildcard holds), plus the
// keys at the apex, never the queried type.
func (a *answer) typesAt(name string, ns []dns.RR) ([]uint16, error) {
	probe := name
	if w := a.expandedFrom(name); w != "" {
		probe = w
	}
	ttl, err := a.negativeTTL(ns)
	if err != nil {
		return nil, err
	}
	types, err := a.l.prober.TypesAt(a.ctx, a.w, probe, ttl)
	if err != nil {
		return nil, err
	}
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
	return out, nil
}

// signNSECs signs the NSEC records livesign made for the authority section.
func (a *answer) signNSECs(m *dns.Msg) error {
	var out []dns.RR
	for _, rr := range m.Ns {
		out = append(out, rr)
		if nsec, ok := rr.(*dns.NSEC); ok {
			sig, err := a.zone.signer.Sign(a.ctx, []dns.RR{nsec}, "", a.zone.Name, a.keys.ZSK, a.now)
			if err != nil {
				return err
			}
			out = append(out, sig)
		}
	}
	m.Ns = out
	return nil
}

// negativeTTL is the TTL of every NSEC livesign makes: min(SOA TTL, SOA
// minimum) (RFC 9077), from the SOA in ns or else the zone's own.
func (a *answer) negativeTTL(ns []dns.RR) (uint32, error) {
	for _, rr := range ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return min(soa.Hdr.Ttl, soa.Minttl), nil
		}
	}
	soa, err := a.l.prober.SOA(a.ctx, a.w, a.zone.Name)
	if err != nil {
		return 0, err
	}
	return min(soa.Hdr.Ttl, soa.Minttl), nil
}

// inZone tells whether name is zone or below it (zone is lower case and
// fully qualified), without the allocations of dns.IsSubDomain.
func inZone(name, zone string) bool {
	n, z := len(name), len(zone)
	switch {
	case n < z || !strings.EqualFold(name[n-z:], zone):
		return false
	case n == z || zone == ".":
		return true
	}
	// name[n-z-1] must be a label separator: a dot not escaped by a backslash.
	if name[n-z-1] != '.' {
		return false
	}
	bs := 0
	for i := n - z - 2; i >= 0 && name[i] == '\\'; i-- {
		bs++
	}
	return bs%2 == 0
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
	for _, rr := range rrs {
		h := rr.Header()
		i := len(sets) - 1
		for ; i >= 0; i-- {
			s := sets[i][0].Header()
			if s.Rrtype == h.Rrtype && s.Class == h.Class && strings.EqualFold(s.Name, h.Name) {
				break
			}
		}
		if i >= 0 {
			sets[i] = append(sets[i], rr)
			continue
		}
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
