package livesign

import (
	"fmt"
	"os"
	"time"

	"github.com/livesign/livesign/config"
	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
)

// autoPlanKeys keeps the ZSKs of cfg planned up to now + the auto-plan
// horizon: it generates successors and writes missing timers (RFC 7583
// pre-publication, see keystore.Policy.Plan), under the keys directory's
// lock. A keys directory livesign may not write to is left alone.
func autoPlanKeys(cfg config.Config, now time.Time) (*keystore.Schedule, []keystore.Applied, error) {
	if err := os.MkdirAll(cfg.Keys, 0o700); err != nil {
		return nil, nil, fmt.Errorf("zone %s: auto-plan: %v", cfg.Zone, err)
	}
	if !keystore.DirWritable(cfg.Keys) {
		return nil, nil, errReadOnly
	}
	c, _, err := zoneChains(cfg, now)
	if err != nil {
		return nil, nil, fmt.Errorf("zone %s: auto-plan: %w", cfg.Zone, err)
	}
	sched, applied, err := keystore.PlanChains(cfg.Keys, cfg.Zone, c, cfg.Policy(), now, now.Add(cfg.AutoPlan))
	for _, a := range applied {
		if a.State == "generated" || a.State == "updated" || a.State == "retired" {
			t := a.Key.Timers
			log.Infof("zone %s: auto-plan %s ZSK %d (%s): publish %s, activate %s, inactive %s, delete %s", cfg.Zone, a.State, a.Key.Tag(), a.Key.Base,
				timeline.Stamp(t.Publish), timeline.Stamp(t.Activate), timeline.Stamp(t.Inactive), timeline.Stamp(t.Delete))
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("zone %s: auto-plan: %w", cfg.Zone, err)
	}
	return sched, applied, nil
}

var errReadOnly = fmt.Errorf("the keys directory is not writable")

// zoneChains decides the ZSK chains auto-plan keeps for cfg at now, and the
// algorithm of new ZSKs, by the one rule of keystore.DecideChains (as
// livesign plan's): the algorithm directive, else the KSK's (the online
// KSK of 'ksk DIR', or the bundle's), else the ZSKs', else
// ECDSAP256SHA256; a directive other than the keys' algorithm starts an
// algorithm roll.
func zoneChains(cfg config.Config, now time.Time) (keystore.Chains, uint8, error) {
	ksks, err := kskKeys(cfg)
	if err != nil {
		return keystore.Chains{}, 0, err
	}
	zsks, err := keystore.ReadKeys(cfg.Keys, keystore.Selection{Zone: cfg.Zone, Role: keystore.ZSKRole})
	if err != nil {
		return keystore.Chains{}, 0, fmt.Errorf("keys %s: %w", cfg.Keys, err)
	}
	return keystore.DecideChains(keystore.ChainInputs{Zone: cfg.Zone, Want: cfg.Algorithm, KSKs: ksks, Online: cfg.KSK != "", ZSKs: zsks}, now)
}

// kskKeys returns the public KSKs of cfg: the online KSK's, or the bundle's.
// An unreadable bundle is for the loader to report.
func kskKeys(cfg config.Config) ([]*keystore.Key, error) {
	if cfg.KSK != "" {
		ksks, err := keystore.ReadKeys(cfg.KSK, keystore.Selection{Zone: cfg.Zone, Role: keystore.KSKRole})
		if err != nil {
			return nil, fmt.Errorf("ksk %s: %w", cfg.KSK, err)
		}
		return ksks, nil
	}
	b, err := keystore.ReadBundle(cfg.Bundle, cfg.Zone)
	if err != nil {
		return nil, nil
	}
	return b.KSKs(), nil
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
	keys := keystore.Keys(applied)
	if cfg.Foreign != "" {
		// Multi-signer: every slot lists the other providers' ZSKs.
		foreign, err := keystore.ReadForeign(cfg.Foreign, cfg.Zone)
		if err != nil {
			return fmt.Errorf("foreign-keys %s: %w", cfg.Foreign, err)
		}
		keys = append(keys, foreign...)
	}
	ksr, err := keystore.BuildKSR(cfg.Zone, keys, sched.Start, sched.End, cfg.DNSKEYTTL, layout, now)
	if err != nil {
		return err
	}
	ksr.File = cfg.AutoPlanKSR
	changed, err := keystore.WriteKSRFile(cfg.AutoPlanKSR, ksr)
	if err != nil {
		return err
	}
	if changed {
		log.Infof("zone %s: auto-plan wrote %s: %d slots from %s to %s", z.Name, cfg.AutoPlanKSR, len(ksr.Slots), timeline.Stamp(sched.Start), timeline.Stamp(sched.End))
	}
	log.Warningf("zone %s: the bundle %s covers only until %s, less than the auto-plan horizon (%s): on the offline machine sign %s "+
		"(livesign sign-ksr -ksk KSKDIR -ksr %s -out NEW.skr, or dnssec-ksr sign, or keymgr sign-ksr) and install the result as %s",
		z.Name, cfg.Bundle, timeline.Stamp(end), cfg.AutoPlan, cfg.AutoPlanKSR, cfg.AutoPlanKSR, cfg.Bundle)
	return nil
}
