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
	if err := CheckSetAlgorithms(zone, ksks, all[len(ksks):]); err != nil {
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

// AddCDS adds to s the CDS (SHA-256) and CDNSKEY records of ksks and of
// the other providers' KSKs foreign (RFC 7344; RFC 8901 §8), signed by
// each of ksks for the same period as s's DNSKEY RRSIGs: what an online
// KSK publishes so that the parent can follow it.
func AddCDS(s *Slot, zone string, ksks []*Key, foreign []*dns.DNSKEY, ttl uint32, inception, expiration time.Time) error {
	zone = strings.ToLower(dns.Fqdn(zone))
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: zone, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
	}
	var cds, cdnskey []dns.RR
	listed := make([]*dns.DNSKEY, 0, len(ksks)+len(foreign))
	for _, k := range ksks {
		listed = append(listed, k.DNSKEY)
	}
	for _, k := range append(listed, foreign...) {
		ds := k.ToDS(dns.SHA256)
		if ds == nil {
			return fmt.Errorf("keystore: cannot make the CDS of KSK %d", k.KeyTag())
		}
		c := ds.ToCDS()
		c.Hdr = hdr(dns.TypeCDS)
		s.CDS = append(s.CDS, c)
		cds = append(cds, c)
		n := k.ToCDNSKEY()
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

// CheckAlgorithms refuses a zone's keys (KSKs and ZSKs, in any order) of
// more than two algorithms. Every RRset of a zone is signed with each
// algorithm of its apex DNSKEY RRset (RFC 4035 §2.2): livesign signs with
// one ZSK of each algorithm that signs, and two algorithms exist only while
// an algorithm rolls to another (RFC 6781 §4.1.4, DESIGN.md §3.1). Errors
// name the keys (tag and file, when read from one) and their algorithms.
func CheckAlgorithms(zone string, keys []*Key) error {
	var algs []uint8
	first := map[uint8]*Key{}
	for _, k := range keys {
		a := k.DNSKEY.Algorithm
		if first[a] == nil {
			first[a] = k
			algs = append(algs, a)
		}
	}
	if len(algs) <= 2 {
		return nil
	}
	var desc []string
	for _, a := range algs {
		desc = append(desc, fmt.Sprintf("%s (%s)", algName(a), describeKey(first[a])))
	}
	return fmt.Errorf("keystore: the keys of %s have %d algorithms: %s: a zone has one algorithm, two while it rolls from one to the other (RFC 6781 §4.1.4); remove the keys of the algorithms you do not use",
		zone, len(algs), strings.Join(desc, ", "))
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
