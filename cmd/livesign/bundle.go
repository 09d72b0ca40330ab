package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

const bundleHelp = `
The offline KSK side of the classic flow: read the KSK(s) of ZONE (with their
.private files) from the -ksk directory and the ZSK public keys (.key files
only) from the -zsk directory, sign the DNSKEY RRset (all of them) with every
active KSK, check the result, and write it to -out (mode 0644) as zone-file
lines: the DNSKEYs, then the RRSIG(s). Copy that file to the livesign servers
as their bundle. Durations are Go durations plus d (days) and w (weeks).

All keys must have one algorithm, the KSK's: every algorithm in the DNSKEY
set must sign every RRset (RFC 4035 §2.2) and livesign signs the zone data
with the ZSK alone, so a ZSK (or KSK) of another algorithm is refused and
nothing is written. A -validity shorter than the -ttl is warned about. -out
is replaced atomically: on any error an existing file there is left as it was.`

func bundle(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bundle", "livesign bundle -ksk DIR -zsk DIR -zone ZONE -out FILE [-validity 90d] [-inception -1h] [-ttl 3600]", bundleHelp)
	kskDir := fs.String("ksk", "", "directory with the KSK key files (.key and .private)")
	zskDir := fs.String("zsk", "", "directory with the ZSK .key files")
	zone := fs.String("zone", "", "zone name, e.g. example.net")
	out := fs.String("out", "", "bundle file to write")
	validityFlag := fs.String("validity", "90d", "signature validity, counted from now")
	inceptionFlag := fs.String("inception", "-1h", "signature inception, relative to now")
	ttl := fs.Uint("ttl", 3600, "TTL of the DNSKEY RRset")
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageErrorf(fs, "bundle: unexpected argument %q", pos[0])
	case *kskDir == "", *zskDir == "", *zone == "", *out == "":
		return usageErrorf(fs, "bundle: -ksk, -zsk, -zone and -out are required")
	case *ttl == 0 || *ttl > 1<<31-1:
		return usageErrorf(fs, "bundle: -ttl %d is out of range", *ttl)
	}
	validity, err := keystore.ParseDuration(*validityFlag)
	if err != nil || validity <= 0 {
		return usageErrorf(fs, "bundle: -validity %q: give a positive duration such as 90d", *validityFlag)
	}
	incOffset, err := keystore.ParseDuration(*inceptionFlag)
	if err != nil {
		return usageErrorf(fs, "bundle: -inception: %v", err)
	}
	zoneName := dns.CanonicalName(*zone)
	t := now().UTC().Truncate(time.Second)
	inception, expiration := t.Add(incOffset), t.Add(validity)
	if !expiration.After(inception) {
		return usageErrorf(fs, "bundle: the signatures would expire (%s) before their inception (%s)", expiration.Format(time.RFC3339), inception.Format(time.RFC3339))
	}

	if validity < time.Duration(*ttl)*time.Second {
		fmt.Fprintf(stderr, "livesign: warning: -validity %s is shorter than the DNSKEY TTL (-ttl %d, %s): validators cache the DNSKEY RRset for up to the TTL, "+
			"longer than its signatures live, and answers stop validating once they expire; give a -validity of days (default 90d) or a smaller -ttl\n",
			*validityFlag, *ttl, shortDuration(time.Duration(*ttl)*time.Second))
	}
	if err := needDir("bundle", "-ksk", *kskDir, "the directory with the KSK files of "+zoneName+" (K<zone>+<alg>+<tag>.key and .private)"); err != nil {
		return err
	}
	if err := needDir("bundle", "-zsk", *zskDir, "the directory with the ZSK .key files of "+zoneName); err != nil {
		return err
	}

	signers, otherKSKs, err := readKSKs(*kskDir, zoneName, t)
	if err != nil {
		return err
	}
	zsks, err := readZSKs(*zskDir, zoneName)
	if err != nil {
		return err
	}
	// Every algorithm of the set signs every RRset (RFC 4035 §2.2): a KSK
	// and a ZSK of each; two algorithms only while one rolls to the other.
	if err := keystore.CheckSetAlgorithms(zoneName, signers, append(append([]*keystore.Key{}, otherKSKs...), zsks...)); err != nil {
		return fmt.Errorf("bundle: %v", strings.TrimPrefix(err.Error(), "keystore: "))
	}
	var keys, zskKeys []*dns.DNSKEY
	for _, k := range otherKSKs {
		keys = append(keys, k.DNSKEY)
	}
	for _, k := range zsks {
		keys = append(keys, k.DNSKEY)
		zskKeys = append(zskKeys, k.DNSKEY)
	}
	slot, err := keystore.SignDNSKEYs(zoneName, signers, keys, uint32(*ttl), inception, expiration)
	if err != nil {
		return err
	}
	text := keystore.FormatSlot(slot)

	// Check the output the way the plugin will load it.
	b, err := keystore.ParseBundle(bytes.NewReader(text), *out, zoneName)
	if err != nil {
		return fmt.Errorf("bundle: the bundle just made does not parse (a bug): %v", err)
	}
	anchor := &keystore.Anchor{File: *kskDir}
	for _, k := range signers {
		anchor.Keys = append(anchor.Keys, k.DNSKEY)
	}
	checkAt := t
	if inception.After(t) {
		checkAt = inception
	}
	if _, err := keystore.CheckSlot(&b.Slots[0], zoneName, zskKeys, anchor, checkAt); err != nil {
		return fmt.Errorf("bundle: the bundle just made does not check (a bug): %v", err)
	}
	if err := keystore.WriteFileAtomic(*out, text, 0o644); err != nil {
		return err
	}

	fmt.Fprintf(stderr, "livesign: wrote %s: DNSKEY RRset of %s (%d keys, TTL %d)\n", *out, zoneName, len(slot.DNSKEY), *ttl)
	for _, k := range signers {
		fmt.Fprintf(stderr, "  KSK %5d %-16s signed the set\n", k.Tag(), dns.AlgorithmToString[k.DNSKEY.Algorithm])
	}
	for _, k := range otherKSKs {
		fmt.Fprintf(stderr, "  KSK %5d %-16s published, not active: did not sign\n", k.Tag(), dns.AlgorithmToString[k.DNSKEY.Algorithm])
	}
	for _, k := range zsks {
		fmt.Fprintf(stderr, "  ZSK %5d %s\n", k.Tag(), dns.AlgorithmToString[k.DNSKEY.Algorithm])
	}
	fmt.Fprintf(stderr, "  valid from %s to %s (%s)\n", inception.Format(time.RFC3339), expiration.Format(time.RFC3339), formatDuration(validity))
	return nil
}

