package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

const dsHelp = `
Print a DS record for each KSK (DNSKEY with the SEP flag, flags 257) in FILE:
a .key file, a bundle, an SKR or any zone-format file with DNSKEY records.
The output, one DS per line in zone-file format, is the trust anchor file for
the livesign plugin and what to hand to the parent zone.`

func ds(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ds", "livesign ds [-digest 2] [-zone ZONE] FILE", dsHelp)
	digestName := fs.String("digest", "2", "digest type: 2 (SHA-256), 4 (SHA-384) or 1 (SHA-1, deprecated); names SHA256, SHA384, SHA1 work too")
	zone := fs.String("zone", "", "origin for relative names in FILE (default: the root)")
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf(fs, "ds: give exactly one FILE")
	}
	digest, err := parseDigest(*digestName)
	if err != nil {
		return usageErrorf(fs, "ds: %v", err)
	}
	if err := needFile("ds", "FILE", pos[0], "a .key file, a bundle, an SKR or a zone file that holds the KSK's DNSKEY"); err != nil {
		return err
	}
	keys, err := keystore.ReadDNSKEYs(pos[0], *zone)
	if err != nil {
		return err
	}
	n := 0
	for _, k := range keys {
		if k.Flags&dns.SEP == 0 {
			continue
		}
		d := k.ToDS(digest)
		if d == nil {
			return fmt.Errorf("ds: cannot make a DS with digest %d for key %d", digest, k.KeyTag())
		}
		fmt.Fprintln(stdout, d.String())
		n++
	}
	if n == 0 {
		return fmt.Errorf("%s: no KSK (DNSKEY with flags 257) found", pos[0])
	}
	return nil
}

// parseDigest parses a DS digest type by number or name.
func parseDigest(s string) (uint8, error) {
	switch strings.ToUpper(strings.ReplaceAll(s, "-", "")) {
	case "1", "SHA1":
		return dns.SHA1, nil
	case "2", "SHA256":
		return dns.SHA256, nil
	case "4", "SHA384":
		return dns.SHA384, nil
	}
	if _, err := strconv.Atoi(s); err == nil {
		return 0, fmt.Errorf("digest type %s is not supported: use 2 (SHA-256), 4 (SHA-384) or 1 (SHA-1)", s)
	}
	return 0, fmt.Errorf("digest type %q is not supported: use 2 (SHA-256), 4 (SHA-384) or 1 (SHA-1)", s)
}
