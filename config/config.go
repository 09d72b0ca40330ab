// Package config declares the Corefile directives of livesign once: the
// plugin's setup and the livesign CLI's -corefile both read a livesign block
// through it, with CoreDNS's own Corefile reader (github.com/coredns/caddy/
// caddyfile, which imports nothing but the standard library), so import,
// {$ENV} placeholders, snippets and quotes work the same everywhere.
package config

import (
	"fmt"
	"runtime"
	"time"

	"github.com/livesign/livesign/keystore"
)

// Config is one livesign block of a Corefile.
type Config struct {
	Zone        string
	Keys        string // directory of ZSK key files
	Bundle      string // offline-signed DNSKEY bundle
	KSK         string // or: directory of an online KSK that signs the DNSKEY RRset itself
	TrustAnchor string // DS or DNSKEY of the KSK; empty: trust the bundle's KSK
	Foreign     string // directory of other providers' public keys (multi-signer); empty: none

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
	Algorithm         uint8         // of generated ZSKs; 0: none asked for (keystore.ZSKAlgorithm decides)
	Reload            time.Duration // how often the files are checked for changes
	WarnCoverage      time.Duration // warn when the bundle covers less than this
	CacheSize         int           // signatures kept in the cache
	ResponseCache     int           // whole signed answers kept (0: none)
	MaxSigners        int           // signings running at once
}

// Default returns the Config of a livesign block for zone that sets nothing
// but keys and bundle: the defaults of DESIGN.md §3.
func Default(zone string) Config {
	p := keystore.DefaultPolicy()
	return Config{
		Zone:              zone,
		SignatureValidity: p.SignatureValidity,
		SignatureRefresh:  p.SignatureRefresh,
		MaxZoneTTL:        p.MaxZoneTTL,
		DNSKEYTTL:         p.DNSKEYTTL,
		PropagationDelay:  p.PropagationDelay,
		ZSKLifetime:       p.ZSKLifetime,
		PublishSafety:     p.PublishSafety,
		RetireSafety:      p.RetireSafety,
		KSRFormat:         "bind",
		Reload:            30 * time.Second,
		WarnCoverage:      14 * 24 * time.Hour,
		CacheSize:         100000,
		ResponseCache:     10000,
		MaxSigners:        runtime.GOMAXPROCS(0),
	}
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

// check tells what is wrong with a complete block, or nil.
func (cfg Config) check() error {
	switch {
	case cfg.Keys == "":
		return fmt.Errorf("zone %s: missing 'keys DIR' (the directory with the ZSK key files)", cfg.Zone)
	case (cfg.Bundle == "") == (cfg.KSK == ""):
		return fmt.Errorf("zone %s: want exactly one of 'bundle FILE' (the DNSKEY RRset signed by the offline KSK) and 'ksk DIR' (an online KSK)", cfg.Zone)
	case cfg.AutoPlan > 0 && cfg.AutoPlanKSR == "" && cfg.KSK == "":
		return fmt.Errorf("zone %s: auto-plan with a bundle needs the KSR file to write: auto-plan %s FILE", cfg.Zone, cfg.AutoPlan)
	case cfg.SignatureValidity <= cfg.SignatureRefresh+cfg.MaxZoneTTL:
		return fmt.Errorf("zone %s: signature-validity %s must exceed signature-refresh %s + max-zone-ttl %s, or cached answers outlive their signatures",
			cfg.Zone, cfg.SignatureValidity, cfg.SignatureRefresh, cfg.MaxZoneTTL)
	}
	if cfg.AutoPlan > 0 {
		if err := cfg.Policy().Validate(); err != nil {
			return fmt.Errorf("zone %s: %w", cfg.Zone, err)
		}
	}
	return nil
}
