package keystore

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// SignDNSKEYs builds the DNSKEY RRset of zone from the ksks' DNSKEYs plus keys
// (deduplicated, owner zone, TTL ttl, canonical order), signs it with every
// KSK in ksks (each needs a Signer), valid from inception to expiration, and
// returns it as a single-RRset bundle slot starting at inception.
func SignDNSKEYs(zone string, ksks []*Key, keys []*dns.DNSKEY, ttl uint32, inception, expiration time.Time) (*Slot, error) {
	zone = strings.ToLower(dns.Fqdn(zone))
	if len(ksks) == 0 {
		return nil, fmt.Errorf("keystore: no KSK to sign the DNSKEY RRset of %s with", zone)
	}
	if !expiration.After(inception) {
		return nil, fmt.Errorf("keystore: signature expiration %s is not after inception %s", expiration.UTC().Format(time.RFC3339), inception.UTC().Format(time.RFC3339))
	}
	var own []*dns.DNSKEY
	all := append([]*Key{}, ksks...)
	for _, k := range ksks {
		own = append(own, k.DNSKEY)
	}
	for _, k := range keys {
		all = append(all, &Key{DNSKEY: k})
	}
	if err := CheckAlgorithms(zone, all); err != nil {
		return nil, err
	}
	set := assemble(zone, ttl, own, keys)
	rrset := make([]dns.RR, len(set))
	for i, k := range set {
		rrset[i] = k
	}
	s := &Slot{Start: inception.UTC().Truncate(time.Second), DNSKEY: set}
	sigs, err := signKeySets(zone, ksks, [][]dns.RR{rrset}, ttl, inception, expiration)
	if err != nil {
		return nil, err
	}
	s.RRSIGs = sigs
	return s, nil
}

// FormatSlot writes a slot as zone-file text, one RR per line like
// ldns-signzone's output: DNSKEYs, CDNSKEYs, CDSs, then the RRSIGs.
func FormatSlot(s *Slot) []byte {
	var b strings.Builder
	line := func(rr dns.RR) {
		b.WriteString(rr.String())
		b.WriteString("\n")
	}
	for _, rr := range s.DNSKEY {
		line(rr)
	}
	for _, rr := range s.CDNSKEY {
		line(rr)
	}
	for _, rr := range s.CDS {
		line(rr)
	}
	for _, rr := range s.RRSIGs {
		line(rr)
	}
	return []byte(b.String())
}

// AddCDS adds to s the CDS (SHA-256) and CDNSKEY records of ksks (RFC
// 7344), signed by each of them for the same period as s's DNSKEY RRSIGs:
// what an online KSK publishes so that the parent can follow it.
func AddCDS(s *Slot, zone string, ksks []*Key, ttl uint32, inception, expiration time.Time) error {
	zone = strings.ToLower(dns.Fqdn(zone))
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: zone, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
	}
	var cds, cdnskey []dns.RR
	for _, k := range ksks {
		ds := k.DNSKEY.ToDS(dns.SHA256)
		if ds == nil {
			return fmt.Errorf("keystore: cannot make the CDS of KSK %d", k.Tag())
		}
		c := ds.ToCDS()
		c.Hdr = hdr(dns.TypeCDS)
		s.CDS = append(s.CDS, c)
		cds = append(cds, c)
		n := k.DNSKEY.ToCDNSKEY()
		n.Hdr = hdr(dns.TypeCDNSKEY)
		s.CDNSKEY = append(s.CDNSKEY, n)
		cdnskey = append(cdnskey, n)
	}
	sigs, err := signKeySets(zone, ksks, [][]dns.RR{cdnskey, cds}, ttl, inception, expiration)
	if err != nil {
		return err
	}
	s.RRSIGs = append(s.RRSIGs, sigs...)
	return nil
}

