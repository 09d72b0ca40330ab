package main

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

const signKSRHelp = `
The offline KSK side: read a Key Signing Request (from livesign plan, BIND
9.20 dnssec-ksr request or Knot keymgr generate-ksr), check it (well-formed,
one zone, slots in time order, ZSKs of sound algorithms and sizes, no key tag
shared with the KSK), sign every slot's DNSKEY RRset (the KSKs of -ksk plus
the slot's ZSKs) and the KSKs' CDNSKEY and CDS with every KSK active then,
re-signing every VALIDITY-REFRESH between key events, and write the Signed
Key Response to -out (mode 0644) in the layout of the KSR: BIND 9.20's
(dnssec-ksr, rndc skr -import) or Knot's (keymgr import-skr). The SKR is
checked slot by slot before it is written. Hand it to the servers as their
bundle (livesign) or import it (BIND, Knot).

Multi-signer (RFC 8901 model 2): -foreign DIR holds the other providers'
KSKs as .key files; they are published in every slot's DNSKEY set and listed
in its CDS and CDNSKEY (so the parent gets every provider's DS), and never
sign. The other providers' ZSKs come in the KSR (livesign plan -foreign).

TIME is YYYYMMDDHHMMSS (UTC), RFC 3339 or +DURATION from now. Durations are
Go durations plus d (days) and w (weeks).`

func signKSR(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sign-ksr", "livesign sign-ksr -ksk DIR -ksr FILE -out FILE.skr [-validity 14d] [-refresh 5d] [-end TIME] [-foreign DIR]", signKSRHelp)
	kskDir := fs.String("ksk", "", "directory with the KSK key files (.key and .private)")
	ksrFile := fs.String("ksr", "", "the key signing request to sign")
	out := fs.String("out", "", "signed key response file to write")
	zone := fs.String("zone", "", "zone name (default: the KSR's)")
	validityFlag := fs.String("validity", "14d", "RRSIG validity, counted from each slot's start")
	refreshFlag := fs.String("refresh", "5d", "re-sign this long before the RRSIGs expire")
	foreignDir := fs.String("foreign", "", "directory of the other providers' KSKs (.key files) to publish and list in the CDS (multi-signer)")
	endFlag := fs.String("end", "", "sign up to this TIME (default: the last KSR slot; BIND's KSRs have no end slot)")
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageErrorf(fs, "sign-ksr: unexpected argument %q", pos[0])
	case *kskDir == "", *ksrFile == "", *out == "":
		return usageErrorf(fs, "sign-ksr: -ksk, -ksr and -out are required")
	}
	p := keystore.SignPolicy{Generated: now()}
	if p.Validity, err = positiveDuration("validity", *validityFlag); err != nil {
		return usageErrorf(fs, "sign-ksr: %v", err)
	}
	if p.Refresh, err = positiveDuration("refresh", *refreshFlag); err != nil {
		return usageErrorf(fs, "sign-ksr: %v", err)
	}
	if *endFlag != "" {
		if p.End, err = parseTime(*endFlag, now()); err != nil {
			return usageErrorf(fs, "sign-ksr: -end: %v", err)
		}
	}
	if err := needFile("sign-ksr", "-ksr", *ksrFile, "the KSR file (from livesign plan, dnssec-ksr request or keymgr generate-ksr)"); err != nil {
		return err
	}
	if err := needDir("sign-ksr", "-ksk", *kskDir, "the directory with the KSK files (K<zone>+<alg>+<tag>.key and .private)"); err != nil {
		return err
	}
	ksr, err := keystore.ReadKSR(*ksrFile, *zone)
	if err != nil {
		return err
	}
	ksks, err := readAllKSKs(*kskDir, ksr.Zone)
	if err != nil {
		return err
	}
	if *foreignDir != "" {
		foreign, err := keystore.ReadForeign(*foreignDir, ksr.Zone)
		if err != nil {
			return fmt.Errorf("sign-ksr: -foreign %s: %w", *foreignDir, err)
		}
		for _, k := range foreign {
			if k.IsKSK() {
				p.Foreign = append(p.Foreign, k.DNSKEY)
			}
		}
		if len(p.Foreign) == 0 {
			return fmt.Errorf("sign-ksr: -foreign %s: no KSK (flags 257) of %s there: copy the other providers' KSK .key files there", *foreignDir, ksr.Zone)
		}
	}
	b, err := keystore.SignKSR(ksr, ksks, p)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := keystore.WriteSKR(&buf, b, ksr.Layout, ksr.Zone); err != nil {
		return err
	}
	if err := verifySKR(buf.Bytes(), *out, ksr, ksks); err != nil {
		return fmt.Errorf("sign-ksr: the SKR just made does not check (a bug): %v", err)
	}
	if err := keystore.WriteFileAtomic(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	last := b.Slots[len(b.Slots)-1]
	fmt.Fprintf(stderr, "livesign: wrote %s: SKR for %s in %s layout, %d slots from %s to %s (%d KSR slots)\n",
		*out, ksr.Zone, ksr.Layout, len(b.Slots), b.Slots[0].Start.Format(time.RFC3339), last.Start.Format(time.RFC3339), len(ksr.Slots))
	for _, k := range ksks {
		fmt.Fprintf(stderr, "  KSK %5d %-16s %s\n", k.Tag(), dns.AlgorithmToString[k.DNSKEY.Algorithm], k.Base)
	}
	fmt.Fprintf(stderr, "  covered until %s (last slot's RRSIG expiration)\n", last.Start.Add(p.Validity).Format(time.RFC3339))
	return nil
}

