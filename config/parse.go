package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/coredns/caddy/caddyfile"
	"github.com/miekg/dns"
)

// Parse reads every livesign block that d holds (d at the start of the
// first "livesign" token): blockZones are the server block's zones, fully
// qualified (the zone of a livesign line that names none), root is the
// root directive's directory (for relative paths). Errors name the file
// and line.
func Parse(d *caddyfile.Dispenser, blockZones []string, root string) ([]Config, error) {
	var cfgs []Config
	for d.Next() {
		zones := d.RemainingArgs()
		for i, z := range zones {
			zones[i] = dns.CanonicalName(z)
		}
		if len(zones) == 0 {
			zones = blockZones
		}
		if len(zones) != 1 {
			return nil, d.Errf("one zone per livesign block, got %d (%v): each zone has its own bundle", len(zones), zones)
		}
		if len(blockZones) > 0 && !slices.ContainsFunc(blockZones, func(b string) bool { return dns.IsSubDomain(b, zones[0]) }) {
			return nil, d.Errf("livesign zone %s is outside this server block's zones %v: CoreDNS never hands it a query; put it in the block's keys or in a block of its own", zones[0], blockZones)
		}
		cfg := Default(zones[0])
		seen := map[string]bool{}
		for d.NextBlock() {
			name := d.Val()
			if seen[name] {
				return nil, d.Errf("%s is given twice in the livesign block of %s: give it once", name, zones[0])
			}
			seen[name] = true
			if err := cfg.Set(name, d.RemainingArgs(), root); err != nil {
				return nil, d.Err(err.Error())
			}
		}
		if err := cfg.check(); err != nil {
			return nil, d.Err(err.Error())
		}
		cfgs = append(cfgs, cfg)
	}
	if err := checkNesting(cfgs, blockZones); err != nil {
		return nil, d.Err(err.Error())
	}
	return cfgs, nil
}

// checkNesting refuses a zone of the server block below a livesign zone.
// CoreDNS hands each query, DS included, to one server block: the child's DS
// would be answered by the child, and an unsigned child signed with the
// parent's ZSK.
func checkNesting(cfgs []Config, blockZones []string) error {
	zones := slices.Clone(blockZones)
	for _, cfg := range cfgs {
		zones = append(zones, cfg.Zone)
	}
	for _, cfg := range cfgs {
		for _, z := range zones {
			if z != cfg.Zone && dns.IsSubDomain(cfg.Zone, z) {
				return fmt.Errorf("zone %s is served in the same server block as livesign zone %s, above it: give %s a server block of its own (as a delegated child it needs its DS from %s's block)",
					z, cfg.Zone, z, cfg.Zone)
			}
		}
	}
	return nil
}

// blockZone returns the zone of a server block key such as
// "example.net:53", "dns://example.net." or ".": the name, fully
// qualified, lower case.
func blockZone(key string) string {
	if i := strings.Index(key, "://"); i >= 0 {
		key = key[i+3:]
	}
	if i := strings.LastIndex(key, ":"); i >= 0 && !strings.Contains(key[i:], "]") {
		key = key[:i]
	}
	if key == "" {
		key = "."
	}
	return dns.CanonicalName(key)
}
