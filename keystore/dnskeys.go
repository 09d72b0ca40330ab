package keystore

import (
	"strings"

	"github.com/miekg/dns"
)

// ReadDNSKEYs returns the DNSKEY records in a zone-format file (a .key file, a
// bundle, an SKR, a signed zone), without duplicates, in file order; other
// records are skipped. origin is used for relative names ("" = the root);
// records without a TTL get 3600. The file is read with ReadRegularFile, at
// most MaxBundleFileSize bytes (for a larger signed zone, give the KSK's
// .key file or its DNSKEY lines instead).
func ReadDNSKEYs(path, origin string) ([]*dns.DNSKEY, error) {
	data, err := ReadRegularFile(path, MaxBundleFileSize)
	if err != nil {
		return nil, err
	}
	if origin == "" {
		origin = "."
	}
	rrs, err := parseRRs(data, path, origin, 3600)
	if err != nil {
		return nil, err
	}
	var keys []*dns.DNSKEY
	for _, r := range rrs {
		k, ok := r.RR.(*dns.DNSKEY)
		if !ok {
			continue
		}
		k.Hdr.Name = strings.ToLower(k.Hdr.Name)
		if !hasDuplicate(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys, nil
}
