package keystore

import (
	"fmt"
	"slices"
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
// (auto-plan, livesign plan) for zone: want, the algorithm asked for (the
// algorithm directive or -algorithm), when set; else the KSK's (the online
// KSK's, or the bundle's); else the existing ZSKs'; else ECDSAP256SHA256.
// ksks are the zone's KSKs, zsks the ZSKs there are. A want other than the
// keys' algorithm starts an algorithm roll (PlanChains); without want, keys
// of two algorithms (a roll under way) are ambiguous and refused.
func ZSKAlgorithm(zone string, want uint8, ksks, zsks []*Key) (uint8, error) {
	if err := CheckAlgorithms(zone, append(append([]*Key{}, ksks...), zsks...)); err != nil {
		return 0, err
	}
	if want != 0 {
		return want, nil
	}
	for _, keys := range [][]*Key{ksks, zsks} {
		var algs []uint8
		for _, k := range keys {
			if !slices.Contains(algs, k.DNSKEY.Algorithm) {
				algs = append(algs, k.DNSKEY.Algorithm)
			}
		}
		switch len(algs) {
		case 0:
			continue
		case 1:
			return algs[0], nil
		}
		return 0, fmt.Errorf("the keys of %s have algorithms %s and %s (an algorithm roll): say which new ZSKs get, with the algorithm directive (or -algorithm)", zone, algName(algs[0]), algName(algs[1]))
	}
	return dns.ECDSAP256SHA256, nil
}

// CheckSetAlgorithms refuses a DNSKEY set that some algorithm of it cannot
// sign whole: every algorithm of the set signs the DNSKEY set (a KSK of it
// among signers) and every other RRset (a ZSK of it among keys, when keys
// holds ZSKs at all: a KSK-only set gets its ZSKs added by the server).
// RFC 4035 §2.2. signers sign the set; keys are the other members. At most
// two algorithms (CheckAlgorithms). Errors name the key, its file and the
// livesign keygen command that makes the key missing.
func CheckSetAlgorithms(zone string, signers, keys []*Key) error {
	all := append(append([]*Key{}, signers...), keys...)
	if err := CheckAlgorithms(zone, all); err != nil {
		return err
	}
	var zsks []*Key
	for _, k := range keys {
		if !k.IsKSK() {
			zsks = append(zsks, k)
		}
	}
	has := func(set []*Key, alg uint8) bool {
		return slices.ContainsFunc(set, func(k *Key) bool { return k.DNSKEY.Algorithm == alg })
	}
	// A key no KSK of its algorithm signs for first: the likelier mistake.
	for _, k := range all {
		if alg := k.DNSKEY.Algorithm; len(signers) > 0 && !has(signers, alg) {
			ref := signers[0]
			return fmt.Errorf("keystore: %s has algorithm %s but no KSK of that algorithm signs the DNSKEY set of %s (the %s has %s): every algorithm of the DNSKEY set signs every RRset (RFC 4035 §2.2); make the keys with the KSK's algorithm (livesign keygen -zone %s -zsk -algorithm %s -dir %s) and remove %s, or, to roll to %s, add a KSK of it (livesign keygen -zone %s -ksk -algorithm %s)",
				describeKey(k), algName(alg), zone, describeKey(ref), algName(ref.DNSKEY.Algorithm), zoneArg(zone, ref), dnsAlgorithmName(ref.DNSKEY.Algorithm), keyDir(k), keyFileOrTag(k),
				dnsAlgorithmName(alg), zoneArg(zone, ref), dnsAlgorithmName(alg))
		}
	}
	for _, k := range all {
		if alg := k.DNSKEY.Algorithm; len(zsks) > 0 && !has(zsks, alg) {
			ref := zsks[0]
			return fmt.Errorf("keystore: %s has algorithm %s but no ZSK of that algorithm is in the DNSKEY set of %s (the %s has %s): every algorithm of the DNSKEY set signs every RRset (RFC 4035 §2.2); add a ZSK of %s (livesign keygen -zone %s -zsk -algorithm %s -dir %s), or remove %s",
				describeKey(k), algName(alg), zone, describeKey(ref), algName(ref.DNSKEY.Algorithm), dnsAlgorithmName(alg), zoneArg(zone, k), dnsAlgorithmName(alg), keyDir(ref), keyFileOrTag(k))
		}
	}
	return nil
}