// shortDuration prints d as Go does without zero minutes and seconds: 1h, 90m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// formatDuration prints whole days as "90d", anything else as Go does.
func formatDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// readKSKs reads the KSKs of zone in dir: the ones active at t (with their
// private keys) sign; the ones only published at t are in the set unsigned-by.
// ZSK files in dir are ignored, so their .private files are never read.
func readKSKs(dir, zone string, t time.Time) (signers, published []*keystore.Key, err error) {
	ksks, err := keystore.ReadKeys(dir, keystore.Selection{Zone: zone, Role: keystore.KSKRole, Private: keystore.PrivateRequired, SigningAt: t})
	if err != nil {
		return nil, nil, err
	}
	var inactive []string
	for _, p := range ksks {
		switch {
		case p.ActiveAt(t):
			signers = append(signers, p)
		case p.PublishedAt(t):
			published = append(published, p)
			inactive = append(inactive, fmt.Sprintf("%d (Activate %s)", p.Tag(), p.Timers.Activate.UTC().Format(time.RFC3339)))
		default:
			inactive = append(inactive, fmt.Sprintf("%d (Publish %s, Activate %s)", p.Tag(), p.Timers.Publish.UTC().Format(time.RFC3339), p.Timers.Activate.UTC().Format(time.RFC3339)))
		}
	}
	if len(signers) == 0 {
		if len(inactive) > 0 {
			return nil, nil, fmt.Errorf("bundle: no KSK of %s in %s is active at %s: KSK %v: fix the key timers or wait", zone, dir, t.Format(time.RFC3339), inactive)
		}
		return nil, nil, fmt.Errorf("bundle: no KSK of %s in %s (K%s+*.key with flags 257 and its .private)%s: make one with livesign keygen -ksk, or point -ksk at the directory that holds it", zone, dir, zone, otherZones(dir, zone))
	}
	return signers, published, nil
}

// readZSKs reads the ZSK public keys of zone in dir.
func readZSKs(dir, zone string) ([]*keystore.Key, error) {
	zsks, err := keystore.ReadKeys(dir, keystore.Selection{Zone: zone, Role: keystore.ZSKRole})
	if err != nil {
		return nil, err
	}
	if len(zsks) == 0 {
		return nil, fmt.Errorf("bundle: no ZSK of %s in %s (K%s+*.key with flags 256)%s: make one with livesign keygen -zsk on the signer side and copy its .key file here", zone, dir, zone, otherZones(dir, zone))
	}
	return zsks, nil
}
