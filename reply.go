package livesign

import (
	"context"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/metrics"
	"github.com/coredns/coredns/request"
	"github.com/miekg/dns"
)

// servFail answers SERVFAIL with an Extended DNS Error instead of an answer
// that a validator would find unsigned or expired. The reason goes to the
// log (at most once a minute per zone), not to the client.
func (l *Livesign) servFail(ctx context.Context, w dns.ResponseWriter, state request.Request, z *Zone, err error) (int, error) {
	z.logFailure(l.now(), "zone %s: %s %s: answering SERVFAIL: %v", z.Name, state.Name(), state.Type(), err)
	signingFailures.WithLabelValues(metrics.WithServer(ctx), z.Name).Inc()
	return l.refuse(w, state, dns.RcodeServerFailure, dns.ExtendedErrorCodeOther, "livesign: cannot sign this answer now; see the server log")
}

// shed drops a query whose answer needs a signature that livesign cannot
// afford now (every signer busy and Signer.Queue signings waiting): no
// reply over UDP, where the resolver asks another server or again later
// and a reply would cost the CPU the signers need; SERVFAIL with an
// Extended DNS Error over TCP, whose client would otherwise wait for the
// connection to time out. Answers from the caches are never shed.
func (l *Livesign) shed(ctx context.Context, w dns.ResponseWriter, state request.Request, z *Zone, err error) (int, error) {
	shedQueries.WithLabelValues(metrics.WithServer(ctx), z.Name).Inc()
	z.logFailure(l.now(), "zone %s: %s %s: dropped: %v; %s_livesign_shed_total counts these (a flood of new names?)", z.Name, state.Name(), state.Type(), err, plugin.Namespace)
	if state.Proto() == "tcp" {
		return l.refuse(w, state, dns.RcodeServerFailure, dns.ExtendedErrorCodeOther, "livesign: more answers to sign than the signers can; ask again later")
	}
	return dns.RcodeSuccess, nil
}

// refuseUntrue answers SERVFAIL, with an Extended DNS Error, when the signing
// gate refused to sign what the answer needed: no true proof could be built.
func (l *Livesign) refuseUntrue(ctx context.Context, w dns.ResponseWriter, state request.Request, z *Zone, lie *untrue) (int, error) {
	z.logFailure(l.now(), "zone %s: %s %s: answering SERVFAIL: %v", z.Name, state.Name(), state.Type(), lie)
	gateRefusals.WithLabelValues(metrics.WithServer(ctx), z.Name).Inc()
	return l.refuse(w, state, dns.RcodeServerFailure, dns.ExtendedErrorCodeOther, "livesign: no answer that is true of the zone can be signed for this query; see the server log")
}

// refuse answers with rcode and, when the query has EDNS and code is not
// zero or text is set, an Extended DNS Error. It returns RcodeSuccess: the
// reply is written, and for SERVFAIL, REFUSED, FORMERR and NOTIMP
// (plugin.ClientWrite) CoreDNS's server would write a second one.
func (l *Livesign) refuse(w dns.ResponseWriter, state request.Request, rcode int, code uint16, text string) (int, error) {
	m := new(dns.Msg)
	m.SetRcode(state.Req, rcode)
	if o := setOPT(state, m, l.co(state)); o != nil && (code != 0 || text != "") {
		o.Option = append(o.Option, &dns.EDNS0_EDE{InfoCode: code, ExtraText: text})
	}
	w.WriteMsg(m)
	return dns.RcodeSuccess, nil
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
