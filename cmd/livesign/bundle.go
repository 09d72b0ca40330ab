package main

import (
	"bytes"
	"fmt"
	"io"
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
as their bundle. Durations are Go durations plus d (days) and w (weeks).`

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

	signers, otherKSKs, err := readKSKs(*kskDir, zoneName, t)
	if err != nil {
		return err
	}
	zsks, err := readZSKs(*zskDir, zoneName)
	if err != nil {
		return err
	}
	keys := append(append([]*dns.DNSKEY{}, otherKSKs...), zsks...)
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
	if _, err := keystore.CheckSlot(&b.Slots[0], zoneName, zsks, anchor, checkAt); err != nil {
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
		fmt.Fprintf(stderr, "  KSK %5d %-16s published, not active: did not sign\n", k.KeyTag(), dns.AlgorithmToString[k.Algorithm])
	}
	for _, k := range zsks {
		fmt.Fprintf(stderr, "  ZSK %5d %s\n", k.KeyTag(), dns.AlgorithmToString[k.Algorithm])
	}
	fmt.Fprintf(stderr, "  valid from %s to %s (%s)\n", inception.Format(time.RFC3339), expiration.Format(time.RFC3339), formatDuration(validity))
	return nil
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
func readKSKs(dir, zone string, t time.Time) (signers []*keystore.Key, published []*dns.DNSKEY, err error) {
	pubs, err := keystore.ReadPublicKeyDir(dir, zone)
	if err != nil {
		return nil, nil, err
	}
	var inactive []string
	for _, p := range pubs {
		if !p.IsKSK() {
			continue
		}
		switch {
		case p.ActiveAt(t):
			k, err := keystore.ReadKey(p.Base)
			if err != nil {
				return nil, nil, err
			}
			signers = append(signers, k)
		case p.PublishedAt(t):
			published = append(published, p.DNSKEY)
			inactive = append(inactive, fmt.Sprintf("%d (Activate %s)", p.Tag(), p.Timers.Activate.UTC().Format(time.RFC3339)))
		default:
			inactive = append(inactive, fmt.Sprintf("%d (Publish %s, Activate %s)", p.Tag(), p.Timers.Publish.UTC().Format(time.RFC3339), p.Timers.Activate.UTC().Format(time.RFC3339)))
		}
	}
	if len(signers) == 0 {
		if len(inactive) > 0 {
			return nil, nil, fmt.Errorf("bundle: no KSK of %s in %s is active at %s: KSK %v: fix the key timers or wait", zone, dir, t.Format(time.RFC3339), inactive)
		}
		return nil, nil, fmt.Errorf("bundle: no KSK of %s in %s (K%s+*.key with flags 257 and its .private): make one with livesign keygen -ksk", zone, dir, zone)
	}
	return signers, published, nil
}

// readZSKs reads the ZSK public keys of zone in dir.
func readZSKs(dir, zone string) ([]*dns.DNSKEY, error) {
	pubs, err := keystore.ReadPublicKeyDir(dir, zone)
	if err != nil {
		return nil, err
	}
	var zsks []*dns.DNSKEY
	for _, p := range pubs {
		if !p.IsKSK() {
			zsks = append(zsks, p.DNSKEY)
		}
	}
	if len(zsks) == 0 {
		return nil, fmt.Errorf("bundle: no ZSK of %s in %s (K%s+*.key with flags 256): make one with livesign keygen -zsk on the signer side and copy its .key file here", zone, dir, zone)
	}
	return zsks, nil
}
