package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/livesign/livesign/config"
	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
	"github.com/miekg/dns"
)

const planHelp = `
The online side of the offline-KSK ceremony: make sure ZSKs with RFC 7583
pre-publication timers exist in -keys for ZONE up to -until, and write the
key signing request (KSR) that asks the offline KSK to sign their DNSKEY sets.

Existing ZSKs are reused; a key without timers (ldns-keygen, bare
dnssec-keygen, livesign keygen) is adopted as BIND's dnssec-policy does
(Activate = Publish = Created) and gets its timers written into its files.
Successors are generated with Act(N+1) = Act(N) + zsk-lifetime,
Pub(N+1) = Act(N+1) - Ipub, Inactive(N) = Act(N+1), Delete(N) = Inactive(N) + Iret,
where Ipub = propagation-delay + dnskey-ttl + publish-safety and
Iret = propagation-delay + max-zone-ttl + retire-safety. Key files are
written atomically (.private mode 0600).

The rollover durations come from the Corefile's livesign block for ZONE with
-corefile, else the defaults; flags override both. The KSR is written in
BIND 9.20's layout (dnssec-ksr sign, livesign sign-ksr) or, with -format knot,
in Knot's (keymgr sign-ksr; Knot 3.2 reads only Unix-second header times).
It ends with a slot at the end of the period. Running plan again with the
same arguments changes nothing and leaves the KSR as it is.

The KSR has a slot at every change of the ZSK set and, with -resign, one
more at most every -resign in between. keymgr sign-ksr signs each KSR
record for its policy's rrsig-lifetime (14d by default) and adds no record
of its own unless the policy sets rrsig-refresh (or zone-max-ttl): with
records only at the key events (about a zsk-lifetime apart) the SKR would
have stretches with no valid DNSKEY signature. So -format knot writes a
slot at least every 7d by default; keep -resign below the Knot policy's
rrsig-lifetime (minus a day of safety). BIND's dnssec-ksr sign and livesign
sign-ksr re-sign between the records by themselves: -format bind adds none
by default. Check the SKR with livesign check, which reports such gaps.

An -algorithm other than the one of the existing ZSKs starts an algorithm
roll (RFC 6781 §4.1.4): ZSKs of the new algorithm are planned that sign every
RRset PreSign = max-zone-ttl + propagation-delay + publish-safety before
their DNSKEY is published, while the old chain keeps signing; sign the KSR
with the KSKs of both algorithms (each slot is signed by every KSK whose
algorithm has a ZSK there). Once the parent's DS names the new KSK and the
old DS has left the caches, run plan again with -retire-old TIME: the old
algorithm's DNSKEYs leave the set at TIME and its ZSKs sign dnskey-ttl +
propagation-delay longer, then stop.

Multi-signer (RFC 8901 model 2): -foreign DIR (or the -corefile's
foreign-keys) holds the other providers' public ZSK files; each KSR slot
lists them, so the KSK signs a DNSKEY set with every provider's ZSK. They
never sign here. Plan again when another provider's ZSKs change.

TIME is YYYYMMDDHHMMSS (UTC), RFC 3339 or +DURATION from now. Durations are
Go durations plus d (days) and w (weeks).`

