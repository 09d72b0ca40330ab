package main

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
	"github.com/miekg/dns"
)

const checkHelp = `
Check a bundle (a single signed DNSKEY RRset, a BIND 9.20 SKR or a Knot SKR)
against the ZSKs of -keys the way the livesign plugin loads them, at TIME
(default now): print the slots (start, DNSKEY tags, RRSIG validity, the ZSK
that signs), the rollover timeline of the ZSKs and the coverage: the time
from TIME to the first instant at which the slot in force (the last one
started) has no valid DNSKEY signature, a gap between two slots or the end
of the last slot's RRSIGs.

Exit status: 0 all good; 1 a problem the server would refuse or trip over
(a slot that does not verify or is not valid at TIME, a ZSK whose timers
disagree with a slot, no ZSK to sign with, a gap between slots with no valid
DNSKEY signature, coverage already over); 2 only a warning: the coverage is
below -warn-coverage, so sign a new SKR soon.
Without -keys only the bundle itself is checked.

With -ksk DIR instead of -bundle (and -zone), check the online-KSK mode:
the KSKs of DIR sign the DNSKEY set as the plugin's ksk directive does; the
KSK and ZSK timelines and the signer at TIME are printed, and there is no
coverage to run out.

-foreign DIR (the server's foreign-keys directory, multi-signer) notes every
slot that lacks one of the other providers' keys.

-svg FILE draws the timeline over the period the bundle covers (for an
online KSK: from TIME to the last key event): a lane per key with its
published, active, inactive and removed stretches, the slots with their
DNSKEY RRSIG validity (gaps without a valid signature in red), the signing
ZSK of each algorithm, the -at time and when to act (sign the next KSR at
the end of the coverage minus -warn-coverage; the parent's DS deadline for a
new KSK). -html FILE writes a page with the same picture and this report.
Both are written whatever the exit status, once the files have been read.

TIME is YYYYMMDDHHMMSS (UTC), RFC 3339 or +DURATION from now.`

// exitError ends the command with a given exit status after its message.
type exitError struct {
	code int
	msg  string
}

// Error returns the message.
func (e *exitError) Error() string { return e.msg }

func check(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", "livesign check (-bundle FILE | -ksk DIR -zone ZONE) [-keys DIR] [-trust-anchor FILE] [-foreign DIR] [-at TIME] [-zone ZONE] [-warn-coverage 14d] [-svg FILE] [-html FILE]", checkHelp)
	keysDir := fs.String("keys", "", "directory of the ZSK key files (with .private)")
	bundleFile := fs.String("bundle", "", "bundle or SKR to check")
	kskDir := fs.String("ksk", "", "online-KSK mode: directory of the KSK key files (with .private), as the plugin's ksk directive; needs -zone, no -bundle")
	anchorFile := fs.String("trust-anchor", "", "DS or DNSKEY of the KSK (default: trust the bundle's KSK)")
	atFlag := fs.String("at", "", "check at this TIME instead of now")
	zone := fs.String("zone", "", "zone name (default: the owner of the bundle's DNSKEYs)")
	warnFlag := fs.String("warn-coverage", "14d", "warn (exit 2) when the bundle covers less than this")
	ttlFlag := fs.String("dnskey-ttl", "1h", "dnskey-ttl directive of the server")
	propFlag := fs.String("propagation-delay", "5m", "propagation-delay directive of the server")
	foreignDir := fs.String("foreign", "", "foreign-keys directive of the server: the other providers' keys every slot should hold (multi-signer)")
	svgFile := fs.String("svg", "", "also draw the timeline as an SVG picture into FILE")
	htmlFile := fs.String("html", "", "also write an HTML page with the picture and this report into FILE")
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageErrorf(fs, "check: unexpected argument %q", pos[0])
	case *bundleFile != "" && *kskDir != "":
		return usageErrorf(fs, "check: give -bundle (a KSK signing offline) or -ksk (an online KSK), not both")
	case *bundleFile == "" && *kskDir == "":
		return usageErrorf(fs, "check: -bundle is required (or -ksk DIR and -zone for an online KSK)")
	case *kskDir != "" && *zone == "":
		return usageErrorf(fs, "check: -ksk needs -zone")
	}
	at := now().UTC().Truncate(time.Second)
	if *atFlag != "" {
		if at, err = parseTime(*atFlag, at); err != nil {
			return usageErrorf(fs, "check: -at: %v", err)
		}
	}
	warn, err := positiveDuration("warn-coverage", *warnFlag)
	if err != nil {
		return usageErrorf(fs, "check: %v", err)
	}
	in := timeline.Inputs{Policy: keystore.DefaultPolicy()}
	if in.Policy.DNSKEYTTL, err = positiveDuration("dnskey-ttl", *ttlFlag); err != nil {
		return usageErrorf(fs, "check: %v", err)
	}
	if in.Policy.PropagationDelay, err = positiveDuration("propagation-delay", *propFlag); err != nil {
		return usageErrorf(fs, "check: %v", err)
	}
	var report bytes.Buffer // what the HTML page shows: the output and the problems
	if *htmlFile != "" {
		stdout, stderr = io.MultiWriter(stdout, &report), io.MultiWriter(stderr, &report)
	}
	c := checkRun{keysDir: *keysDir, bundleFile: *bundleFile, kskDir: *kskDir, anchorFile: *anchorFile, foreignDir: *foreignDir, zone: *zone, at: at, warn: warn, in: in}
	pic, err := c.run(stdout, stderr)
	if pic == nil || *svgFile == "" && *htmlFile == "" {
		return err
	}
	if err != nil {
		fmt.Fprintf(&report, "livesign: %v\n", err)
	}
	if perr := writePictures(pic, *svgFile, *htmlFile, report.String()); perr != nil {
		if err != nil {
			fmt.Fprintf(stderr, "livesign: %v\n", err)
		}
		return perr
	}
	return err
}

