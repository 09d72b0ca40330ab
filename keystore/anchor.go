package keystore

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// Anchor is the trust anchor of the zone's KSK: DS and/or DNSKEY records.
type Anchor struct {
	File string
	DS   []*dns.DS
	Keys []*dns.DNSKEY
}

// ReadAnchor reads the DS and DNSKEY records of zone from path, in zone-file
// syntax: ldns-key2ds or dnssec-dsfromkey output, `livesign ds` output, or a
// BIND .key file. Records for another owner, other record types, and a file
// without any DS or DNSKEY are refused. The file is read with
// ReadRegularFile, at most MaxAnchorFileSize bytes.
func ReadAnchor(path, zone string) (*Anchor, error) {
	data, err := ReadRegularFile(path, MaxAnchorFileSize)
	if err != nil {
		return nil, err
	}
	return parseAnchor(data, path, zone)
}

// parseAnchor parses the text data of a trust anchor file (named path in
// errors) for zone; see ReadAnchor.
func parseAnchor(data []byte, path, zone string) (*Anchor, error) {
	zone = strings.ToLower(dns.Fqdn(zone))
	rrs, err := parseRRs(data, path, zone, 0)
	if err != nil {
		return nil, err
	}
	a := &Anchor{File: path}
	for _, r := range rrs {
		h := r.RR.Header()
		if !strings.EqualFold(dns.Fqdn(h.Name), zone) {
			return nil, fmt.Errorf("keystore: %s:%d: %s record for %s, not %s: the trust anchor must be the DS or DNSKEY of %s's KSK", path, r.Line, dns.TypeToString[h.Rrtype], h.Name, zone, zone)
		}
		h.Name = zone
		switch rr := r.RR.(type) {
		case *dns.DS:
			a.DS = append(a.DS, rr)
		case *dns.DNSKEY:
			a.Keys = append(a.Keys, rr)
		default:
			return nil, fmt.Errorf("keystore: %s:%d: unexpected %s record: a trust anchor file holds DS or DNSKEY records", path, r.Line, dns.TypeToString[h.Rrtype])
		}
	}
	if len(a.DS) == 0 && len(a.Keys) == 0 {
		return nil, fmt.Errorf("keystore: %s: no DS or DNSKEY record for %s: give the KSK's DS (livesign ds, dnssec-dsfromkey, ldns-key2ds) or its DNSKEY", path, zone)
	}
	return a, nil
}

// Matches reports whether k is the key the anchor names: a DS whose key tag,
// algorithm and digest equal k's (digest compared case-insensitively, k's owner
// taken to be the DS owner), or a DNSKEY with the same flags, protocol,
// algorithm and public key.
func (a *Anchor) Matches(k *dns.DNSKEY) bool {
	if a == nil || k == nil {
		return false
	}
	for _, ds := range a.DS {
		if ds.KeyTag != k.KeyTag() || ds.Algorithm != k.Algorithm {
			continue
		}
		c := *k
		c.Hdr.Name = ds.Hdr.Name
		if d := c.ToDS(ds.DigestType); d != nil && strings.EqualFold(d.Digest, ds.Digest) {
			return true
		}
	}
	for _, ak := range a.Keys {
		if sameKey(ak, k) {
			return true
		}
	}
	return false
}

// Tags returns the key tags the anchor names (DS key tags and DNSKEY tags),
// sorted and without duplicates.
func (a *Anchor) Tags() []uint16 {
	seen := map[uint16]bool{}
	var tags []uint16
	add := func(t uint16) {
		if !seen[t] {
			seen[t] = true
			tags = append(tags, t)
		}
	}
	for _, ds := range a.DS {
		add(ds.KeyTag)
	}
	for _, k := range a.Keys {
		add(k.KeyTag())
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i] < tags[j] })
	return tags
}

// describe says what the anchor names, e.g. "DS for 41401".
func (a *Anchor) describe() string {
	var parts []string
	if len(a.DS) > 0 {
		parts = append(parts, "DS for "+joinTags(dsTags(a.DS)))
	}
	if len(a.Keys) > 0 {
		var tags []uint16
		for _, k := range a.Keys {
			tags = append(tags, k.KeyTag())
		}
		parts = append(parts, "DNSKEY "+joinTags(tags))
	}
	return strings.Join(parts, ", ")
}

func dsTags(ds []*dns.DS) []uint16 {
	var tags []uint16
	for _, d := range ds {
		tags = append(tags, d.KeyTag)
	}
	return tags
}

// joinTags formats key tags as "1, 2 and 3".
func joinTags(tags []uint16) string {
	s := make([]string, len(tags))
	for i, t := range tags {
		s[i] = fmt.Sprint(t)
	}
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// sameKey reports whether two DNSKEYs have the same RDATA.
func sameKey(a, b *dns.DNSKEY) bool {
	if a.Flags != b.Flags || a.Protocol != b.Protocol || a.Algorithm != b.Algorithm {
		return false
	}
	pa, errA := base64.StdEncoding.DecodeString(a.PublicKey)
	pb, errB := base64.StdEncoding.DecodeString(b.PublicKey)
	if errA != nil || errB != nil {
		return a.PublicKey == b.PublicKey
	}
	return bytes.Equal(pa, pb)
}
