package livesign

import (
	"github.com/coredns/coredns/request"
	"github.com/miekg/dns"
)

// truncate makes m fit the client's UDP buffer the DNSSEC way: when it does
// not fit, every RRset goes and TC is set, so the client retries over TCP
// and never sees an RRset without its RRSIG. CoreDNS's own scrubbing, which
// runs after, then finds nothing to cut.
func truncate(state request.Request, m *dns.Msg) {
	if state.Proto() != "udp" {
		return
	}
	// The length without compression is the cheaper to count and never
	// less: most answers fit by it, without building a compression map.
	m.Compress = false
	fits := m.Len() <= state.Size()
	m.Compress = true
	if fits || m.Len() <= state.Size() {
		return
	}
	m.Truncated = true
	m.Answer, m.Ns = nil, nil
	var opt []dns.RR
	for _, rr := range m.Extra {
		if rr.Header().Rrtype == dns.TypeOPT {
			opt = append(opt, rr)
		}
	}
	m.Extra = opt
}
