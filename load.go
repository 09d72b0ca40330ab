package livesign

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/livesign/livesign/config"
	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
)

// loadTimeline reads the files named by cfg and makes the zone's timeline.
func loadTimeline(cfg config.Config) (*timeline.Timeline, error) {
	keys, err := keystore.ReadKeys(cfg.Keys, keystore.Selection{Zone: cfg.Zone, Role: keystore.ZSKRole, Private: keystore.PrivateRequired})
	if err != nil {
		return nil, inputError(cfg.Zone, "keys", cfg.Keys, "give the directory with the ZSK key files ('livesign keygen -zone "+cfg.Zone+" -zsk -dir DIR' makes one)", err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("zone %s: no key files of ZSKs (K%s+*.key, flags 256) in %s: create a ZSK with 'livesign keygen -zone %s -zsk -dir %s'", cfg.Zone, cfg.Zone, cfg.Keys, cfg.Zone, cfg.Keys)
	}
	in := timeline.Inputs{Zone: cfg.Zone, ZSKs: keys, Policy: cfg.Policy()}
	source := cfg.Bundle
	if cfg.KSK != "" {
		source = "the ksk directory " + cfg.KSK
		if in.KSKs, err = keystore.ReadKeys(cfg.KSK, keystore.Selection{Zone: cfg.Zone, Role: keystore.KSKRole, Private: keystore.PrivateRequired}); err != nil {
			return nil, inputError(cfg.Zone, "ksk", cfg.KSK, "give the directory with the online KSK's key files ('livesign keygen -ksk' makes one)", err)
		}
		if len(in.KSKs) == 0 {
			return nil, fmt.Errorf("zone %s: no KSK (flags 257) in %s: create one with 'livesign keygen -zone %s -ksk -dir %s'", cfg.Zone, cfg.KSK, cfg.Zone, cfg.KSK)
		}
	} else if in.Bundle, err = keystore.ReadBundle(cfg.Bundle, cfg.Zone); err != nil {
		return nil, inputError(cfg.Zone, "bundle", cfg.Bundle, "copy there the bundle from livesign bundle, or the SKR from livesign sign-ksr, dnssec-ksr sign or keymgr sign-ksr", err)
	}
	// RFC 4035 §2.2: every algorithm of the DNSKEY set signs every RRset,
	// and livesign signs the zone's data with one ZSK.
	all := append([]*keystore.Key{}, in.KSKs...)
	if in.Bundle != nil {
		all = append(all, in.Bundle.KSKs()...)
	}
	if err := keystore.CheckAlgorithms(cfg.Zone, append(all, keys...)); err != nil {
		return nil, fmt.Errorf("zone %s: %s: %w", cfg.Zone, source, err)
	}
	if cfg.Foreign != "" {
		if in.Foreign, err = keystore.ReadForeign(cfg.Foreign, cfg.Zone); err != nil {
			return nil, inputError(cfg.Zone, "foreign-keys", cfg.Foreign, "give the directory with the other providers' public key files (K<zone>+<alg>+<tag>.key)", err)
		}
		if len(in.Foreign) == 0 {
			return nil, fmt.Errorf("zone %s: foreign-keys %s: no key files of the zone there: copy the other providers' .key files there, or remove the directive", cfg.Zone, cfg.Foreign)
		}
	}
	if cfg.TrustAnchor != "" {
		if in.Anchor, err = keystore.ReadAnchor(cfg.TrustAnchor, cfg.Zone); err != nil {
			return nil, inputError(cfg.Zone, "trust-anchor", cfg.TrustAnchor, "give the KSK's DS ('livesign ds KSK.key > FILE') or its DNSKEY", err)
		}
	} else {
		log.Warningf("zone %s: no trust-anchor: trusting whatever KSK signed %s", cfg.Zone, source)
	}
	return timeline.New(in)
}

// inputError explains a file or directory named by a directive that cannot
// be read: which zone and directive, and what belongs there.
func inputError(zone, directive, path, what string, err error) error {
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) && pe.Path == path && errors.Is(pe.Err, fs.ErrNotExist) {
		return fmt.Errorf("zone %s: %s %s: no such file or directory: %s (a relative path is under the root directive, else CoreDNS's working directory)", zone, directive, path, what)
	}
	return fmt.Errorf("zone %s: %s %s: %w", zone, directive, path, err)
}
