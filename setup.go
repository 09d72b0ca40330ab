package livesign

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
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
	config := dnsserver.GetConfig(c)
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
		if config.Handler("cache") != nil {
			l.compact.Store(false)
			log.Infof("the cache plugin is in this server block: answering NXDOMAIN the compact way (NOERROR) also to queries with the CO flag")
		}
		return nil
	})
	config.AddPlugin(func(next plugin.Handler) plugin.Handler {
		l.Next = next
		return l
	})
	return nil
}

// Config is one livesign block of a Corefile.
type Config struct {
	Zone        string
	Keys        string // directory of ZSK key files
	Bundle      string // offline-signed DNSKEY bundle
	KSK         string // or: directory of an online KSK that signs the DNSKEY RRset itself
	TrustAnchor string // DS or DNSKEY of the KSK; empty: trust the bundle's KSK

	SignatureValidity time.Duration
	SignatureRefresh  time.Duration
	MaxZoneTTL        time.Duration
	DNSKEYTTL         time.Duration // a new ZSK signs once its DNSKEY was served this long ...
	PropagationDelay  time.Duration // ... plus this
	ZSKLifetime       time.Duration // auto-plan: how long each ZSK signs
	PublishSafety     time.Duration // auto-plan: extra time a successor is published before it signs
	RetireSafety      time.Duration // extra time a retired ZSK stays published
	AutoPlan          time.Duration // keep ZSKs planned this far ahead (0: never write anything)
	AutoPlanKSR       string        // and write the KSR for them here when the bundle falls short
	KSRFormat         string        // bind or knot
	Algorithm         uint8         // of generated ZSKs; 0: the KSK's, else the existing ZSKs', else ECDSAP256SHA256 (zskAlgorithm)
	Reload            time.Duration // how often the files are checked for changes
	WarnCoverage      time.Duration // warn when the bundle covers less than this
	CacheSize         int           // signatures kept in the cache
	ResponseCache     int           // whole signed answers kept (0: none)
	MaxSigners        int           // signings running at once
}

// DefaultConfig returns a Config with the default durations and sizes.
func DefaultConfig(zone string) Config {
	return Config{
		Zone:              zone,
		SignatureValidity: 7 * 24 * time.Hour,
		SignatureRefresh:  24 * time.Hour,
		MaxZoneTTL:        24 * time.Hour,
		DNSKEYTTL:         DefaultDNSKEYTTL,
		PropagationDelay:  DefaultPropagationDelay,
		ZSKLifetime:       30 * 24 * time.Hour,
		PublishSafety:     time.Hour,
		RetireSafety:      DefaultRetireSafety,
		Algorithm:         0, // zskAlgorithm: the KSK's, else the existing ZSKs', else ECDSAP256SHA256
		KSRFormat:         "bind",
		Reload:            30 * time.Second,
		WarnCoverage:      14 * 24 * time.Hour,
		CacheSize:         100000,
		ResponseCache:     10000,
		MaxSigners:        runtime.GOMAXPROCS(0),
	}
}