// checkRun is what check checks: the files named by its flags and the
// instant.
type checkRun struct {
	keysDir, bundleFile, kskDir, anchorFile, foreignDir, zone string
	at                                                        time.Time
	warn                                                      time.Duration
	in                                                        timeline.Inputs
}

// run reads the files, prints the report to stdout (problems but the last
// to stderr) and returns the error that ends check (nil: OK) and, once the
// timeline is made, what the picture is drawn from.
func (c *checkRun) run(stdout, stderr io.Writer) (*pictureInput, error) {
	in, at, err := c.in, c.at, error(nil)
	zoneName := c.zone
	if zoneName == "" {
		keys, err := keystore.ReadDNSKEYs(c.bundleFile, "")
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("check: %s holds no DNSKEY record: not a bundle; give -zone to see why it does not load", c.bundleFile)
		}
		zoneName = keys[0].Hdr.Name
	}
	in.Zone = dns.CanonicalName(zoneName)
	var problems []string
	if c.kskDir != "" {
		if in.KSKs, problems, err = readCheckKeys(c.kskDir, in.Zone, keystore.KSKRole); err != nil {
			return nil, err
		}
		if len(in.KSKs) == 0 {
			return nil, &exitError{1, "check: " + problems[len(problems)-1]}
		}
	} else if in.Bundle, err = keystore.ReadBundle(c.bundleFile, in.Zone); err != nil {
		return nil, err
	}
	if c.anchorFile != "" {
		if in.Anchor, err = keystore.ReadAnchor(c.anchorFile, in.Zone); err != nil {
			return nil, err
		}
	}
	if c.foreignDir != "" {
		if in.Foreign, err = keystore.ReadForeign(c.foreignDir, in.Zone); err != nil {
			return nil, fmt.Errorf("check: -foreign %s: %w", c.foreignDir, err)
		}
	}
	if c.keysDir != "" {
		var zp []string
		if in.ZSKs, zp, err = readCheckKeys(c.keysDir, in.Zone, keystore.ZSKRole); err != nil {
			return nil, err
		}
		problems = append(problems, zp...)
	} else if c.kskDir != "" {
		problems = append(problems, "-ksk needs -keys: an online KSK signs a DNSKEY set only with a ZSK of its algorithm published")
	}
	// As the plugin loads them: one algorithm for all keys (two while one rolls).
	ksks := in.KSKs
	if in.Bundle != nil {
		ksks = in.Bundle.KSKs()
	}
	if c.keysDir != "" {
		if err := keystore.CheckAlgorithms(in.Zone, append(append([]*keystore.Key{}, ksks...), in.ZSKs...)); err != nil {
			problems = append(problems, err.Error())
		}
	}
	tl, err := timeline.New(in)
	if err != nil {
		return nil, err
	}
	pic := &pictureInput{TL: tl, At: at, Warn: c.warn}
	if tl.Bundle() != nil {
		fmt.Fprintf(stdout, "zone %s, bundle %s (%s), checked at %s\n", tl.Zone(), c.bundleFile, bundleKind(tl.Bundle()), stamp(at))
		pic.Source = "bundle " + c.bundleFile
	} else {
		fmt.Fprintf(stdout, "zone %s, online KSK in %s (%d KSKs), checked at %s\n", tl.Zone(), c.kskDir, len(tl.KSKs()), stamp(at))
		pic.Source = "online KSK in " + c.kskDir
	}
	if tl.Anchor() == nil {
		whose := "the bundle's own KSK is"
		if tl.Bundle() == nil {
			whose = "the KSKs of -ksk are"
		}
		fmt.Fprintf(stdout, "warning: no -trust-anchor: %s trusted\n", whose)
	}
	if tl.Bundle() != nil {
		problems = append(problems, printSlots(stdout, tl, at)...)
	} else {
		printTimeline(stdout, "KSK", tl.KSKs(), at)
	}
	if len(tl.ZSKs()) > 0 {
		printTimeline(stdout, "ZSK", tl.ZSKs(), at)
	}
	checked := true
	if err := tl.Check(at); err != nil { // without keys: each slot's signatures
		problems = append(problems, err.Error())
		checked = false
	}
	for _, n := range tl.Notes(at) {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	if due, ksks, ok := tl.DSDeadline(at); ok {
		fmt.Fprintf(stdout, "parent DS: from %s the DNSKEY sets are signed only by KSK %s, which the trust anchor does not name: the parent must publish %s before then, and the trust-anchor file list it; until then the server keeps serving the last set the anchored KSK signed\n",
			stamp(due), kskTags(ksks), dsText(ksks))
		pic.DSDeadline, pic.DSKSKs = due, ksks
	}
	if len(tl.ZSKs()) > 0 {
		if ks, err := tl.At(at); err != nil {
			if checked { // else Check said it already
				problems = append(problems, err.Error())
			}
		} else {
			fmt.Fprintf(stdout, "signing at %s: ZSK %s\n", stamp(at), ks.Signers())
		}
	}
	if tl.Bundle() == nil {
		fmt.Fprintf(stdout, "coverage: unlimited (the online KSK signs the DNSKEY set as needed)\n")
		return pic, endCheck(problems, stderr, stdout)
	}
	gap := tl.Bundle().FirstGap(at)
	end := gap.Start
	if gap.Slot > 0 && !end.After(at) {
		if _, exp, ok := tl.Bundle().Slots[gap.Slot-1].Validity(); ok && !exp.After(at) {
			end = exp // over already: say since when
		}
		if gap.Inner() {
			gap.Start = end
		}
	}
	pic.CoverageEnd = end
	cover := end.Sub(at)
	fmt.Fprintf(stdout, "coverage: %s (until %s)\n", formatSpan(cover), stamp(end))
	for g, n := gap, 0; g.Inner(); g, n = tl.Bundle().FirstGap(g.End), n+1 {
		if n == 10 {
			fmt.Fprintf(stdout, "gap: ... (more)\n")
			break
		}
		fmt.Fprintf(stdout, "gap: %s to %s (%s) without a valid DNSKEY signature, after slot %d\n", stamp(g.Start), stamp(g.End), formatSpan(g.End.Sub(g.Start)), g.Slot)
	}
	switch {
	case gap.Inner():
		problems = append(problems, gapProblem(tl.Bundle(), gap))
	case cover <= 0 && gap.Slot == 0:
		problems = append(problems, fmt.Sprintf("no slot of the bundle is in force at %s: its first slot starts at %s", stamp(at), stamp(tl.Bundle().Slots[0].Start)))
	case cover <= 0:
		if tl.Bundle().SKR {
			problems = append(problems, fmt.Sprintf("the bundle's last signatures expired at %s: sign a new SKR (livesign plan, then sign-ksr on the KSK side) and install it", stamp(end)))
		} else {
			problems = append(problems, fmt.Sprintf("the bundle's signatures expired at %s: sign the DNSKEY RRset again on the KSK side (livesign bundle) and install it", stamp(end)))
		}
	}
	if len(problems) == 0 && cover < c.warn {
		todo := "run livesign plan and have the KSK side sign the KSR now, then install the new SKR"
		if !tl.Bundle().SKR {
			todo = "have the KSK side sign the DNSKEY RRset again (livesign bundle) now, then install it"
		}
		return pic, &exitError{2, fmt.Sprintf("check: warning: the bundle covers only %s (until %s), less than -warn-coverage %s: %s", formatSpan(cover), stamp(end), formatDuration(c.warn), todo)}
	}
	return pic, endCheck(problems, stderr, stdout)
}

