package keystore

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// ParseAlgorithm parses a DNSSEC algorithm that GenerateKey supports, by name
// (ECDSAP256SHA256, ECDSAP384SHA384, ED25519, RSASHA256; case-insensitive) or
// number (13, 14, 15, 8).
func ParseAlgorithm(s string) (uint8, error) {
	var alg uint8
	if n, err := strconv.ParseUint(s, 10, 8); err == nil {
		alg = uint8(n)
	} else {
		alg = dns.StringToAlgorithm[strings.ToUpper(strings.TrimSpace(s))]
	}
	if _, ok := keyBits[alg]; !ok {
		return 0, fmt.Errorf("algorithm %q is not supported: use ECDSAP256SHA256 (13), ECDSAP384SHA384 (14), ED25519 (15) or RSASHA256 (8)", s)
	}
	return alg, nil
}