// CheckAlgorithms refuses a DNSKEY set (keys: KSKs and ZSKs, in any order)
// whose keys do not all have one algorithm. Every RRset of a zone must be
// signed with each algorithm in its apex DNSKEY RRset (RFC 4035 §2.2);
// livesign signs the zone data with its one active ZSK and the DNSKEY RRset
// with the KSKs, so a second algorithm anywhere in the set breaks that rule
// (validators hardened against algorithm downgrade reject the zone). The
// KSK's algorithm is the reference, the one the DS at the parent names.
// Errors name both keys (tag and file, when read from one), both algorithms
// and the livesign keygen command that makes a fitting key.
func CheckAlgorithms(zone string, keys []*Key) error {
	var ref *Key
	for _, k := range keys {
		if k.IsKSK() {
			ref = k
			break
		}
	}
	if ref == nil {
		if len(keys) == 0 {
			return nil
		}
		ref = keys[0]
	}
	alg := ref.DNSKEY.Algorithm
	for _, k := range keys {
		if k.DNSKEY.Algorithm == alg {
			continue
		}
		switch {
		case ref.IsKSK() && !k.IsKSK():
			return fmt.Errorf("keystore: %s has algorithm %s but the %s has %s: every algorithm in the DNSKEY set must sign every RRset (RFC 4035 §2.2) and livesign signs the zone data with the ZSK alone; make the ZSKs with the KSK's algorithm (livesign keygen -zone %s -zsk -algorithm %s -dir %s) and remove %s",
				describeKey(k), algName(k.DNSKEY.Algorithm), describeKey(ref), algName(alg), zoneArg(zone, ref), dnsAlgorithmName(alg), keyDir(k), keyFileOrTag(k))
		case ref.IsKSK():
			return fmt.Errorf("keystore: %s has algorithm %s but the %s has %s: every algorithm in the DNSKEY set must sign every RRset (RFC 4035 §2.2) and livesign signs the zone data with ZSKs of one algorithm; use KSKs of one algorithm (an algorithm rollover is not supported) and remove %s",
				describeKey(k), algName(k.DNSKEY.Algorithm), describeKey(ref), algName(alg), keyFileOrTag(k))
		default:
			return fmt.Errorf("keystore: %s has algorithm %s but %s has %s: livesign signs the zone data with one ZSK at a time, and every algorithm in the DNSKEY set must sign every RRset (RFC 4035 §2.2); make all ZSKs with one algorithm, the KSK's (livesign keygen -zone %s -zsk -algorithm ALG -dir %s), and remove the others",
				describeKey(k), algName(k.DNSKEY.Algorithm), describeKey(ref), algName(alg), zoneArg(zone, ref), keyDir(k))
		}
	}
	return nil
}

// describeKey names a key for errors: "ZSK 123 (dir/Kexample.net.+013+00123.key)",
// or without the file when the key was not read from one.
func describeKey(k *Key) string {
	kind := "ZSK"
	if k.IsKSK() {
		kind = "KSK"
	}
	if k.Base == "" {
		return fmt.Sprintf("%s %d", kind, k.Tag())
	}
	return fmt.Sprintf("%s %d (%s.key)", kind, k.Tag(), k.Base)
}

// keyFileOrTag names the key file of k, or "ZSK|KSK TAG" when there is none.
func keyFileOrTag(k *Key) string {
	if k.Base == "" {
		return describeKey(k)
	}
	return k.Base + ".key and its .private"
}

// keyDir is the directory of k's files, "DIR" when it was not read from one.
func keyDir(k *Key) string {
	if k.Base == "" {
		return "DIR"
	}
	return filepath.Dir(k.Base)
}

// zoneArg is the zone for a livesign -zone flag: zone, else the key's owner,
// without the final dot.
func zoneArg(zone string, k *Key) string {
	if zone == "" || zone == "." {
		zone = k.DNSKEY.Hdr.Name
	}
	if z := strings.TrimSuffix(zone, "."); z != "" {
		return z
	}
	return "."
}

// dnsAlgorithmName is the mnemonic of alg (ED25519), or its number.
func dnsAlgorithmName(alg uint8) string {
	if n, ok := dns.AlgorithmToString[alg]; ok {
		return n
	}
	return fmt.Sprint(alg)
}