// readAllKSKs reads every KSK of zone in dir with its private key; ZSK files
// there are ignored (their .private files are never read).
func readAllKSKs(dir, zone string) ([]*keystore.Key, error) {
	ksks, err := keystore.ReadKeys(dir, keystore.Selection{Zone: zone, Role: keystore.KSKRole, Private: keystore.PrivateRequired})
	if err != nil {
		return nil, err
	}
	if len(ksks) == 0 {
		return nil, fmt.Errorf("no KSK of %s in %s (K%s+*.key with flags 257 and its .private)%s: make one with livesign keygen -ksk, or point -ksk at the directory that holds it", zone, dir, zone, otherZones(dir, zone))
	}
	return ksks, nil
}

// verifySKR parses text as the plugin will and checks every slot at its
// start with the KSKs as trust anchor, and that it carries the KSR's ZSKs.
func verifySKR(text []byte, file string, ksr *keystore.KSR, ksks []*keystore.Key) error {
	b, err := keystore.ParseBundle(bytes.NewReader(text), file, ksr.Zone)
	if err != nil {
		return err
	}
	a := &keystore.Anchor{File: "the KSKs"}
	for _, k := range ksks {
		a.Keys = append(a.Keys, k.DNSKEY)
	}
	j := 0
	for i := range b.Slots {
		s := &b.Slots[i]
		for j+1 < len(ksr.Slots) && !ksr.Slots[j+1].Start.After(s.Start) {
			j++
		}
		if _, err := keystore.CheckSlot(s, ksr.Zone, nil, a, s.Start); err != nil {
			return fmt.Errorf("slot %d (%s): %v", i+1, s.Start.Format(time.RFC3339), err)
		}
		for _, z := range ksr.Slots[j].DNSKEY {
			found := false
			for _, k := range s.DNSKEY {
				found = found || (k.PublicKey == z.PublicKey && k.Flags == z.Flags && k.Algorithm == z.Algorithm)
			}
			if !found {
				return fmt.Errorf("slot %d (%s): ZSK %d of the KSR is missing", i+1, s.Start.Format(time.RFC3339), z.KeyTag())
			}
		}
	}
	return nil
}
