package livesign

import (
	"context"
	"errors"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/metadata"
	"github.com/coredns/coredns/plugin/metrics"
	"github.com/coredns/coredns/plugin/pkg/nonwriter"
	"github.com/coredns/coredns/request"
	"github.com/livesign/livesign/timeline"
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
	m, known := z.responses.get(rkey, ks, state, co, now)
	if m != nil {
		responseHits.WithLabelValues(metrics.WithServer(ctx), z.Name).Inc()
		truncate(state, m)
		w.WriteMsg(m)
		return dns.RcodeSuccess, nil
	}

	var rcode int
	var err error
	serve := func() { rcode, err = l.serveSigned(ctx, w, state, z, ks, now, co, rkey) }
	if ctx.Value(onWorker{}) != nil {
		serve() // a lookup of the backend's, come back in: its worker waits for it
		return rcode, err
	}
	if qerr := z.workers.run(serve, known); qerr != nil {
		return l.shed(ctx, w, state, z, qerr)
	}
	return rcode, err
}

// onWorker marks the context of a worker's backend lookup. A lookup that
// comes back into livesign from there (the file plugin resolving a CNAME
// target through the whole server) runs on that worker: queued, it would
// wait for the worker that waits for it.
type onWorker struct{}

// serveSigned asks the next plugin, signs its reply and writes it, keeping
// it in the response cache under rkey (if not empty).
func (l *Livesign) serveSigned(ctx context.Context, w dns.ResponseWriter, state request.Request, z *Zone, ks *timeline.KeySet, now time.Time, co bool, rkey string) (int, error) {
	bctx := context.WithValue(ownMetadata(ctx), onWorker{}, true)
	nw := nonwriter.New(w)
	rcode, err := plugin.NextOrFailure(l.Name(), l.Next, bctx, nw, state.Req)
	if nw.Msg == nil {
		return rcode, err
	}

	a := &answer{l: l, ctx: ctx, w: w, state: state, zone: z, keys: ks, now: now, wildcard: wildcardOf(bctx), co: co}
	m, err := a.sign(nw.Msg)
	var lie *untrue
	if errors.As(err, &lie) {
		return l.refuseUntrue(ctx, w, state, z, lie)
	}
	if errors.Is(err, errShed) {
		return l.shed(ctx, w, state, z, err)
	}
	if err != nil {
		return l.servFail(ctx, w, state, z, err)
	}
	z.responses.put(rkey, ks, m, a.kind == nameError, now, z.signer.WindowEnd(now))
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
func keyRRs(ks *timeline.KeySet, qtype uint16) []dns.RR {
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
func (l *Livesign) writeKeys(w dns.ResponseWriter, state request.Request, ks *timeline.KeySet) (int, error) {
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
