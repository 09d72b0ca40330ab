package config

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/livesign/livesign/keystore"
)

// directive is one line of a livesign block: its name, its arguments as
// README.md writes them, and what it sets.
type directive struct {
	name     string
	usage    string
	set      func(cfg *Config, args []string, root string) error
	duration func(*Config) *time.Duration // for durations: the field
}

// directives are all the directives of a livesign block, in README order.
var directives = []directive{
	pathDirective("keys", func(c *Config) *string { return &c.Keys }),
	pathDirective("bundle", func(c *Config) *string { return &c.Bundle }),
	pathDirective("ksk", func(c *Config) *string { return &c.KSK }),
	pathDirective("trust-anchor", func(c *Config) *string { return &c.TrustAnchor }),
	pathDirective("foreign-keys", func(c *Config) *string { return &c.Foreign }),
	durationDirective("signature-validity", func(c *Config) *time.Duration { return &c.SignatureValidity }),
	durationDirective("signature-refresh", func(c *Config) *time.Duration { return &c.SignatureRefresh }),
	durationDirective("max-zone-ttl", func(c *Config) *time.Duration { return &c.MaxZoneTTL }),
	durationDirective("dnskey-ttl", func(c *Config) *time.Duration { return &c.DNSKEYTTL }),
	durationDirective("propagation-delay", func(c *Config) *time.Duration { return &c.PropagationDelay }),
	durationDirective("zsk-lifetime", func(c *Config) *time.Duration { return &c.ZSKLifetime }),
	durationDirective("publish-safety", func(c *Config) *time.Duration { return &c.PublishSafety }),
	durationDirective("retire-safety", func(c *Config) *time.Duration { return &c.RetireSafety }),
	{name: "auto-plan", usage: "auto-plan HORIZON [KSRFILE [bind|knot]]", set: setAutoPlan},
	{name: "algorithm", usage: "algorithm ALGORITHM", set: func(cfg *Config, args []string, _ string) error {
		alg, err := keystore.ParseAlgorithm(args[0])
		if err != nil {
			return err
		}
		cfg.Algorithm = alg
		return nil
	}},
	durationDirective("reload", func(c *Config) *time.Duration { return &c.Reload }),
	durationDirective("warn-coverage", func(c *Config) *time.Duration { return &c.WarnCoverage }),
	intDirective("cache", 1, func(c *Config) *int { return &c.CacheSize }),
	intDirective("response-cache", 0, func(c *Config) *int { return &c.ResponseCache }),
	intDirective("max-signers", 1, func(c *Config) *int { return &c.MaxSigners }),
}

// PolicyDirectives are the directives of the rollover timing
// (Config.Policy), for tools that take them as flags.
var PolicyDirectives = []string{
	"zsk-lifetime", "dnskey-ttl", "max-zone-ttl", "propagation-delay",
	"publish-safety", "retire-safety", "signature-validity", "signature-refresh",
}

// Set applies directive name with args to cfg, as a line of a livesign
// block would; relative paths are taken under root. The CLI sets its flags
// named like directives through it.
func (cfg *Config) Set(name string, args []string, root string) error {
	for _, d := range directives {
		if d.name != name {
			continue
		}
		if err := d.set(cfg, args, root); err != nil {
			return fmt.Errorf("%s: %w (%s)", name, err, d.usage)
		}
		return nil
	}
	names := make([]string, len(directives))
	for i, d := range directives {
		names[i] = d.name
	}
	return fmt.Errorf("unknown property %q: the livesign directives are %s", name, strings.Join(names, ", "))
}

// Duration returns the value of the duration directive name in cfg.
func (cfg Config) Duration(name string) (time.Duration, bool) {
	for _, d := range directives {
		if d.name == name && d.duration != nil {
			return *d.duration(&cfg), true
		}
	}
	return 0, false
}

func pathDirective(name string, field func(*Config) *string) directive {
	return directive{name: name, usage: name + " PATH", set: func(cfg *Config, args []string, root string) error {
		if len(args) != 1 {
			return fmt.Errorf("want exactly one argument, got %d", len(args))
		}
		*field(cfg) = underRoot(args[0], root)
		return nil
	}}
}

func durationDirective(name string, field func(*Config) *time.Duration) directive {
	return directive{name: name, usage: name + " DURATION", duration: field, set: func(cfg *Config, args []string, _ string) error {
		if len(args) != 1 {
			return fmt.Errorf("want exactly one argument, got %d", len(args))
		}
		d, err := keystore.ParseDuration(args[0])
		if err != nil || d <= 0 {
			return fmt.Errorf("%q: want a positive duration such as 90m, 12h, 7d or 2w", args[0])
		}
		*field(cfg) = d
		return nil
	}}
}

func intDirective(name string, least int, field func(*Config) *int) directive {
	return directive{name: name, usage: name + " N", set: func(cfg *Config, args []string, _ string) error {
		if len(args) != 1 {
			return fmt.Errorf("want exactly one argument, got %d", len(args))
		}
		n, err := strconv.Atoi(args[0])
		if err != nil || n < least {
			return fmt.Errorf("%q: want an integer of at least %d", args[0], least)
		}
		*field(cfg) = n
		return nil
	}}
}

// setAutoPlan reads "auto-plan HORIZON [KSRFILE [bind|knot]]".
func setAutoPlan(cfg *Config, args []string, root string) error {
	if len(args) < 1 || len(args) > 3 {
		return fmt.Errorf("got %d arguments", len(args))
	}
	d, err := keystore.ParseDuration(args[0])
	if err != nil || d <= 0 {
		return fmt.Errorf("%q: want a positive duration such as 180d", args[0])
	}
	cfg.AutoPlan = d
	if len(args) > 1 {
		cfg.AutoPlanKSR = underRoot(args[1], root)
	}
	if len(args) > 2 {
		if _, err := keystore.ParseLayout(args[2]); err != nil {
			return err
		}
		cfg.KSRFormat = args[2]
	}
	return nil
}

// underRoot returns path, relative ones under root (the root directive),
// as CoreDNS's file plugin does.
func underRoot(path, root string) string {
	if filepath.IsAbs(path) || root == "" {
		return path
	}
	return filepath.Join(root, path)
}
