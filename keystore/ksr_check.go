package keystore

import (
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// CheckKSR checks a KSR before the KSK side signs it: it names a zone, its
// slots are in increasing time order and each lists at least one key, every
// key is a ZSK (flags 256, protocol 3) of a sound algorithm and size (RSA
// below 2048 bits, SHA-1 and unknown algorithms are refused) and of an
// algorithm of the KSKs, and no key shares a key tag with another key of its
// slot or with a KSK. Errors name the KSR file, line, slot and key tag.
func CheckKSR(k *KSR, ksks []*Key) error {
	if k.Zone == "" || k.Zone == "." {
		return fmt.Errorf("keystore: %s: the KSR names no zone", k.File)
	}
	if len(k.Slots) == 0 {
		return fmt.Errorf("keystore: %s: the KSR has no slot", k.File)
	}
	algs := map[uint8]bool{}
	for _, c := range ksks {
		if !strings.EqualFold(c.DNSKEY.Hdr.Name, k.Zone) {
			return fmt.Errorf("keystore: %s: KSK %d (%s) is for %s, the KSR for %s: use the KSK of %s", k.File, c.Tag(), c.Base, c.DNSKEY.Hdr.Name, k.Zone, k.Zone)
		}
		algs[c.DNSKEY.Algorithm] = true
	}
	for i, s := range k.Slots {
		where := fmt.Sprintf("keystore: %s:%d: slot %d (%s)", k.File, s.Line, i+1, s.Start.UTC().Format(time.RFC3339))
		if i > 0 && !s.Start.After(k.Slots[i-1].Start) {
			return fmt.Errorf("%s: not after the slot before (%s): slots must be in increasing time order", where, k.Slots[i-1].Start.UTC().Format(time.RFC3339))
		}
		if len(s.DNSKEY) == 0 {
			return fmt.Errorf("%s: no DNSKEY: every slot lists the ZSKs published then", where)
		}
		for _, z := range s.DNSKEY {
			if err := checkZSK(z); err != nil {
				return fmt.Errorf("%s: ZSK %d: %w", where, z.KeyTag(), err)
			}
			if len(algs) > 0 && !algs[z.Algorithm] {
				return fmt.Errorf("%s: ZSK %d has algorithm %s but the KSK has %s: every algorithm in the DNSKEY set must sign it (RFC 4035 §2.2); make the ZSKs with the KSK's algorithm", where, z.KeyTag(), algName(z.Algorithm), kskAlgs(ksks))
			}
		}
		set := append([]*dns.DNSKEY{}, s.DNSKEY...)
		for _, c := range ksks {
			set = append(set, c.DNSKEY)
		}
		if err := checkTagCollisions(set); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	return nil
}

// checkZSK refuses a KSR key that is not a ZSK of a sound algorithm and size.
func checkZSK(k *dns.DNSKEY) error {
	switch {
	case k.Protocol != 3:
		return fmt.Errorf("protocol %d, not 3 (RFC 4034 §2.1.2)", k.Protocol)
	case k.Flags&dns.SEP != 0:
		return fmt.Errorf("flags %d has the SEP bit: a KSR holds only ZSKs (flags 256); the KSK side adds its own KSKs", k.Flags)
	case k.Flags&dns.ZONE == 0:
		return fmt.Errorf("flags %d lacks the ZONE bit (256): not a zone key", k.Flags)
	case k.Flags&^(dns.ZONE|dns.SEP|dns.REVOKE) != 0:
		return fmt.Errorf("flags %d has unknown bits set", k.Flags)
	}
	switch k.Algorithm {
	case dns.RSASHA256, dns.RSASHA512:
		if n := KeySize(k); n < 2048 {
			return fmt.Errorf("%s key of %d bits: RSA keys below 2048 bits are refused (RFC 8624); make a 2048-bit key or use ECDSAP256SHA256", algName(k.Algorithm), n)
		}
		return nil
	case dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519, dns.ED448:
		if KeySize(k) == 0 {
			return fmt.Errorf("the %s public key is malformed (wrong length or not base64): generate the key again", algName(k.Algorithm))
		}
		return nil
	case dns.RSAMD5, dns.DSA, dns.RSASHA1, dns.DSANSEC3SHA1, dns.RSASHA1NSEC3SHA1, dns.ECCGOST:
		return fmt.Errorf("algorithm %s is deprecated (RFC 8624) and refused: use ECDSAP256SHA256 (13)", algName(k.Algorithm))
	}
	return fmt.Errorf("algorithm %d is unknown: use ECDSAP256SHA256 (13), ECDSAP384SHA384 (14), ED25519 (15), ED448 (16) or RSASHA256 (8)", k.Algorithm)
}

// algName names a DNSSEC algorithm, e.g. "ECDSAP256SHA256 (13)".
func algName(a uint8) string {
	if n, ok := dns.AlgorithmToString[a]; ok {
		return fmt.Sprintf("%s (%d)", n, a)
	}
	return fmt.Sprintf("%d", a)
}

// kskAlgs lists the algorithms of ksks.
func kskAlgs(ksks []*Key) string {
	var s []string
	seen := map[uint8]bool{}
	for _, k := range ksks {
		if a := k.DNSKEY.Algorithm; !seen[a] {
			seen[a] = true
			s = append(s, algName(a))
		}
	}
	return strings.Join(s, ", ")
}
