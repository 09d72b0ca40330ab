package keystore

import (
	"fmt"
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
	for _, k := range ksks {
		own = append(own, k.DNSKEY)
	}
	set := assemble(zone, ttl, own, keys)
	rrset := make([]dns.RR, len(set))
	for i, k := range set {
		rrset[i] = k
	}
	s := &Slot{Start: inception.UTC().Truncate(time.Second), DNSKEY: set}
	for _, k := range ksks {
		if k.Signer == nil {
			return nil, fmt.Errorf("keystore: KSK %d of %s has no private key", k.Tag(), zone)
		}
		sig := &dns.RRSIG{
			Hdr:        dns.RR_Header{Name: zone, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: ttl},
			Algorithm:  k.DNSKEY.Algorithm,
			OrigTtl:    ttl,
			Expiration: uint32(expiration.Unix()),
			Inception:  uint32(inception.Unix()),
			KeyTag:     k.Tag(),
			SignerName: zone,
		}
		if err := sig.Sign(k.Signer, rrset); err != nil {
			return nil, fmt.Errorf("keystore: signing the DNSKEY RRset of %s with KSK %d: %v", zone, k.Tag(), err)
		}
		s.RRSIGs = append(s.RRSIGs, sig)
	}
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
	for _, k := range ksks {
		for _, set := range [][]dns.RR{cdnskey, cds} {
			sig := &dns.RRSIG{Hdr: hdr(dns.TypeRRSIG), Algorithm: k.DNSKEY.Algorithm, OrigTtl: ttl, KeyTag: k.Tag(), SignerName: zone,
				Inception: uint32(inception.Unix()), Expiration: uint32(expiration.Unix())}
			if err := sig.Sign(k.Signer, set); err != nil {
				return fmt.Errorf("keystore: signing the %s RRset of %s with KSK %d: %v", dns.TypeToString[set[0].Header().Rrtype], zone, k.Tag(), err)
			}
			s.RRSIGs = append(s.RRSIGs, sig)
		}
	}
	return nil
}
