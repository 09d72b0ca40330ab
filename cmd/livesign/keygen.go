package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

const keygenHelp = `
Generate a key pair for ZONE in DIR as BIND key files (K<zone>+<alg>+<tag>.key
and .private, mode 0600) with a Created timer, and print the names of the
files written, one per line. DIR is created (mode 0700) if missing. A key whose tag is
already used by a key of the zone in DIR is discarded and generated again.
Give both -ksk and -zsk to make one of each. File names have the zone in
lower case, as BIND's. Make the ZSKs with the KSK's -algorithm: every
algorithm in a DNSKEY set needs a KSK and a ZSK (RFC 4035 §2.2), and keygen
warns when DIR then lacks one. Two algorithms are for an algorithm roll: a
KSK of the new one, then livesign plan -algorithm (offline KSK) or the
algorithm directive with auto-plan (online KSK) makes its ZSKs.

-publish, -activate, -inactive and -delete set the key's timers, as BIND's
dnssec-keygen -P -A -I -D do: a KSK that must sign a KSR from a time before
now (its first slot) gets -publish and -activate at or before that time.
TIME is YYYYMMDDHHMMSS (UTC), RFC 3339, now, or +DURATION / -DURATION from
now. Without them a key is published and active since it was created.`

func keygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keygen", "livesign keygen -zone ZONE (-ksk|-zsk) [-algorithm ECDSAP256SHA256] [-publish TIME] [-activate TIME] [-inactive TIME] [-delete TIME] -dir DIR", keygenHelp)
	zone := fs.String("zone", "", "zone name, e.g. example.net")
	ksk := fs.Bool("ksk", false, "generate a key-signing key (flags 257)")
	zsk := fs.Bool("zsk", false, "generate a zone-signing key (flags 256)")
	algName := fs.String("algorithm", "ECDSAP256SHA256", "ECDSAP256SHA256, ECDSAP384SHA384, ED25519 or RSASHA256, or the algorithm number")
	dir := fs.String("dir", "", "directory for the key files")
	timerFlags := []struct {
		name string
		val  *string
	}{
		{"publish", fs.String("publish", "", "Publish timer: the key is in the DNSKEY set from TIME")},
		{"activate", fs.String("activate", "", "Activate timer: the key signs from TIME")},
		{"inactive", fs.String("inactive", "", "Inactive timer: the key stops signing at TIME")},
		{"delete", fs.String("delete", "", "Delete timer: the key leaves the DNSKEY set at TIME")},
	}
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageErrorf(fs, "keygen: unexpected argument %q", pos[0])
	case *zone == "":
		return usageErrorf(fs, "keygen: -zone is required")
	case *dir == "":
		return usageErrorf(fs, "keygen: -dir is required")
	case !*ksk && !*zsk:
		return usageErrorf(fs, "keygen: give -ksk or -zsk")
	}
	if _, ok := dns.IsDomainName(*zone); !ok {
		return usageErrorf(fs, "keygen: %q is not a domain name", *zone)
	}
	alg, err := keystore.ParseAlgorithm(*algName)
	if err != nil {
		return usageErrorf(fs, "keygen: %v", err)
	}
	created := now().UTC().Truncate(time.Second)
	timers := keystore.Timers{Created: created}
	fields := []*time.Time{&timers.Publish, &timers.Activate, &timers.Inactive, &timers.Delete}
	for i, f := range timerFlags {
		if *f.val == "" {
			continue
		}
		if *fields[i], err = parseTime(*f.val, created); err != nil {
			return usageErrorf(fs, "keygen: -%s: %v", f.name, err)
		}
	}
	if err := checkTimerOrder(timers); err != nil {
		return usageErrorf(fs, "keygen: %v", err)
	}
	if fi, err := os.Stat(*dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("keygen: -dir %s is a file, not a directory: give the directory for the key files", *dir)
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("keygen: -dir %s: cannot create the directory: %v", *dir, unwrapPath(err))
	}
	existing, err := keystore.ReadKeys(*dir, keystore.Selection{Zone: *zone})
	if err != nil {
		return err
	}
	made := append([]*keystore.Key{}, existing...)
	used := map[uint16]bool{}
	for _, k := range existing {
		used[k.Tag()] = true
	}
	for _, isKSK := range []bool{true, false} {
		if (isKSK && !*ksk) || (!isKSK && !*zsk) {
			continue
		}
		var k *keystore.Key
		for k == nil || used[k.Tag()] {
			if k, err = keystore.GenerateKey(*zone, alg, isKSK, created); err != nil {
				return err
			}
		}
		k.Timers = timers
		used[k.Tag()] = true
		base, err := keystore.WriteKey(*dir, k)
		if err != nil {
			return err
		}
		made = append(made, k)
		fmt.Fprintf(stdout, "%s.key\n%s.private\n", base, base)
	}
	// Keys of the directory that cannot sign one zone together: a ZSK
	// of an algorithm no KSK here has (unless it is an algorithm roll's
	// new ZSK beside its new KSK), or a third algorithm.
	var ksks, others []*keystore.Key
	for _, k := range made {
		if k.IsKSK() {
			ksks = append(ksks, k)
		} else {
			others = append(others, k)
		}
	}
	if len(ksks) == 0 || len(others) == 0 {
		ksks, others = nil, made // one kind: only the number of algorithms counts
	}
	if err := keystore.CheckSetAlgorithms(dns.CanonicalName(*zone), ksks, others); err != nil {
		fmt.Fprintf(stderr, "livesign: warning: %s\n", strings.TrimPrefix(err.Error(), "keystore: "))
	}
	return nil
}

// checkTimerOrder refuses timers out of order: Publish <= Activate <
// Inactive, Publish < Delete, Inactive <= Delete, for the ones that are set.
func checkTimerOrder(t keystore.Timers) error {
	pub := t.Publish
	if pub.IsZero() {
		pub = t.Created
	}
	act := t.Activate
	if act.IsZero() {
		act = t.Created
	}
	switch {
	case !t.Activate.IsZero() && !t.Publish.IsZero() && t.Activate.Before(t.Publish):
		return fmt.Errorf("-activate %s is before -publish %s: a key signs only once it is published", stamp(t.Activate), stamp(t.Publish))
	case !t.Inactive.IsZero() && !t.Inactive.After(act):
		return fmt.Errorf("-inactive %s is not after the activation %s", stamp(t.Inactive), stamp(act))
	case !t.Delete.IsZero() && !t.Delete.After(pub):
		return fmt.Errorf("-delete %s is not after the publication %s", stamp(t.Delete), stamp(pub))
	case !t.Delete.IsZero() && !t.Inactive.IsZero() && t.Delete.Before(t.Inactive):
		return fmt.Errorf("-delete %s is before -inactive %s: a key leaves the DNSKEY set only after it stopped signing", stamp(t.Delete), stamp(t.Inactive))
	}
	return nil
}
