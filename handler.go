package livesign

import (
	"context"
	"errors"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/metadata"
	"github.com/coredns/coredns/plugin/metrics"
	"github.com/coredns/coredns/plugin/pkg/nonwriter"
	"github.com/coredns/coredns/request"
	"github.com/miekg/dns"
)

// ServeDNS implements plugin.Handler. Queries outside the zones pass through.
// DNSKEY, CDS and CDNSKEY at the apex come from the bundle. Every other query
// with the DO bit goes to the next plugin and its answer is signed; without
// DO the answer passes through untouched.
func (l *Livesign) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	state := request.Request{W: w, Req: r}
	if r.Opcode != dns.OpcodeQuery || len(r.Question) != 1 || state.QClass() != dns.ClassINET {
		// NOTIFY, UPDATE and the like are not questions about the zone's
		// data, and the zone is of class IN: nothing to sign.
		return plugin.NextOrFailure(l.Name(), l.Next, ctx, w, r)
	}
	z := l.zone(state.Name())
	if z == nil {
		return plugin.NextOrFailure(l.Name(), l.Next, ctx, w, r)
	}
	switch state.QType() {
	case TypeNXNAME: // a meta type (RFC 9824 §3.3)
		return l.refuse(w, state, dns.RcodeFormatError, 0, "")
	case dns.TypeRRSIG:
		return l.refuse(w, state, dns.RcodeRefused, dns.ExtendedErrorCodeNotSupported, "livesign: RRSIG queries are not answered; ask for the type you want")
	case dns.TypeAXFR, dns.TypeIXFR:
		return plugin.NextOrFailure(l.Name(), l.Next, ctx, w, r) // zone transfers are the transfer plugin's
	}

	now := l.now()
	ks, kerr := z.Keys(now)
	if state.Name() == z.Name && keyRRs(ks, state.QType()) != nil {
		if kerr != nil {
			return l.servFail(ctx, w, state, z, kerr)
		}
		return l.writeKeys(w, state, ks)
	}
	if !state.Do() {
		return plugin.NextOrFailure(l.Name(), l.Next, ctx, w, r)
	}
	if kerr != nil {
		return l.servFail(ctx, w, state, z, kerr)
	}

	co := l.co(state)
	rkey := ""
	if z.responses != nil && cacheable(state) {
		rkey = respKey(state, co)
	}
	if m := z.responses.get(rkey, ks, state, co, now); m != nil {
		responseHits.WithLabelValues(metrics.WithServer(ctx), z.Name).Inc()
		truncate(state, m)
		w.WriteMsg(m)
		return dns.RcodeSuccess, nil
	}

	bctx := ownMetadata(ctx)
	nw := nonwriter.New(w)
	rcode, err := plugin.NextOrFailure(l.Name(), l.Next, bctx, nw, r)
	if nw.Msg == nil {
		return rcode, err
	}

	a := &answer{l: l, ctx: ctx, w: w, state: state, zone: z, keys: ks, now: now, wildcard: wildcardOf(bctx), co: co}
	m, err := a.sign(nw.Msg)
	var lie *untrue
	if errors.As(err, &lie) {
		return l.refuseUntrue(ctx, w, state, z, lie)
	}
	if err != nil {
		return l.servFail(ctx, w, state, z, err)
	}
	z.responses.put(rkey, ks, m, a.kind == nameError, now, alignedBase(now, z.signer.Refresh).Add(z.signer.Refresh))
	truncate(state, m)
	w.WriteMsg(m)
	return dns.RcodeSuccess, nil
}

// co tells whether the query asks for compact answers with the CO flag and
// livesign may give them.
func (l *Livesign) co(state request.Request) bool {
	o := state.Req.IsEdns0()
	return o != nil && o.Co() && l.compact.Load()
}

