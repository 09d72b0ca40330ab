package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

const keygenHelp = `
Generate a key pair for ZONE in DIR as BIND key files (K<zone>+<alg>+<tag>.key
and .private, mode 0600) with a Created timer, and print the names of the
files written, one per line. DIR is created (mode 0700) if missing. A key whose tag is
already used by a key of the zone in DIR is discarded and generated again.
Give both -ksk and -zsk to make one of each. File names have the zone in
lower case, as BIND's. Make the ZSKs with the KSK's -algorithm: a zone's keys
must all have one algorithm (RFC 4035 §2.2), and keygen warns when DIR holds
keys of the zone with another.`

func keygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keygen", "livesign keygen -zone ZONE (-ksk|-zsk) [-algorithm ECDSAP256SHA256] -dir DIR", keygenHelp)
	zone := fs.String("zone", "", "zone name, e.g. example.net")
	ksk := fs.Bool("ksk", false, "generate a key-signing key (flags 257)")
	zsk := fs.Bool("zsk", false, "generate a zone-signing key (flags 256)")
	algName := fs.String("algorithm", "ECDSAP256SHA256", "ECDSAP256SHA256, ECDSAP384SHA384, ED25519 or RSASHA256, or the algorithm number")
	dir := fs.String("dir", "", "directory for the key files")
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
			if k, err = keystore.GenerateKey(*zone, alg, isKSK, now()); err != nil {
				return err
			}
		}
		used[k.Tag()] = true
		base, err := keystore.WriteKey(*dir, k)
		if err != nil {
			return err
		}
		made = append(made, k)
		fmt.Fprintf(stdout, "%s.key\n%s.private\n", base, base)
	}
	// A KSK and a ZSK of different algorithms cannot serve one zone.
	if err := keystore.CheckAlgorithms(dns.CanonicalName(*zone), made); err != nil {
		fmt.Fprintf(stderr, "livesign: warning: %s\n", strings.TrimPrefix(err.Error(), "keystore: "))
	}
	return nil
}
