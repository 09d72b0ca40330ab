package livesign

import (
	"context"

	"github.com/miekg/dns"
)

type handlerFunc func(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error)

func (f handlerFunc) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	return f(ctx, w, r)
}
func (f handlerFunc) Name() string { return "test" }
