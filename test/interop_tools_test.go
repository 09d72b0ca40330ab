package test

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
)

// TestEndToEndKresd runs TestEndToEndValidators' scenario with Knot Resolver as the validator:
// the same ceremonies and the same zone behind livesign, every e2eCases query through a kresd
// that forwards the zone to the server (policy.FORWARD, which validates) with the KSK's DS as its
// only trust anchor. Every answer must carry AD and the expected rcode, except ANY, which kresd
// refuses itself; with a wrong anchor the answer must be SERVFAIL without AD. kresd must query
// nothing but the server.
//
// On a failure the message holds kresd's answer, kresd's log lines for that request (the
// validator's reason, e.g. "bad NODATA proof") and the server's own answer to the same query
// with DO set (what `dig +dnssec @127.0.0.1 -p PORT NAME TYPE` shows).
func TestEndToEndKresd(t *testing.T) {
	for _, c := range ceremonies {
		t.Run(c.name, func(t *testing.T) {
			validators.KresdBin(t) // skip (or fail in CI) before any ceremony when kresd is missing
			kf := c.keys(t, c.zone)
			server := startServer(t, c.zone, kf)
			k := validators.StartKresd(t, c.zone+".", server, kf.anchor)
			for _, tc := range e2eCases(c.zone) {
				t.Run(strings.TrimSuffix(tc.name, ".")+"/"+dns.TypeToString[tc.qtype], func(t *testing.T) {
					m := k.Query(t, tc.name, tc.qtype)
					if tc.qtype == dns.TypeANY {
						// kresd 5.6 never resolves a meta-type query: an empty SERVFAIL after
						// "request failed", with no query to the server (checked with CoreDNS's
						// file plugin alone too). Only check that the server was not asked.
						if log := k.LogFor(m.Id); m.Rcode != dns.RcodeServerFailure || strings.Contains(log, "querying:") {
							t.Errorf("kresd %s ANY: rcode %s, want its own SERVFAIL without asking the server\n%s\n%s",
								tc.name, dns.RcodeToString[m.Rcode], m, log)
						}
						return
					}
					if m.Rcode != tc.rcode || !m.AuthenticatedData {
						t.Errorf("kresd %s %s: rcode %s AD=%v, want %s with AD\n%s\nkresd log for this request:\n%s\nserver %s answers (DO set):\n%s",
							tc.name, dns.TypeToString[tc.qtype], dns.RcodeToString[m.Rcode], m.AuthenticatedData,
							dns.RcodeToString[tc.rcode], m, k.LogFor(m.Id), server, direct(t, server, tc.name, tc.qtype))
					}
				})
			}
			want := strings.Replace(server, ":", "#", 1)
			for _, a := range k.Contacted() {
				if a != want {
					t.Errorf("kresd sent queries to %s; only the server %s may be asked", a, want)
				}
			}

			// A wrong trust anchor must make the answers fail.
			bad := validators.StartKresd(t, c.zone+".", server, wrongAnchor(t, kf.anchor))
			for _, name := range []string{"www." + c.zone + ".", "nope." + c.zone + "."} {
				if m := bad.Query(t, name, dns.TypeA); m.Rcode != dns.RcodeServerFailure || m.AuthenticatedData {
					t.Errorf("kresd with a wrong anchor, %s A: rcode %s AD=%v, want SERVFAIL without AD\n%s",
						name, dns.RcodeToString[m.Rcode], m.AuthenticatedData, m)
				}
			}
		})
	}
}