// endCheck prints every problem but the last to stderr and returns the last
// as the error that ends check with status 1; with none it prints OK.
func endCheck(problems []string, stderr, stdout io.Writer) error {
	if len(problems) > 0 {
		for _, p := range problems[:len(problems)-1] {
			fmt.Fprintf(stderr, "livesign: check: %s\n", p)
		}
		return &exitError{1, "check: " + problems[len(problems)-1]}
	}
	fmt.Fprintln(stdout, "OK")
	return nil
}

// gapProblem explains a gap between two slots of a bundle and what to do.
func gapProblem(b *keystore.Bundle, g keystore.Gap) string {
	what := "before the first slot"
	if g.Slot > 0 {
		s := &b.Slots[g.Slot-1]
		what = fmt.Sprintf("slot %d (%s) is in force then but its DNSKEY RRSIGs are valid only %s", g.Slot, stamp(s.Start), slotValidity(s))
	}
	return fmt.Sprintf("the SKR has a gap from %s to %s (%s) with no valid DNSKEY signature: %s, and the next valid ones are slot %d's (start %s): "+
		"validators would get expired DNSKEY signatures and the zone would go bogus; re-sign: with Knot's keymgr sign-ksr set the policy's rrsig-lifetime longer than the spacing of the KSR records "+
		"(or rrsig-refresh so that keymgr re-signs in between), or make the KSR again with livesign plan -format knot and a shorter -resign; then sign it again and install the new SKR",
		stamp(g.Start), stamp(g.End), formatSpan(g.End.Sub(g.Start)), what, g.Next, stamp(b.Slots[g.Next-1].Start))
}

