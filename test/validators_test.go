package test

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
)

func TestEndToEndValidators(t *testing.T) {
	for _, c := range ceremonies {
		t.Run(c.name, func(t *testing.T) {
			kf := c.keys(t, c.zone)
			server := startServer(t, c.zone, kf)
			u := validators.StartUnbound(t, c.zone+".", server, kf.anchor)
			for _, tc := range e2eCases(c.zone) {
				m := u.Query(t, tc.name, tc.qtype)
				if m.Rcode != tc.rcode || !m.AuthenticatedData {
					t.Errorf("unbound %s %s: rcode %s AD=%v, want %s with AD\n%s", tc.name, dns.TypeToString[tc.qtype],
						dns.RcodeToString[m.Rcode], m.AuthenticatedData, dns.RcodeToString[tc.rcode], m)
				}
				if ok, out := validators.Delv(t, server, c.zone+".", kf.anchor, tc.name, tc.qtype); !ok {
					t.Errorf("delv %s %s: not validated\n%s", tc.name, dns.TypeToString[tc.qtype], out)
				}
			}
			// A wrong trust anchor must make every answer fail.
			wrong := wrongAnchor(t, kf.anchor)
			bad := validators.StartUnbound(t, c.zone+".", server, wrong)
			if m := bad.Query(t, "www."+c.zone+".", dns.TypeA); m.Rcode != dns.RcodeServerFailure {
				t.Errorf("unbound with a wrong anchor: rcode %s, want SERVFAIL", dns.RcodeToString[m.Rcode])
			}
			if ok, out := validators.Delv(t, server, c.zone+".", wrong, "www."+c.zone+".", dns.TypeA); ok {
				t.Errorf("delv validated with a wrong anchor:\n%s", out)
			}
		})
	}
}