func plan(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plan", "livesign plan -zone ZONE -keys DIR -until TIME -out FILE.ksr [-format bind|knot] [-corefile FILE] [-zsk-lifetime 30d ...] [-algorithm ECDSAP256SHA256 [-retire-old TIME]] [-foreign DIR] [-resign 7d] [-now TIME]", planHelp)
	zone := fs.String("zone", "", "zone name, e.g. example.org")
	keysDir := fs.String("keys", "", "directory of the ZSK key files (default: the Corefile's keys directive)")
	untilFlag := fs.String("until", "", "the ZSKs must cover up to this TIME, e.g. +180d")
	out := fs.String("out", "", "KSR file to write")
	format := fs.String("format", "bind", "KSR layout: bind (BIND 9.20, 14-digit times) or knot (Knot 3.2, Unix times)")
	corefile := fs.String("corefile", "", "read the rollover directives from this Corefile's livesign block for ZONE")
	algName := fs.String("algorithm", "", "algorithm of new ZSKs (default: the KSK's, else that of the existing ZSKs, else ECDSAP256SHA256); another than the keys' starts an algorithm roll")
	foreignDir := fs.String("foreign", "", "directory of the other providers' public ZSK files, put in every KSR slot (multi-signer; default: the -corefile's foreign-keys)")
	retireOld := fs.String("retire-old", "", "end an algorithm roll: the ZSKs of the algorithms other than -algorithm leave the DNSKEY set at this TIME (once the parent's DS names the new KSK) and sign dnskey-ttl + propagation-delay longer")
	nowFlag := fs.String("now", "", "plan from this TIME instead of the clock")
	resignFlag := fs.String("resign", "", "add a KSR slot at least every DURATION between the key events, so that a KSK side that signs each record for a fixed lifetime (keymgr sign-ksr: rrsig-lifetime) leaves no gap; 0 = key events only (default: 7d with -format knot, 0 with -format bind)")
	defaults := config.Default(".")
	durFlags := map[string]*string{}
	for _, name := range config.PolicyDirectives {
		def, _ := defaults.Duration(name)
		durFlags[name] = fs.String(name, "", "rollover timing: "+name+" (default: the -corefile's, else "+formatDuration(def)+")")
	}
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case len(pos) > 0:
		return usageErrorf(fs, "plan: unexpected argument %q", pos[0])
	case *zone == "", *untilFlag == "", *out == "":
		return usageErrorf(fs, "plan: -zone, -until and -out are required")
	}
	if _, ok := dns.IsDomainName(*zone); !ok {
		return usageErrorf(fs, "plan: %q is not a domain name", *zone)
	}
	zoneName := dns.CanonicalName(*zone)
	layout, err := keystore.ParseLayout(*format)
	if err != nil {
		return usageErrorf(fs, "plan: -format: %v", err)
	}
	resign := keystore.DefaultResign(layout)
	if *resignFlag != "" {
		if resign, err = keystore.ParseDuration(*resignFlag); err != nil {
			return usageErrorf(fs, "plan: -resign: %v", err)
		}
		if resign != 0 && resign < time.Hour {
			return usageErrorf(fs, "plan: -resign %s: give 0 (key events only) or at least 1h", *resignFlag)
		}
	}
	start := now().UTC().Truncate(time.Second)
	if *nowFlag != "" {
		if start, err = parseTime(*nowFlag, start); err != nil {
			return usageErrorf(fs, "plan: -now: %v", err)
		}
	}
	until, err := parseTime(*untilFlag, start)
	if err != nil {
		return usageErrorf(fs, "plan: -until: %v", err)
	}
	cfg := config.Default(zoneName)
	if *corefile != "" {
		if cfg, err = config.ForZone(*corefile, zoneName); err != nil {
			return fmt.Errorf("plan: -corefile: %w", err)
		}
		if *keysDir == "" {
			*keysDir = cfg.Keys
		}
		if *foreignDir == "" {
			*foreignDir = cfg.Foreign
		}
	}
	for _, name := range config.PolicyDirectives {
		if set[name] {
			if err := cfg.Set(name, []string{*durFlags[name]}, ""); err != nil {
				return usageErrorf(fs, "plan: -%v", err)
			}
		}
	}
	if set["algorithm"] {
		if err := cfg.Set("algorithm", []string{*algName}, ""); err != nil {
			return usageErrorf(fs, "plan: -%v", err)
		}
	}
	if *keysDir == "" {
		return usageErrorf(fs, "plan: -keys is required (or a keys directive in the -corefile block)")
	}
	pol := cfg.Policy()
	if err := pol.Validate(); err != nil {
		return fmt.Errorf("plan: %v", err)
	}
	if err := os.MkdirAll(*keysDir, 0o700); err != nil {
		return err
	}
	// The KSK decides the algorithm: the -corefile block's online KSK or
	// bundle (the one rule of keystore.ZSKAlgorithm, as auto-plan's).
	var ksks []*keystore.Key
	if cfg.KSK != "" {
		if ksks, err = keystore.ReadKeys(cfg.KSK, keystore.Selection{Zone: zoneName, Role: keystore.KSKRole}); err != nil {
			return fmt.Errorf("plan: the -corefile's ksk directory: %w", err)
		}
	} else if cfg.Bundle != "" {
		// Before the first SKR there is no bundle: the ZSKs, the
		// algorithm directive or the default decide then.
		b, err := keystore.ReadBundle(cfg.Bundle, zoneName)
		switch {
		case err == nil:
			ksks = b.KSKs()
		case !errors.Is(err, os.ErrNotExist):
			fmt.Fprintf(stderr, "livesign: plan: warning: the KSK's algorithm is unknown, the bundle does not load: %v\n", err)
		}
	}
	zsks, err := keystore.ReadKeys(*keysDir, keystore.Selection{Zone: zoneName, Role: keystore.ZSKRole})
	if err != nil {
		return err
	}
	in := keystore.ChainInputs{Zone: zoneName, Want: cfg.Algorithm, KSKs: ksks, Online: cfg.KSK != "", ZSKs: zsks}
	if *retireOld != "" {
		if in.RetireOld, err = parseTime(*retireOld, start); err != nil {
			return usageErrorf(fs, "plan: -retire-old: %v", err)
		}
		if cfg.KSK != "" {
			return usageErrorf(fs, "plan: -retire-old is for an offline KSK: with the -corefile's online KSK, give the old algorithm's KSK Inactive and Delete timers (or remove it) instead")
		}
	}
	c, _, err := keystore.DecideChains(in, start)
	if err != nil {
		return fmt.Errorf("plan: %v", err)
	}
	if !in.RetireOld.IsZero() && len(c.Retire) == 0 {
		return fmt.Errorf("plan: -retire-old: the keys of %s in %s have one algorithm: there is no old one to retire", zoneName, *keysDir)
	}
	// Holds the keys directory's lock: another plan, or a server's
	// auto-plan, must not generate keys meanwhile.
	sched, applied, err := keystore.PlanChains(*keysDir, zoneName, c, pol, start, until)
	if err != nil {
		return fmt.Errorf("plan: %v", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ZSK\tSTATE\tPUBLISH\tACTIVATE\tINACTIVE\tDELETE\tFILE")
	for _, a := range applied {
		if a.State == "dropped" {
			continue
		}
		k, t := a.Key, a.Key.Timers
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Tag(), a.State, stamp(t.Publish), stamp(t.Activate), stamp(t.Inactive), stamp(t.Delete), k.Base)
		for _, n := range a.Notes {
			fmt.Fprintf(tw, "\t  note: %s\t\t\t\t\t\n", n)
		}
	}
	tw.Flush()
	keys := keystore.Keys(applied)
	if *foreignDir != "" {
		foreign, err := keystore.ReadForeign(*foreignDir, zoneName)
		if err != nil {
			return fmt.Errorf("plan: -foreign %s: %w", *foreignDir, err)
		}
		keys = append(keys, foreign...) // KSKs among them are skipped: sign-ksr -foreign adds those
	}

	ksr, err := keystore.BuildKSRResign(zoneName, keys, sched.Start, sched.End, pol.DNSKEYTTL, layout, start, resign)
	if err != nil {
		return fmt.Errorf("plan: %v", err)
	}
	ksr.File = *out
	changed, err := keystore.WriteKSRFile(*out, ksr)
	if err != nil {
		return err
	}
	state := map[bool]string{true: "wrote", false: "unchanged"}[changed]
	every := "at the key events only"
	if resign > 0 {
		every = "at the key events and at least every " + formatDuration(resign)
	}
	fmt.Fprintf(stdout, "KSR %s (%s): %s layout, %d slots from %s to %s, %s\n", *out, state, layout, len(ksr.Slots), stamp(sched.Start), stamp(sched.End), every)
	fmt.Fprintf(stdout, "coverage: one ZSK active at every instant from %s to %s (asked: until %s); Ipub %s, Iret %s\n",
		stamp(start), stamp(sched.End), stamp(until), formatDuration(pol.Ipub()), formatDuration(pol.Iret()))
	return nil
}

// stamp formats a time as RFC 3339 UTC, "-" when unset.
func stamp(t time.Time) string { return timeline.Stamp(t) }
