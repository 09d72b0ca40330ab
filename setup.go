package livesign

import (
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/livesign/livesign/config"
)

func init() { plugin.Register("livesign", setup) }

func setup(c *caddy.Controller) error {
	cfgs, err := parse(c)
	if err != nil {
		return plugin.Error("livesign", err)
	}
	l, err := New(cfgs, time.Now)
	if err != nil {
		return plugin.Error("livesign", err)
	}
	server := dnsserver.GetConfig(c)
	stop := make(chan struct{})
	c.OnStartup(func() error {
		go l.watch(l.reloadEvery, stop)
		return nil
	})
	c.OnShutdown(func() error {
		close(stop)
		return nil
	})
	c.OnStartup(func() error {
		// cache keys its entries without the CO flag: behind it, a CO
		// answer (rcode NXDOMAIN) would reach clients that did not ask.
		if server.Handler("cache") != nil {
			l.compact.Store(false)
			log.Infof("the cache plugin is in this server block: answering NXDOMAIN the compact way (NOERROR) also to queries with the CO flag")
		}
		return nil
	})
	server.AddPlugin(func(next plugin.Handler) plugin.Handler {
		l.Next = next
		return l
	})
	return nil
}

// parse reads every livesign block of a server block (config.Parse).
func parse(c *caddy.Controller) ([]config.Config, error) {
	zones := plugin.OriginsFromArgsOrServerBlock(nil, c.ServerBlockKeys)
	return config.Parse(&c.Dispenser, zones, dnsserver.GetConfig(c).Root)
}