// parse reads every livesign block of a server block.
func parse(c *caddy.Controller) ([]Config, error) {
	var cfgs []Config
	for c.Next() {
		zones := plugin.OriginsFromArgsOrServerBlock(c.RemainingArgs(), c.ServerBlockKeys)
		if len(zones) != 1 {
			return nil, c.Errf("one zone per livesign block, got %d (%v): each zone has its own bundle", len(zones), zones)
		}
		cfg := DefaultConfig(zones[0])
		for c.NextBlock() {
			if err := parseDirective(c, &cfg); err != nil {
				return nil, err
			}
		}
		if cfg.Keys == "" {
			return nil, c.Errf("zone %s: missing 'keys DIR' (the directory with the ZSK key files)", cfg.Zone)
		}
		if (cfg.Bundle == "") == (cfg.KSK == "") {
			return nil, c.Errf("zone %s: want exactly one of 'bundle FILE' (the DNSKEY RRset signed by the offline KSK) and 'ksk DIR' (an online KSK)", cfg.Zone)
		}
		if cfg.AutoPlan > 0 && cfg.AutoPlanKSR == "" && cfg.KSK == "" {
			return nil, c.Errf("zone %s: auto-plan with a bundle needs the KSR file to write: auto-plan %s FILE", cfg.Zone, cfg.AutoPlan)
		}
		if cfg.AutoPlan > 0 {
			if err := cfg.Policy().Validate(); err != nil {
				return nil, c.Errf("zone %s: %v", cfg.Zone, err)
			}
		}
		if cfg.SignatureValidity <= cfg.SignatureRefresh+cfg.MaxZoneTTL {
			return nil, c.Errf("zone %s: signature-validity %s must exceed signature-refresh %s + max-zone-ttl %s, or cached answers outlive their signatures",
				cfg.Zone, cfg.SignatureValidity, cfg.SignatureRefresh, cfg.MaxZoneTTL)
		}
		cfgs = append(cfgs, cfg)
	}
	if err := checkNesting(cfgs, plugin.OriginsFromArgsOrServerBlock(nil, c.ServerBlockKeys)); err != nil {
		return nil, c.Err(err.Error())
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

func parseDirective(c *caddy.Controller, cfg *Config) error {
	dir := c.Val()
	switch dir {
	case "keys", "bundle", "ksk", "trust-anchor", "signature-validity", "signature-refresh", "max-zone-ttl",
		"dnskey-ttl", "propagation-delay", "reload", "warn-coverage", "cache", "max-signers",
		"zsk-lifetime", "publish-safety", "retire-safety", "auto-plan", "algorithm", "response-cache":
	default:
		return c.Errf("unknown property %q", dir)
	}
	args := c.RemainingArgs()
	if dir == "auto-plan" {
		return parseAutoPlan(c, cfg, args)
	}
	if len(args) != 1 {
		return c.Errf("%s needs exactly one argument", dir)
	}
	arg := args[0]
	switch dir {
	case "keys", "bundle", "ksk", "trust-anchor":
		path := arg
		if !filepath.IsAbs(path) {
			path = filepath.Join(dnsserver.GetConfig(c).Root, path)
		}
		*map[string]*string{"keys": &cfg.Keys, "bundle": &cfg.Bundle, "ksk": &cfg.KSK, "trust-anchor": &cfg.TrustAnchor}[dir] = path
	case "algorithm":
		alg, err := keystore.ParseAlgorithm(arg)
		if err != nil {
			return c.Errf("algorithm %q: %v", arg, err)
		}
		cfg.Algorithm = alg
	case "signature-validity", "signature-refresh", "max-zone-ttl", "dnskey-ttl", "propagation-delay", "reload", "warn-coverage",
		"zsk-lifetime", "publish-safety", "retire-safety":
		d, err := keystore.ParseDuration(arg)
		if err != nil || d <= 0 {
			return c.Errf("%s %q: want a positive duration such as 90m, 12h, 7d or 2w", dir, arg)
		}
		*map[string]*time.Duration{
			"signature-validity": &cfg.SignatureValidity,
			"signature-refresh":  &cfg.SignatureRefresh,
			"max-zone-ttl":       &cfg.MaxZoneTTL,
			"dnskey-ttl":         &cfg.DNSKEYTTL,
			"propagation-delay":  &cfg.PropagationDelay,
			"reload":             &cfg.Reload,
			"warn-coverage":      &cfg.WarnCoverage,
			"zsk-lifetime":       &cfg.ZSKLifetime,
			"publish-safety":     &cfg.PublishSafety,
			"retire-safety":      &cfg.RetireSafety,
		}[dir] = d
	case "cache", "max-signers", "response-cache":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 && dir != "response-cache" || n < 0 {
			return c.Errf("%s %q: want a positive integer", dir, arg)
		}
		*map[string]*int{"cache": &cfg.CacheSize, "max-signers": &cfg.MaxSigners, "response-cache": &cfg.ResponseCache}[dir] = n
	}
	return nil
}

// parseAutoPlan reads "auto-plan HORIZON [KSRFILE [bind|knot]]".
func parseAutoPlan(c *caddy.Controller, cfg *Config, args []string) error {
	if len(args) < 1 || len(args) > 3 {
		return c.Errf("auto-plan HORIZON [KSRFILE [bind|knot]]: got %d arguments", len(args))
	}
	d, err := keystore.ParseDuration(args[0])
	if err != nil || d <= 0 {
		return c.Errf("auto-plan %q: want a positive duration such as 180d", args[0])
	}
	cfg.AutoPlan = d
	if len(args) > 1 {
		cfg.AutoPlanKSR = args[1]
		if !filepath.IsAbs(cfg.AutoPlanKSR) {
			cfg.AutoPlanKSR = filepath.Join(dnsserver.GetConfig(c).Root, cfg.AutoPlanKSR)
		}
	}
	if len(args) > 2 {
		if _, err := keystore.ParseLayout(args[2]); err != nil {
			return c.Errf("auto-plan: %v", err)
		}
		cfg.KSRFormat = args[2]
	}
	return nil
}

// Policy returns the rollover timing of cfg.
func (cfg Config) Policy() keystore.Policy {
	return keystore.Policy{
		ZSKLifetime:       cfg.ZSKLifetime,
		DNSKEYTTL:         cfg.DNSKEYTTL,
		MaxZoneTTL:        cfg.MaxZoneTTL,
		PropagationDelay:  cfg.PropagationDelay,
		PublishSafety:     cfg.PublishSafety,
		RetireSafety:      cfg.RetireSafety,
		SignatureValidity: cfg.SignatureValidity,
		SignatureRefresh:  cfg.SignatureRefresh,
	}
}

// New loads the keys, bundles and trust anchors of cfgs and checks that each
// zone has a valid key set at now(): a bad input stops CoreDNS here.
func New(cfgs []Config, now func() time.Time) (*Livesign, error) {
	l := &Livesign{now: now}
	l.prober = newTypeProber(l, 10000)
	l.compact.Store(true)
	for _, cfg := range cfgs {
		// Auto-plan runs before the keys are loaded: with an online KSK the
		// keys directory may start empty.
		var sched *keystore.Schedule
		var applied []keystore.Applied
		if cfg.AutoPlan > 0 {
			var err error
			if sched, applied, err = autoPlanKeys(cfg, now()); err != nil && err != errReadOnly {
				return nil, err
			}
		}
		tl, err := loadTimeline(cfg)
		if err != nil {
			return nil, err
		}
		if err := tl.Check(now()); err != nil {
			return nil, fmt.Errorf("zone %s: %w", cfg.Zone, err)
		}
		for _, n := range tl.Notes(now()) {
			log.Warningf("zone %s: %s", cfg.Zone, n)
		}
		z := &Zone{Name: cfg.Zone, Timeline: tl, cfg: cfg, signer: NewSigner(cfg.SignatureValidity, cfg.SignatureRefresh, cfg.CacheSize, cfg.MaxSigners),
			responses: newRespCache(cfg.ResponseCache, time.Minute)}
		if _, err := z.Keys(now()); err != nil {
			return nil, err
		}
		z.lastSeen, _ = fingerprint(cfg)
		if sched != nil {
			if err := z.writeKSR(now(), sched, applied); err != nil {
				log.Errorf("zone %s: auto-plan: %v", z.Name, err) // the background loop tries again
			} else {
				z.nextPlan = now().Add(time.Hour)
			}
		}
		z.coverage(now())
		l.zones = append(l.zones, z)
		l.names = append(l.names, z.Name)
		if l.reloadEvery == 0 || cfg.Reload < l.reloadEvery {
			l.reloadEvery = cfg.Reload
		}
	}
	return l, nil
}

// loadTimeline reads the files named by cfg.
func loadTimeline(cfg Config) (*Timeline, error) {
	keys, err := keystore.ReadKeyDir(cfg.Keys, cfg.Zone)
	if err != nil {
		return nil, inputError(cfg.Zone, "keys", cfg.Keys, "give the directory with the ZSK key files ('livesign keygen -zone "+cfg.Zone+" -zsk -dir DIR' makes one)", err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("zone %s: no key files K%s+*.key in %s: create a ZSK with 'livesign keygen -zone %s -zsk -dir %s'", cfg.Zone, cfg.Zone, cfg.Keys, cfg.Zone, cfg.Keys)
	}
	tl := &Timeline{Zone: cfg.Zone, ZSKs: keys, DNSKEYTTL: cfg.DNSKEYTTL, PropagationDelay: cfg.PropagationDelay, MaxZoneTTL: cfg.MaxZoneTTL, RetireSafety: cfg.RetireSafety,
		Validity: cfg.SignatureValidity, Refresh: cfg.SignatureRefresh}
	if cfg.KSK != "" {
		all, err := keystore.ReadKeyDir(cfg.KSK, cfg.Zone)
		if err != nil {
			return nil, inputError(cfg.Zone, "ksk", cfg.KSK, "give the directory with the online KSK's key files ('livesign keygen -ksk' makes one)", err)
		}
		for _, k := range all {
			if k.IsKSK() {
				tl.KSKs = append(tl.KSKs, k)
			}
		}
		if len(tl.KSKs) == 0 {
			return nil, fmt.Errorf("zone %s: no KSK (flags 257) in %s: create one with 'livesign keygen -zone %s -ksk -dir %s'", cfg.Zone, cfg.KSK, cfg.Zone, cfg.KSK)
		}
	} else if tl.Bundle, err = keystore.ReadBundle(cfg.Bundle, cfg.Zone); err != nil {
		return nil, inputError(cfg.Zone, "bundle", cfg.Bundle, "copy there the bundle from livesign bundle, or the SKR from livesign sign-ksr, dnssec-ksr sign or keymgr sign-ksr", err)
	}
	// RFC 4035 §2.2: every algorithm of the DNSKEY set signs every RRset,
	// and livesign signs the zone's data with one ZSK.
	all := append([]*keystore.Key{}, tl.KSKs...)
	if tl.Bundle != nil {
		all = append(all, tl.Bundle.KSKs()...)
	}
	if err := keystore.CheckAlgorithms(cfg.Zone, append(all, keys...)); err != nil {
		return nil, fmt.Errorf("zone %s: %s: %w", cfg.Zone, tl.source(), err)
	}
	var a *keystore.Anchor
	if cfg.TrustAnchor != "" {
		if a, err = keystore.ReadAnchor(cfg.TrustAnchor, cfg.Zone); err != nil {
			return nil, inputError(cfg.Zone, "trust-anchor", cfg.TrustAnchor, "give the KSK's DS ('livesign ds KSK.key > FILE') or its DNSKEY", err)
		}
	} else {
		log.Warningf("zone %s: no trust-anchor: trusting whatever KSK signed %s", cfg.Zone, tl.source())
	}
	tl.Anchor = a
	return tl, nil
}

// inputError explains a file or directory named by a directive that cannot
// be read: which zone and directive, and what belongs there.
func inputError(zone, directive, path, what string, err error) error {
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) && pe.Path == path && errors.Is(pe.Err, fs.ErrNotExist) {
		return fmt.Errorf("zone %s: %s %s: no such file or directory: %s (a relative path is under the root directive, else CoreDNS's working directory)", zone, directive, path, what)
	}
	return fmt.Errorf("zone %s: %s %s: %w", zone, directive, path, err)
}
