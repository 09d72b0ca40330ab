package livesign

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/coredns/coredns/request"
	"github.com/livesign/livesign/timeline"
	"github.com/miekg/dns"
)

// answer turns one reply of the next plugin into a signed reply.
type answer struct {
	l        *Livesign
	ctx      context.Context
	w        dns.ResponseWriter
	state    request.Request
	zone     *Zone
	keys     *timeline.KeySet
	now      time.Time
	wildcard string // the wildcard the backend's top-level lookup says it expanded, if any
	co       bool   // the query has CO and livesign honours it: NXDOMAIN stays NXDOMAIN
	kind     kind   // what the backend's reply said, set by sign

	ttl    uint32   // of the NSECs; 0 until negativeTTL found it
	absent string   // the query name in lower case, when the top-level lookup itself proved it does not exist
	proofs []dns.RR // wildcard proofs for the authority section
}

// kind is what a reply of the next plugin says, for signing.
type kind int

const (
	positive  kind = iota // data (maybe after a CNAME chain)
	noData                // the chain's last name exists, the type not
	nameError             // the chain's last name does not exist
	referral              // a delegation below the zone
	other                 // an error rcode, or a chain that left the zone: passed on unsigned
)

// classify says what in is about and which name a denial is about: the end
// of the CNAME chain that starts at the query name. A query for type CNAME
// has no chain: the CNAME at the query name is its data (RFC 1034 §3.6.2).
func classify(in *dns.Msg, chain []string, qtype uint16, zone string) (kind, string) {
	target := chain[len(chain)-1]
	switch in.Rcode {
	case dns.RcodeNameError:
		if left(chain, zone) < len(chain) {
			return other, target // the rest of the chain is not the zone's to deny
		}
		return nameError, target
	case dns.RcodeSuccess:
	default:
		return other, target
	}
	for _, rr := range in.Answer {
		if h := rr.Header(); equalNames(h.Name, target) && (h.Rrtype == qtype || qtype == dns.TypeANY) {
			return positive, target
		}
	}
	if left(chain, zone) < len(chain) {
		return positive, target // the chain leaves the zone: the resolver goes on
	}
	if cut := referralCut(in); cut != "" && !equalNames(cut, zone) && inZone(cut, zone) {
		// A referral to a zone cut below the apex: asked directly for a name
		// at or below the cut, or reached by a CNAME chain whose end lies
		// there, in which case the answer holds the chain (RFC 1034 §4.3.2
		// step 3b). Either way the parent is not authoritative for the
		// chain's end and must not deny anything about it (RFC 4035 §2.3).
		if len(in.Answer) == 0 && isReferral(in, cut) || len(in.Answer) > 0 && inZone(target, strings.ToLower(cut)) {
			return referral, target
		}
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
	qname, qtype := a.state.Name(), a.state.QType()

	answer, ns, extra := strip(in.Answer), strip(in.Ns), strip(in.Extra)
	chain := cnameChain(qname, qtype, answer)
	k, target := classify(in, chain, qtype, a.zone.Name)
	if k == other {
		a.kind = k
		m.Answer, m.Ns, m.Extra = answer, ns, extra
		setOPT(a.state, m, a.co)
		return m, nil
	}
	a.learn(in, answer, ns)
	var err error
	if a.wildcard != "" && len(chain) == 1 {
		// The backend answered the query name from a wildcard. The file
		// plugin does so at an empty non-terminal too, against RFC 4592;
		// such a name gets the NODATA of the name it is.
		p, err := a.presence(qname)
		if err != nil {
			return nil, err
		}
		if p.is == present {
			answer, a.wildcard, k = nil, "", noData
		}
	}
	if k == noData && len(chain) > 1 {
		// A chain that ends in an in-zone name without data: the backend
		// resolved that name through the whole server, livesign included,
		// which turned its NXDOMAIN into the compact NOERROR when the query
		// has no CO. Ask the backend itself whether the name exists, so that
		// the chain's end gets the denial a direct query gets.
		p, err := a.presence(target)
		if err != nil {
			return nil, err
		}
		if p.is == absent {
			k = nameError
		}
	}
	if k == noData && equalNames(target, a.zone.Name) && keyRRs(a.keys, qtype) != nil {
		// A chain that ends at the apex, asked for DNSKEY, CDS or CDNSKEY:
		// the key set answers, as it does at the apex itself.
		answer = append(answer, keyRRs(a.keys, qtype)...)
		k = positive
	}
	a.kind = k

	if m.Answer, err = a.signAnswer(answer, chain); err != nil {
		return nil, err
	}
	switch {
	case k == positive:
		m.Ns, err = a.signAuthority(ns)
	case k == referral:
		m.Ns, err = a.signReferral(ns)
	case len(answer) == 0 && qtype == dns.TypeNSEC && len(chain) == 1:
		// The NSEC itself: data, not a denial.
		m.Rcode = dns.RcodeSuccess
		m.Answer, err = a.nsecAnswer(ns, target, k == nameError)
	case k == nameError:
		// ANY too: a name that does not exist has no RRset to answer with.
		// The rcode of a CNAME chain is that of its last name (RFC 6604 §2):
		// NXDOMAIN with CO, the compact NOERROR without (RFC 9824 §3.2).
		m.Ns, err = a.deny(ns, target, []uint16{TypeNXNAME})
		m.Rcode = dns.RcodeSuccess
		if a.co {
			m.Rcode = dns.RcodeNameError
		}
	case len(answer) == 0 && qtype == dns.TypeANY && len(chain) == 1:
		m.Answer, m.Ns, err = a.anyAnswer(ns, target)
	case k == noData:
		var types []uint16
		if types, err = a.denialTypes(target, ns); err == nil {
			m.Ns, err = a.deny(ns, target, types)
		}
	}
	if err != nil {
		return nil, err
	}
	m.Ns = append(m.Ns, a.proofs...)
	if err = a.signNSECs(m); err != nil {
		return nil, err
	}
	m.Extra = extra
	setOPT(a.state, m, a.co)
	return m, nil
}

// learn records what the top-level lookup proved by itself, so that the
// signing gate need not ask again: a query name answered NXDOMAIN without a
// chain does not exist.
func (a *answer) learn(in *dns.Msg, answer, ns []dns.RR) {
	if in.Rcode == dns.RcodeNameError && len(answer) == 0 {
		a.absent = strings.ToLower(a.state.Name())
	}
	if a.ttl == 0 {
		for _, rr := range ns {
			if soa, ok := rr.(*dns.SOA); ok && equalNames(soa.Hdr.Name, a.zone.Name) {
				a.ttl = max(min(soa.Hdr.Ttl, soa.Minttl), 1)
			}
		}
	}
}

// presence returns what name is in the zone: from what the top-level lookup
// proved, else from the backend.
func (a *answer) presence(name string) (presence, error) {
	if a.absent != "" && strings.ToLower(name) == a.absent {
		return presence{is: absent}, nil
	}
	ttl, err := a.negativeTTL()
	if err != nil {
		return presence{}, err
	}
	return a.l.prober.Presence(a.ctx, a.w, name, ttl)
}

// servedTypes returns the types livesign serves at name: what the backend
// holds there, plus the keys at the apex.
func (a *answer) servedTypes(name string) ([]uint16, error) {
	ttl, err := a.negativeTTL()
	if err != nil {
		return nil, err
	}
	types, err := a.l.prober.TypesAt(a.ctx, a.w, name, ttl)
	if err != nil {
		return nil, err
	}
	if equalNames(name, a.zone.Name) {
		types = append(slices.Clone(types), dns.TypeDNSKEY)
		if len(a.keys.CDS) > 0 {
			types = append(types, dns.TypeCDS)
		}
		if len(a.keys.CDNSKEY) > 0 {
			types = append(types, dns.TypeCDNSKEY)
		}
	}
	return types, nil
}

// denialTypes returns the bitmap of a NODATA NSEC at name: the types served
// there (for a name a wildcard synthesizes, the wildcard's), never the
// queried type.
func (a *answer) denialTypes(name string, ns []dns.RR) ([]uint16, error) {
	p, err := a.presence(name)
	if err != nil {
		return nil, err
	}
	probe := name
	if p.is == synthesized {
		probe = p.wildcard
	}
	types, err := a.servedTypes(probe)
	if err != nil {
		return nil, err
	}
	var out []uint16
	for _, t := range types {
		if t != a.state.QType() {
			out = append(out, t)
		}
	}
	return out, nil
}

// signAnswer signs the RRsets of the answer section that origins says are
// the zone's, and adds the wildcard proofs they need to a.proofs.
func (a *answer) signAnswer(rrs []dns.RR, chain []string) ([]dns.RR, error) {
	sets := rrsets(rrs)
	origins, err := a.origins(sets, chain)
	if err != nil {
		return nil, err
	}
	var out []dns.RR
	for i, set := range sets {
		out = append(out, set...)
		o := origins[i]
		if !o.sign {
			continue
		}
		sigs, err := a.rrsigs(set, o.wildcard)
		if err != nil {
			return nil, err
		}
		out = append(out, sigs...)
		if o.wildcard != "" {
			if err := a.addProof(set[0].Header().Name, o.wildcard); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// signAuthority signs the authority section of a positive answer: the
// zone's own SOA and NS at the apex. Anything else there is not the zone's
// to sign.
func (a *answer) signAuthority(rrs []dns.RR) ([]dns.RR, error) {
	var out []dns.RR
	for _, set := range rrsets(rrs) {
		out = append(out, set...)
		h := set[0].Header()
		if !equalNames(h.Name, a.zone.Name) || (h.Rrtype != dns.TypeNS && h.Rrtype != dns.TypeSOA) {
			continue
		}
		sigs, err := a.rrsigs(set, "")
		if err != nil {
			return nil, err
		}
		out = append(out, sigs...)
	}
	return out, nil
}

// addProof adds the NSEC proving that no closer match than wildcard exists
// for owner: it covers the next closer name, the ancestor of owner one
// label below the wildcard's parent (RFC 4035 §5.3.4). It is signed, after
// the gate, by signNSECs.
func (a *answer) addProof(owner, wildcard string) error {
	o, ok1 := parseName(owner)
	w, ok2 := parseName(wildcard)
	if !ok1 || !ok2 || len(o) < len(w) {
		return &untrue{nsec: "wildcard proof for " + owner, reason: "no next closer name below " + wildcard}
	}
	closer := o[len(o)-len(w):]
	ttl, err := a.negativeTTL()
	if err != nil {
		return err
	}
	var types []uint16
	if pred, ok := dnsLimits.predecessor(closer); ok && len(pred) < len(closer) {
		// closer is \000.parent: the parent, which exists, owns the NSEC.
		if types, err = a.servedTypes(pred.String()); err != nil {
			return err
		}
	}
	nsec, ok := coveringNSEC(closer, ttl, types)
	if !ok {
		return &untrue{nsec: "wildcard proof for " + owner, reason: "no name around " + closer.String()}
	}
	for _, rr := range a.proofs {
		if dns.IsDuplicate(rr, nsec) {
			return nil
		}
	}
	a.proofs = append(a.proofs, nsec)
	return nil
}

// signReferral signs a referral: the NS RRset stays unsigned, a DS RRset is
// signed, and without DS an NSEC at the cut proves the child is unsigned.
func (a *answer) signReferral(ns []dns.RR) ([]dns.RR, error) {
	cut := referralCut(&dns.Msg{Ns: ns})
	var out []dns.RR
	hasDS := false
	for _, set := range rrsets(ns) {
		out = append(out, set...)
		h := set[0].Header()
		if h.Rrtype != dns.TypeDS || !equalNames(h.Name, cut) || !inZone(cut, a.zone.Name) {
			continue
		}
		hasDS = true
		sigs, err := a.rrsigs(set, "")
		if err != nil {
			return nil, err
		}
		out = append(out, sigs...)
	}
	if hasDS || cut == "" || !inZone(cut, a.zone.Name) {
		return out, nil
	}
	types, err := a.servedTypes(cut)
	if err != nil {
		return nil, err
	}
	ttl, err := a.negativeTTL()
	if err != nil {
		return nil, err
	}
	return append(out, compactNSEC(cut, a.zone.Name, ttl, types)), nil
}

// deny builds the authority section of a compact negative answer: the
// zone's SOA and an NSEC at name whose bitmap lists types. Signatures are
// added by signNSECs.
func (a *answer) deny(ns []dns.RR, name string, types []uint16) ([]dns.RR, error) {
	out, err := a.signAuthority(ns)
	if err != nil {
		return nil, err
	}
	ttl, err := a.negativeTTL()
	if err != nil {
		return nil, err
	}
	return append(out, compactNSEC(name, a.zone.Name, ttl, types)), nil
}

// nsecAnswer answers a query for type NSEC with the compact NSEC at the
// name, checked by the gate and signed here.
func (a *answer) nsecAnswer(ns []dns.RR, name string, nx bool) ([]dns.RR, error) {
	types := []uint16{TypeNXNAME}
	if !nx {
		var err error
		if types, err = a.denialTypes(name, ns); err != nil {
			return nil, err
		}
	}
	ttl, err := a.negativeTTL()
	if err != nil {
		return nil, err
	}
	nsec := compactNSEC(name, a.zone.Name, ttl, types)
	if err := a.checkNSEC(nsec); err != nil {
		return nil, err
	}
	sigs, err := a.rrsigs([]dns.RR{nsec}, "")
	if err != nil {
		return nil, err
	}
	return append([]dns.RR{nsec}, sigs...), nil
}

// signNSECs signs the NSEC records livesign made for the authority
// section, each after the signing gate let it pass.
func (a *answer) signNSECs(m *dns.Msg) error {
	var out []dns.RR
	for _, rr := range m.Ns {
		out = append(out, rr)
		if nsec, ok := rr.(*dns.NSEC); ok {
			if err := a.checkNSEC(nsec); err != nil {
				return err
			}
			sigs, err := a.rrsigs([]dns.RR{nsec}, "")
			if err != nil {
				return err
			}
			out = append(out, sigs...)
		}
	}
	m.Ns = out
	return nil
}

// negativeTTL is the TTL of every NSEC livesign makes: min(SOA TTL, SOA
// minimum) (RFC 9077), from the SOA in the backend's reply or else the
// zone's own. It also bounds how long the prober keeps what it learns.
func (a *answer) negativeTTL() (uint32, error) {
	if a.ttl != 0 {
		return a.ttl, nil
	}
	soa, err := a.l.prober.SOA(a.ctx, a.w, a.zone.Name)
	if err != nil {
		return 0, err
	}
	a.ttl = max(min(soa.Hdr.Ttl, soa.Minttl), 1)
	return a.ttl, nil
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

// cnameChain returns the names of the CNAME chain in answer that starts at
// qname: qname, its CNAME's target, and so on, each name once. A query for
// type CNAME has no chain: the CNAME at the query name is its data (RFC 1034
// §3.6.2).
func cnameChain(qname string, qtype uint16, answer []dns.RR) []string {
	chain := []string{qname}
	if qtype == dns.TypeCNAME {
		return chain
	}
	for name := qname; ; {
		moved := false
		for _, rr := range answer {
			if c, ok := rr.(*dns.CNAME); ok && equalNames(c.Hdr.Name, name) {
				name, moved = c.Target, true
				break
			}
		}
		if !moved || slices.ContainsFunc(chain, func(s string) bool { return equalNames(s, name) }) {
			return chain
		}
		chain = append(chain, name)
	}
}

// left returns the index of the first name of chain outside zone, or
// len(chain).
func left(chain []string, zone string) int {
	for i, n := range chain {
		if !inZone(n, zone) {
			return i
		}
	}
	return len(chain)
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
			if s.Rrtype == h.Rrtype && s.Class == h.Class && equalNames(s.Name, h.Name) {
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

// rrsigs returns the RRSIGs over set by every ZSK of the key set: one, or
// during an algorithm roll one per algorithm (timeline.KeySet.ZSKs), which
// doubles the signing while the roll lasts. With wildcard set, the RRset is
// signed as that wildcard.
func (a *answer) rrsigs(set []dns.RR, wildcard string) ([]dns.RR, error) {
	out := make([]dns.RR, 0, len(a.keys.ZSKs))
	for _, zsk := range a.keys.ZSKs {
		sig, err := a.zone.signer.Sign(a.ctx, set, wildcard, a.zone.Name, zsk, a.now)
		if err != nil {
			return nil, err
		}
		out = append(out, sig)
	}
	return out, nil
}