// slotValidity describes when all of a slot's RRSIGs are valid, e.g.
// "from 2026-11-23T16:52:22Z to 2026-12-07T18:22:22Z".
func slotValidity(s *keystore.Slot) string {
	inc, exp, ok := s.Validity()
	if !ok {
		return "never (no RRSIG over DNSKEY)"
	}
	return fmt.Sprintf("from %s to %s", stamp(inc), stamp(exp))
}

// readCheckKeys reads the keys of role (ZSKs of -keys, KSKs of -ksk) of
// zone in dir; a key without its private key is reported as a problem (the
// server could not sign with it).
func readCheckKeys(dir, zone string, role keystore.Role) ([]*keystore.Key, []string, error) {
	keys, err := keystore.ReadKeys(dir, keystore.Selection{Zone: zone, Role: role, Private: keystore.PrivateWhereReadable})
	var problems []string
	if errs, ok := keystore.IsPrivateKeyErrors(err); ok {
		for _, e := range errs {
			problems = append(problems, e.Error())
		}
	} else if err != nil {
		return nil, nil, err
	}
	switch {
	case len(keys) == 0 && role == keystore.KSKRole:
		problems = append(problems, fmt.Sprintf("no KSK (flags 257) of %s in %s: the online KSK has nothing to sign the DNSKEY set with; create one with livesign keygen -zone %s -ksk -dir %s", zone, dir, zone, dir))
	case len(keys) == 0:
		problems = append(problems, fmt.Sprintf("no ZSK of %s in %s: the server has nothing to sign with; run livesign plan -keys %s", zone, dir, dir))
	}
	return keys, problems, nil
}

// bundleKind names the kind of bundle.
func bundleKind(b *keystore.Bundle) string {
	if b.SKR {
		return fmt.Sprintf("SKR, %d slots", len(b.Slots))
	}
	return "single signed DNSKEY RRset"
}