// keyRRs returns the apex RRset of type qtype that the key set serves
// itself (DNSKEY, and CDS/CDNSKEY when the bundle has them), or nil.
func keyRRs(ks *KeySet, qtype uint16) []dns.RR {
	if ks == nil {
		// Keys failed to load: still claim DNSKEY so the query fails loudly.
		if qtype == dns.TypeDNSKEY {
			return []dns.RR{}
		}
		return nil
	}
	switch qtype {
	case dns.TypeDNSKEY:
		return ks.DNSKEY
	case dns.TypeCDS:
		return ks.CDS
	case dns.TypeCDNSKEY:
		return ks.CDNSKEY
	}
	return nil
}

// writeKeys answers DNSKEY, CDS or CDNSKEY at the apex from the bundle, with
// the offline KSK's signatures when the query has DO.
func (l *Livesign) writeKeys(w dns.ResponseWriter, state request.Request, ks *KeySet) (int, error) {
	m := new(dns.Msg)
	m.SetReply(state.Req)
	m.Authoritative = true
	// Copies: the key set is shared, and a plugin in front may set TTLs.
	for _, rr := range keyRRs(ks, state.QType()) {
		m.Answer = append(m.Answer, dns.Copy(rr))
	}
	if state.Do() {
		sigs := map[uint16][]dns.RR{dns.TypeDNSKEY: ks.DNSKEYSigs, dns.TypeCDS: ks.CDSSigs, dns.TypeCDNSKEY: ks.CDNSKEYSig}[state.QType()]
		for _, rr := range sigs {
			m.Answer = append(m.Answer, dns.Copy(rr))
		}
	}
	setOPT(state, m, l.co(state))
	truncate(state, m)
	w.WriteMsg(m)
	return dns.RcodeSuccess, nil
}

// servFail answers SERVFAIL with an Extended DNS Error instead of an answer
// that a validator would find unsigned or expired. The reason goes to the
// log (at most once a minute per zone), not to the client.
func (l *Livesign) servFail(ctx context.Context, w dns.ResponseWriter, state request.Request, z *Zone, err error) (int, error) {
	z.logFailure(l.now(), "zone %s: %s %s: answering SERVFAIL: %v", z.Name, state.Name(), state.Type(), err)
	signingFailures.WithLabelValues(metrics.WithServer(ctx), z.Name).Inc()
	return l.refuse(w, state, dns.RcodeServerFailure, dns.ExtendedErrorCodeOther, "livesign: cannot sign this answer now; see the server log")
}

// ownMetadata returns ctx with a metadata map of its own for the backend's
// top-level lookup: the file plugin names the wildcard it expanded there,
// and what lookups elsewhere (a previous livesign, another zone) wrote must
// not pass for it. The values other plugins set before are kept.
func ownMetadata(ctx context.Context) context.Context {
	own := metadata.ContextWithMetadata(ctx)
	for label, f := range metadata.ValueFuncs(ctx) {
		if label != "zone/wildcard" {
			metadata.SetValueFunc(own, label, f)
		}
	}
	return own
}

// refuseUntrue answers SERVFAIL, with an Extended DNS Error, when the signing
// gate refused to sign what the answer needed: no true proof could be built.
func (l *Livesign) refuseUntrue(ctx context.Context, w dns.ResponseWriter, state request.Request, z *Zone, lie *untrue) (int, error) {
	z.logFailure(l.now(), "zone %s: %s %s: answering SERVFAIL: %v", z.Name, state.Name(), state.Type(), lie)
	gateRefusals.WithLabelValues(metrics.WithServer(ctx), z.Name).Inc()
	return l.refuse(w, state, dns.RcodeServerFailure, dns.ExtendedErrorCodeOther, "livesign: no answer that is true of the zone can be signed for this query; see the server log")
}

// refuse answers with rcode and, when the query has EDNS and code is not
// zero or text is set, an Extended DNS Error.
func (l *Livesign) refuse(w dns.ResponseWriter, state request.Request, rcode int, code uint16, text string) (int, error) {
	m := new(dns.Msg)
	m.SetRcode(state.Req, rcode)
	if o := setOPT(state, m, l.co(state)); o != nil && (code != 0 || text != "") {
		o.Option = append(o.Option, &dns.EDNS0_EDE{InfoCode: code, ExtraText: text})
	}
	w.WriteMsg(m)
	return rcode, nil
}
