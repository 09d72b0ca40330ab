package livesign

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/livesign/livesign/config"
	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
	"github.com/miekg/dns"
)

// poll checks every zone once: reloads changed files and updates coverage.
func (l *Livesign) poll() {
	now := l.now()
	for _, z := range l.zones {
		z.autoPlan(now)
		z.reload(now)
		z.coverage(now)
	}
}

// fingerprint identifies the contents of a zone's files: the bundle and
// anchor bytes and the names, sizes and times of the key files.
func fingerprint(cfg config.Config) (string, error) {
	h := sha256.New()
	for _, f := range []string{cfg.Bundle, cfg.TrustAnchor} {
		if f == "" {
			continue
		}
		b, err := keystore.ReadRegularFile(f, keystore.MaxBundleFileSize)
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	for _, dir := range []string{cfg.Keys, cfg.KSK, cfg.Foreign} {
		if dir == "" {
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return "", err
		}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		for _, n := range names {
			if n == keystore.LockFile {
				continue
			}
			fi, err := os.Stat(filepath.Join(dir, n))
			if err != nil {
				continue // removed meanwhile: the next poll sees it
			}
			fmt.Fprintf(h, "%s %d %d\n", n, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return string(h.Sum(nil)), nil
}

// reload replaces the zone's timeline when its files changed and the new
// ones are valid at now.
func (z *Zone) reload(now time.Time) {
	fp, err := fingerprint(z.cfg)
	if err != nil {
		if fp = "unreadable: " + err.Error(); fp != z.rejected {
			z.rejected = fp
			reloads.WithLabelValues(z.Name, "rejected").Inc()
			log.Errorf("zone %s: cannot read its files, keeping the keys in use: %v", z.Name, err)
		}
		return
	}
	if fp == z.lastSeen || fp == z.rejected && now.Before(z.retryAt) {
		return
	}
	tl, err := loadTimeline(z.cfg)
	if err == nil {
		err = tl.Check(now)
	}
	if err == nil {
		_, err = tl.At(now)
	}
	if err != nil {
		// Some refusals pass with time (a bundle installed before its
		// start): look at the same files again in a while.
		if fp != z.rejected {
			reloads.WithLabelValues(z.Name, "rejected").Inc()
			log.Errorf("zone %s: new files rejected, the previous bundle and keys keep serving: %v", z.Name, err)
		}
		z.rejected, z.retryAt = fp, now.Add(time.Minute)
		return
	}
	z.lastSeen, z.rejected = fp, ""
	for _, n := range tl.Notes(now) {
		log.Warningf("zone %s: %s", z.Name, n)
	}
	z.mu.Lock()
	z.Timeline = tl
	if cur := z.current.Load(); cur != nil {
		// Run out now: the next Keys asks the new timeline, and still
		// sees the set in use, to log and count a switch of ZSK.
		over := *cur
		over.Until = now
		z.current.Store(&over)
	}
	z.failed.Store(nil)
	z.mu.Unlock()
	reloads.WithLabelValues(z.Name, "loaded").Inc()
	log.Infof("zone %s: loaded new keys from %s and DNSKEY set from %s", z.Name, z.cfg.Keys, tl.Source())
	z.Keys(now)
}

// coverage updates the coverage gauge and, below the warning horizon, logs
// a warning once an hour saying what the operator must do.
func (z *Zone) coverage(now time.Time) {
	z.mu.Lock()
	b := z.Timeline.Bundle()
	var gap keystore.Gap
	if b != nil {
		gap = b.FirstGap(now)
	}
	dsAt, dsKSKs, dsDue := z.Timeline.DSDeadline(now)
	z.mu.Unlock()
	z.parentDS(now, dsAt, dsKSKs, dsDue)
	if b == nil {
		return // an online KSK never runs out
	}
	end := gap.Start
	left := end.Sub(now)
	bundleCoverage.WithLabelValues(z.Name).Set(left.Seconds())
	bundleExpiration.WithLabelValues(z.Name).Set(float64(end.Unix()))
	if left >= z.cfg.WarnCoverage && !gap.Inner() || now.Sub(z.lastWarn) < time.Hour {
		return
	}
	z.lastWarn = now
	if gap.Inner() {
		log.Warningf("zone %s: the bundle %s has no valid DNSKEY signature from %s to %s (slot %d's RRSIGs expire before slot %d is in force): re-sign (Knot: rrsig-lifetime longer than the KSR record spacing, or livesign plan -format knot with its default -resign) and install the new SKR before %s",
			z.Name, z.cfg.Bundle, timeline.Stamp(end), timeline.Stamp(gap.End), gap.Slot, gap.Next, timeline.Stamp(end))
		return
	}
	log.Warningf("zone %s: the bundle %s covers only %s more (until %s): have the offline KSK sign a new one and install it",
		z.Name, z.cfg.Bundle, left.Round(time.Second), timeline.Stamp(end))
}

// parentDS exports when the parent must have a new KSK's DS (a KSK roll
// the trust anchor does not follow yet) and says so in the log, once an
// hour.
func (z *Zone) parentDS(now, at time.Time, ksks []*dns.DNSKEY, due bool) {
	if !due {
		parentDSDeadline.WithLabelValues(z.Name).Set(0)
		return
	}
	parentDSDeadline.WithLabelValues(z.Name).Set(float64(at.Unix()))
	if now.Sub(z.lastDSWarn) < time.Hour {
		return
	}
	z.lastDSWarn = now
	var ds []string
	for _, k := range ksks {
		if d := k.ToDS(dns.SHA256); d != nil {
			ds = append(ds, d.String())
		}
	}
	log.Warningf("zone %s: from %s the bundle's DNSKEY sets are signed only by KSK %s, which the trust-anchor file %s does not name: have the parent publish its DS (%s) and add it to %s before then; until it is there livesign keeps serving the last set the anchored KSK signed",
		z.Name, timeline.Stamp(at), keyTags(ksks), z.cfg.TrustAnchor, strings.Join(ds, "; "), z.cfg.TrustAnchor)
}

// keyTags lists the tags of keys, e.g. "12345, 23456".
func keyTags(keys []*dns.DNSKEY) string {
	tags := make([]string, len(keys))
	for i, k := range keys {
		tags[i] = fmt.Sprint(k.KeyTag())
	}
	return strings.Join(tags, ", ")
}