// printSlots prints one line per slot: start, DNSKEY tags, RRSIG validity and
// the signing ZSK(s) while the slot is in force; past slots are marked.
func printSlots(w io.Writer, tl *timeline.Timeline, at time.Time) []string {
	var problems []string
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SLOT\tSTART\tDNSKEY\tRRSIG VALIDITY\tSIGNING ZSK")
	slots := tl.Bundle().Slots
	for i := range slots {
		s := &slots[i]
		next := time.Time{}
		if i+1 < len(slots) {
			next = slots[i+1].Start
		}
		mark := ""
		switch {
		case !next.IsZero() && !next.After(at):
			mark = " (past)"
		case !s.Start.After(at):
			mark = " (in force)"
		}
		var keys []string
		for _, k := range s.DNSKEY {
			role := "Z"
			if k.Flags&dns.SEP != 0 {
				role = "K"
			}
			keys = append(keys, fmt.Sprintf("%d%s", k.KeyTag(), role))
		}
		sort.Strings(keys)
		var signed []string // every KSK that signs the slot
		for _, sig := range s.RRSIGs {
			if sig.TypeCovered == dns.TypeDNSKEY {
				by := fmt.Sprintf("%s..%s by %d", keystore.SigTime(sig.Inception, s.Start).Format("2006-01-02T15:04"), keystore.SigTime(sig.Expiration, s.Start).Format("2006-01-02T15:04"), sig.KeyTag)
				if keystore.Orphan(sig, s.DNSKEY) {
					by += " (not in the set: not served)"
				}
				signed = append(signed, by)
			}
		}
		validity := strings.Join(signed, ", ")
		signer := "-"
		if len(tl.ZSKs()) > 0 && mark != " (past)" {
			signer = slotSigners(tl, s.Start, next, at)
		}
		fmt.Fprintf(tw, "%d%s\t%s\t%s\t%s\t%s\n", i+1, mark, stamp(s.Start), strings.Join(keys, " "), validity, signer)
	}
	tw.Flush()
	return problems
}

// slotSigners lists the ZSKs that sign while a slot is in force (from its
// start, or at, to the next slot), e.g. "7181, 17577 from 2026-12-01T00:00:00Z".
func slotSigners(tl *timeline.Timeline, from, next, at time.Time) string {
	if from.Before(at) {
		from = at
	}
	var out []string
	last := ""
	for t, n := from, 0; n < 20 && (next.IsZero() || t.Before(next)); n++ {
		ks, err := tl.At(t)
		if err != nil {
			out = append(out, "error: "+firstClause(err.Error()))
			break
		}
		if ks.Signers() != last {
			s := ks.Signers()
			if len(out) > 0 {
				s += " from " + stamp(t)
			}
			if ks.Fallback {
				s += " (fallback: no successor ready)"
			}
			out = append(out, s)
			last = ks.Signers()
		}
		if !ks.Until.After(t) || next.IsZero() && ks.Until.After(t.Add(400*24*time.Hour)) {
			break
		}
		t = ks.Until
	}
	return strings.Join(out, ", ")
}

// firstClause shortens an error message to its first part.
func firstClause(s string) string {
	if i := strings.Index(s, ": "); i > 0 && i < len(s)-2 {
		if j := strings.Index(s[i+2:], ": "); j > 0 {
			return s[:i+2+j]
		}
	}
	return s
}

// printTimeline prints the timers of keys of role ("KSK", "ZSK") as an
// aligned table, by activation.
func printTimeline(w io.Writer, role string, zsks []*keystore.Key, at time.Time) {
	keys := append([]*keystore.Key{}, zsks...)
	act := func(k *keystore.Key) time.Time {
		if !k.Timers.Activate.IsZero() {
			return k.Timers.Activate
		}
		return k.Timers.Created
	}
	sort.SliceStable(keys, func(i, j int) bool { return act(keys[i]).Before(act(keys[j])) })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, role+"\tCREATED\tPUBLISHED\tACTIVE\tINACTIVE\tDELETED\tNOW")
	for _, k := range keys {
		t := k.Timers
		state := "not published"
		switch {
		case k.ActiveAt(at) && k.PublishedAt(at):
			state = "active"
		case k.PublishedAt(at) && act(k).After(at):
			state = "published"
		case k.PublishedAt(at):
			state = "retired"
		case !t.Delete.IsZero() && !t.Delete.After(at):
			state = "deleted"
		}
		if k.Signer == nil {
			state += ", no private key"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Tag(), stamp(t.Created), stamp(t.Publish), stamp(t.Activate), stamp(t.Inactive), stamp(t.Delete), state)
	}
	tw.Flush()
}

// formatSpan prints a duration as days and hours, e.g. "165d 0h", or "-2d 3h".
func formatSpan(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	return fmt.Sprintf("%s%dd %dh", sign, d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
}

// kskTags lists the key tags of keys.
func kskTags(keys []*dns.DNSKEY) string {
	tags := make([]string, len(keys))
	for i, k := range keys {
		tags[i] = fmt.Sprint(k.KeyTag())
	}
	return strings.Join(tags, ", ")
}

// dsText writes the SHA-256 DS records of keys.
func dsText(keys []*dns.DNSKEY) string {
	var ds []string
	for _, k := range keys {
		if d := k.ToDS(dns.SHA256); d != nil {
			ds = append(ds, d.String())
		}
	}
	return strings.Join(ds, "; ")
}
