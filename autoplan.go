package livesign

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// autoPlanKeys keeps the ZSKs of cfg planned up to now + the auto-plan
// horizon: it generates successors and writes missing timers (RFC 7583
// pre-publication, see keystore.Policy.Plan), under the keys directory's
// lock. A keys directory livesign may not write to is left alone.
func autoPlanKeys(cfg Config, now time.Time) (*keystore.Schedule, []keystore.Applied, error) {
	if err := os.MkdirAll(cfg.Keys, 0o700); err != nil {
		return nil, nil, fmt.Errorf("zone %s: auto-plan: %v", cfg.Zone, err)
	}
	if !keystore.DirWritable(cfg.Keys) {
		return nil, nil, errReadOnly
	}
	alg, err := zskAlgorithm(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("zone %s: auto-plan: %w", cfg.Zone, err)
	}
	sched, applied, err := keystore.PlanDir(cfg.Keys, cfg.Zone, alg, cfg.Policy(), now, now.Add(cfg.AutoPlan))
	for _, a := range applied {
		if a.State == "generated" || a.State == "updated" {
			t := a.Key.Timers
			log.Infof("zone %s: auto-plan %s ZSK %d (%s): publish %s, activate %s, inactive %s, delete %s", cfg.Zone, a.State, a.Key.Tag(), a.Key.Base,
				stamp(t.Publish), stamp(t.Activate), stamp(t.Inactive), stamp(t.Delete))
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("zone %s: auto-plan: %w", cfg.Zone, err)
	}
	return sched, applied, nil
}

var errReadOnly = fmt.Errorf("the keys directory is not writable")

// zskAlgorithm returns the algorithm of the ZSKs auto-plan generates for
// cfg. Every key of the DNSKEY set must have one algorithm (RFC 4035 §2.2:
// each algorithm there signs every RRset, and livesign signs the zone data
// with one ZSK), so it is, first, the KSK's: the online KSK of 'ksk DIR', or
// the KSK in the bundle; then the algorithm of the ZSKs in the keys
// directory; then the algorithm directive; then ECDSAP256SHA256. Keys of
// mixed algorithms are refused, and so is an algorithm directive that
// disagrees with the KSK.
func zskAlgorithm(cfg Config) (uint8, error) {
	var ksks []*keystore.Key
	kskSource := ""
	if cfg.KSK != "" {
		all, err := keystore.ReadPublicKeyDir(cfg.KSK, cfg.Zone)
		if err != nil {
			return 0, fmt.Errorf("ksk %s: %w", cfg.KSK, err)
		}
		for _, k := range all {
			if k.IsKSK() {
				ksks = append(ksks, k)
			}
		}
		kskSource = "the ksk directory " + cfg.KSK
	} else if cfg.Bundle != "" {
		// The bundle's KSK DNSKEYs; an unreadable bundle is for the
		// loader to report.
		keys, _ := keystore.ReadDNSKEYs(cfg.Bundle, cfg.Zone)
		for _, k := range keys {
			if k.Flags&dns.SEP != 0 {
				ksks = append(ksks, &keystore.Key{DNSKEY: k})
			}
		}
		kskSource = "the bundle " + cfg.Bundle
	}
	all, err := keystore.ReadPublicKeyDir(cfg.Keys, cfg.Zone)
	if err != nil {
		return 0, fmt.Errorf("keys %s: %w", cfg.Keys, err)
	}
	keys := append([]*keystore.Key{}, ksks...)
	for _, k := range all {
		if !k.IsKSK() {
			keys = append(keys, k)
		}
	}
	if err := keystore.CheckAlgorithms(cfg.Zone, keys); err != nil {
		return 0, fmt.Errorf("the keys of %s and of %s: %w", cfg.Keys, kskSource, err)
	}
	if len(keys) == 0 {
		if cfg.Algorithm != 0 {
			return cfg.Algorithm, nil
		}
		return dns.ECDSAP256SHA256, nil
	}
	alg, from := keys[0].DNSKEY.Algorithm, "the ZSKs in "+cfg.Keys
	if len(ksks) > 0 {
		from = "the KSK in " + kskSource
	}
	// cfg.Algorithm is 0 without an algorithm directive.
	if cfg.Algorithm != 0 && cfg.Algorithm != alg {
		if len(ksks) > 0 {
			return 0, fmt.Errorf("algorithm %s is set but %s has %s: the ZSKs must have the KSK's algorithm (RFC 4035 §2.2); remove the algorithm directive or set it to %s",
				algorithmName(cfg.Algorithm), from, algorithmName(alg), dns.AlgorithmToString[alg])
		}
		log.Warningf("zone %s: auto-plan: algorithm %s ignored: new ZSKs get %s, the algorithm of %s (the algorithm directive applies to an empty keys directory)",
			cfg.Zone, algorithmName(cfg.Algorithm), algorithmName(alg), from)
	}
	return alg, nil
}

// algorithmName names a DNSSEC algorithm, e.g. "ECDSAP256SHA256 (13)".
func algorithmName(a uint8) string {
	if n, ok := dns.AlgorithmToString[a]; ok {
		return fmt.Sprintf("%s (%d)", n, a)
	}
	return fmt.Sprint(a)
}

// autoPlan runs the auto-plan of the zone at most once an hour (once a
// minute after a failure): keys first, then, when the bundle covers less
// than the horizon, the KSR the offline side must sign.
func (z *Zone) autoPlan(now time.Time) {
	if z.cfg.AutoPlan == 0 || now.Before(z.nextPlan) {
		return
	}
	sched, applied, err := autoPlanKeys(z.cfg, now)
	if err == nil {
		err = z.writeKSR(now, sched, applied)
	}
	if err == nil {
		z.planBackoff, z.nextPlan = 0, now.Add(time.Hour)
		return
	}
	// Retry after a minute, then less and less often, up to hourly, with
	// one log line per attempt.
	z.planBackoff = min(max(2*z.planBackoff, time.Minute), time.Hour)
	z.nextPlan = now.Add(z.planBackoff)
	if err == errReadOnly {
		log.Warningf("zone %s: auto-plan: %s is not writable: plan the keys with 'livesign plan' where they are written; next try in %s", z.Name, z.cfg.Keys, z.planBackoff)
		return
	}
	log.Errorf("zone %s: auto-plan: %v; next try in %s", z.Name, err, z.planBackoff)
}

// writeKSR writes the KSR for the planned keys when the bundle covers less
// than the horizon, and tells the operator what to do with it.
func (z *Zone) writeKSR(now time.Time, sched *keystore.Schedule, applied []keystore.Applied) error {
	cfg := z.cfg
	if cfg.AutoPlanKSR == "" || cfg.KSK != "" {
		return nil // an online KSK signs by itself
	}
	z.mu.Lock()
	end := z.Timeline.End(now)
	z.mu.Unlock()
	if !end.Before(now.Add(cfg.AutoPlan)) {
		return nil
	}
	layout, err := keystore.ParseLayout(cfg.KSRFormat)
	if err != nil {
		return err
	}
	ksr, err := keystore.BuildKSR(cfg.Zone, keystore.Keys(applied), sched.Start, sched.End, cfg.DNSKEYTTL, layout, now)
	if err != nil {
		return err
	}
	if old, err := keystore.ReadKSR(cfg.AutoPlanKSR, cfg.Zone); err != nil || !keystore.SameKSR(old, ksr) {
		var buf bytes.Buffer
		if err := keystore.WriteKSR(&buf, ksr); err != nil {
			return err
		}
		if err := keystore.WriteFileAtomic(cfg.AutoPlanKSR, buf.Bytes(), 0o644); err != nil {
			return err
		}
		log.Infof("zone %s: auto-plan wrote %s: %d slots from %s to %s", z.Name, cfg.AutoPlanKSR, len(ksr.Slots), stamp(sched.Start), stamp(sched.End))
	}
	log.Warningf("zone %s: the bundle %s covers only until %s, less than the auto-plan horizon (%s): on the offline machine sign %s "+
		"(livesign sign-ksr -ksk KSKDIR -ksr %s -out NEW.skr, or dnssec-ksr sign, or keymgr sign-ksr) and install the result as %s",
		z.Name, cfg.Bundle, stamp(end), cfg.AutoPlan, cfg.AutoPlanKSR, cfg.AutoPlanKSR, cfg.Bundle)
	return nil
}

// stamp formats t as RFC 3339 UTC, "-" when unset.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
