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

// ZSKAlgorithm is the one rule for the algorithm of the ZSKs livesign makes
// (auto-plan, livesign plan) for zone. want is the algorithm asked for (the
// algorithm directive or -algorithm; 0 for none), ksks the zone's KSKs (the
// online KSK's, or the bundle's), zsks the ZSKs there are. Every key of the
// DNSKEY set must share one algorithm (RFC 4035 §2.2: each algorithm there
// signs every RRset, and livesign signs the zone data with one ZSK): the
// algorithm is the KSK's, else the existing ZSKs', else want, else
// ECDSAP256SHA256. Keys of mixed algorithms are refused, and so is a want
// that disagrees with the keys there are.
func ZSKAlgorithm(zone string, want uint8, ksks, zsks []*Key) (uint8, error) {
	keys := append(append([]*Key{}, ksks...), zsks...)
	if err := CheckAlgorithms(zone, keys); err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		if want != 0 {
			return want, nil
		}
		return dns.ECDSAP256SHA256, nil
	}
	have := keys[0].DNSKEY.Algorithm
	if want != 0 && want != have {
		return 0, fmt.Errorf("algorithm %s is set, but %s has %s: all keys of a zone share one algorithm (RFC 4035 §2.2); remove the algorithm directive (or -algorithm) or set it to %s",
			algName(want), describeKey(keys[0]), algName(have), dnsAlgorithmName(have))
	}
	return have, nil
}
