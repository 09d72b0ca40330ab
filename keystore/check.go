package keystore

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// CheckSlot verifies one slot at time t against the anchor (nil = accept a SEP
// key found in the slot) and returns the DNSKEY set to serve: the slot's
// DNSKEYs plus zsks, deduplicated by RDATA, with owner zone and the TTL of the
// DNSKEY RRSIGs' original TTL, in canonical order.
//
// It refuses a slot when no RRSIG over DNSKEY is there, when two served keys
// share a key tag, when an RRSIG is not valid at t or does not verify over
// exactly the served set, when no KSK signed the set, or when every RRSIG
// over an RRset was made by a key that is not in the set. An RRSIG by a key
// the set lacks, next to ones by keys it holds, is ignored (see Orphan):
// BIND 9.20 dnssec-ksr sign makes one at a KSK's Inactive instant, when the
// KSK's DNSKEY already left the set; the server never serves it. RRSIGs
// over CDS and CDNSKEY must verify too. A slot
// whose every RRSIG checks out but which no KSK the anchor names signs (a
// KSK roll whose new DS the anchor does not list yet) gets the set and an
// *UnanchoredError. Errors say what to do; they name no file, the caller
// adds the bundle file and slot.
func CheckSlot(s *Slot, zone string, zsks []*dns.DNSKEY, a *Anchor, t time.Time) ([]*dns.DNSKEY, error) {
	zone = strings.ToLower(dns.Fqdn(zone))
	sigs := sigsOver(s.RRSIGs, dns.TypeDNSKEY)
	if len(sigs) == 0 {
		return nil, fmt.Errorf("no RRSIG over DNSKEY: sign the DNSKEY RRset with the KSK")
	}
	ttl := sigs[0].OrigTtl
	set := assemble(zone, ttl, s.DNSKEY, zsks)
	if err := checkTagCollisions(set); err != nil {
		return nil, err
	}
	rrset := make([]dns.RR, len(set))
	for i, k := range set {
		rrset[i] = k
	}
	var ksks, unanchored []*dns.DNSKEY
	anchored := false
	for _, sig := range signedBy(sigs, set) {
		k, err := checkSig(sig, set, t)
		if err != nil {
			return nil, err
		}
		if err := sig.Verify(k, rrset); err != nil {
			return nil, verifyError(sig, zone, set, s.DNSKEY, zsks)
		}
		if k.Flags&dns.SEP == 0 {
			continue
		}
		ksks = append(ksks, k)
		if a == nil || a.Matches(k) {
			anchored = true
		} else {
			unanchored = append(unanchored, k)
		}
	}
	if len(ksks) == 0 {
		return nil, fmt.Errorf("no RRSIG over DNSKEY by a KSK (flags 257, tags %s): sign the DNSKEY RRset with the KSK", describeKeys(set))
	}
	if err := checkSigned(s.CDS, dns.TypeCDS, zone, s.RRSIGs, set, t); err != nil {
		return nil, err
	}
	if err := checkSigned(s.CDNSKEY, dns.TypeCDNSKEY, zone, s.RRSIGs, set, t); err != nil {
		return nil, err
	}
	if !anchored {
		return set, &UnanchoredError{KSKs: unanchored, Anchor: a}
	}
	return set, nil
}

// UnanchoredError says that a DNSKEY set checks out but is signed only by
// KSKs the trust anchor does not name: validators that know only the
// anchor's DS (the parent's) cannot validate it. In a KSK roll that is the
// moment the parent must have the new KSK's DS.
type UnanchoredError struct {
	KSKs   []*dns.DNSKEY // the KSKs that sign the set
	Anchor *Anchor
}

func (e *UnanchoredError) Error() string {
	var ds []string
	for _, k := range e.KSKs {
		if d := k.ToDS(dns.SHA256); d != nil {
			ds = append(ds, d.String())
		}
	}
	return fmt.Sprintf("the DNSKEY set is signed only by %s, which the trust anchor in %s (%s) does not name: sign it with the KSK the anchor names, or, for a new KSK (a KSK roll), have the parent publish its DS (%s) and add that to the trust-anchor file",
		describeKeys(e.KSKs), e.Anchor.File, e.Anchor.describe(), strings.Join(ds, "; "))
}

// Orphan reports whether sig was made by no key of set (by key tag and
// algorithm): a validator cannot use it, and the server does not serve it.
func Orphan(sig *dns.RRSIG, set []*dns.DNSKEY) bool {
	for _, k := range set {
		if k.KeyTag() == sig.KeyTag && k.Algorithm == sig.Algorithm {
			return false
		}
	}
	return true
}

// signedBy returns the RRSIGs of sigs made by a key of set, or all of sigs
// when none is: those then fail checkSig with an error that says so.
func signedBy(sigs []*dns.RRSIG, set []*dns.DNSKEY) []*dns.RRSIG {
	var out []*dns.RRSIG
	for _, s := range sigs {
		if !Orphan(s, set) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return sigs
	}
	return out
}

// sigsOver returns the RRSIGs covering type typ.
func sigsOver(sigs []*dns.RRSIG, typ uint16) []*dns.RRSIG {
	var out []*dns.RRSIG
	for _, s := range sigs {
		if s.TypeCovered == typ {
			out = append(out, s)
		}
	}
	return out
}

// assemble copies keys and zsks into one set without duplicate RDATA, owner
// zone, TTL ttl, class IN, in canonical (packed RDATA) order.
func assemble(zone string, ttl uint32, keys, zsks []*dns.DNSKEY) []*dns.DNSKEY {
	var set []*dns.DNSKEY
	for _, k := range append(append([]*dns.DNSKEY{}, keys...), zsks...) {
		dup := false
		for _, o := range set {
			dup = dup || sameKey(o, k)
		}
		if dup {
			continue
		}
		c := dns.Copy(k).(*dns.DNSKEY)
		c.Hdr = dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: ttl}
		set = append(set, c)
	}
	canonicalSort(set)
	return set
}

// canonicalSort orders records of one RRset by their wire form, which for
// records of the same owner, type, class and TTL is RFC 4034 §6.3 order.
func canonicalSort[T dns.RR](rrs []T) {
	wire := func(rr dns.RR) []byte {
		buf := make([]byte, dns.Len(rr))
		n, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			return nil
		}
		return buf[:n]
	}
	sort.SliceStable(rrs, func(i, j int) bool { return bytes.Compare(wire(rrs[i]), wire(rrs[j])) < 0 })
}

// checkTagCollisions refuses two keys with the same key tag.
func checkTagCollisions(set []*dns.DNSKEY) error {
	byTag := map[uint16][]*dns.DNSKEY{}
	var tags []uint16
	for _, k := range set {
		t := k.KeyTag()
		if byTag[t] == nil {
			tags = append(tags, t)
		}
		byTag[t] = append(byTag[t], k)
	}
	for _, t := range tags {
		if ks := byTag[t]; len(ks) > 1 {
			var desc []string
			for _, k := range ks {
				desc = append(desc, fmt.Sprintf("%s flags %d algorithm %d", keyRole(k), k.Flags, k.Algorithm))
			}
			return fmt.Errorf("key tag %d is used by %d keys (%s): validators may try the wrong key; generate a new ZSK (or KSK) with another tag and remove this one", t, len(ks), strings.Join(desc, "; "))
		}
	}
	return nil
}

// checkSig finds the key that made sig in set and checks the validity
// period at t.
func checkSig(sig *dns.RRSIG, set []*dns.DNSKEY, t time.Time) (*dns.DNSKEY, error) {
	covered := dns.TypeToString[sig.TypeCovered]
	var k *dns.DNSKEY
	for _, c := range set {
		if c.KeyTag() == sig.KeyTag && c.Algorithm == sig.Algorithm {
			k = c
		}
	}
	if k == nil {
		return nil, fmt.Errorf("RRSIG over %s by key %d (algorithm %d) was made by a key that is not in the DNSKEY set (tags %s): put that KSK's DNSKEY in the bundle, or sign with a KSK that is in it", covered, sig.KeyTag, sig.Algorithm, describeKeys(set))
	}
	if !sig.ValidityPeriod(t) {
		inc, exp := SigTime(sig.Inception, t), SigTime(sig.Expiration, t)
		if t.Before(inc) {
			return nil, fmt.Errorf("RRSIG by %d is not valid before %s (over %s, checked at %s): wait, or sign the %s RRset with an earlier inception", sig.KeyTag, inc.Format(time.RFC3339), covered, t.UTC().Format(time.RFC3339), covered)
		}
		return nil, fmt.Errorf("RRSIG by %d expired at %s (over %s, checked at %s): sign the %s RRset again with the KSK and install the new bundle", sig.KeyTag, exp.Format(time.RFC3339), covered, t.UTC().Format(time.RFC3339), covered)
	}
	return k, nil
}

// verifyError explains why an RRSIG over DNSKEY does not verify over the
// assembled set: most often a ZSK in the keys directory that the offline
// signer did not see.
func verifyError(sig *dns.RRSIG, zone string, set, bundleKeys, zsks []*dns.DNSKEY) error {
	var missing []uint16
	for _, z := range zsks {
		in := false
		for _, b := range bundleKeys {
			in = in || sameKey(z, b)
		}
		if !in {
			missing = append(missing, z.KeyTag())
		}
	}
	head := fmt.Sprintf("RRSIG over DNSKEY by %d does not verify over the DNSKEY set (%s)", sig.KeyTag, describeKeys(set))
	if len(missing) == 0 {
		return fmt.Errorf("%s: the signature or the keys were altered: copy the bundle again from the KSK side, or sign the DNSKEY set again", head)
	}
	what := fmt.Sprintf("ZSK %s from the keys directory is not in the bundle", joinTags(missing))
	if len(missing) > 1 {
		what = fmt.Sprintf("ZSKs %s from the keys directory are not in the bundle", joinTags(missing))
	}
	own := assemble(zone, sig.OrigTtl, bundleKeys, nil)
	rrs := make([]dns.RR, len(own))
	for i, k := range own {
		rrs[i] = k
	}
	for _, k := range own {
		if k.KeyTag() == sig.KeyTag && k.Algorithm == sig.Algorithm && sig.Verify(k, rrs) == nil {
			return fmt.Errorf("%s: the DNSKEY set signed offline differs from the bundle's keys plus the ZSKs in the keys directory (tags %s): %s: re-sign the DNSKEY set including ZSK %s", head, joinTags(tagsOf(set)), what, joinTags(missing))
		}
	}
	return fmt.Errorf("%s: %s, and the signature does not verify over the bundle's own keys either: the bundle was altered, or signed over another DNSKEY set: re-sign the DNSKEY set including ZSK %s", head, what, joinTags(missing))
}

// checkSigned checks the RRSIGs over a CDS or CDNSKEY RRset, when there is one.
func checkSigned[T dns.RR](rrs []T, typ uint16, zone string, all []*dns.RRSIG, set []*dns.DNSKEY, t time.Time) error {
	name := dns.TypeToString[typ]
	sigs := sigsOver(all, typ)
	if len(rrs) == 0 {
		if len(sigs) > 0 {
			return fmt.Errorf("RRSIG over %s by %d but no %s records: the bundle is incomplete, copy it again", name, sigs[0].KeyTag, name)
		}
		return nil
	}
	if len(sigs) == 0 {
		return fmt.Errorf("%s records without an RRSIG over %s: sign them with the KSK too", name, name)
	}
	rrset := make([]dns.RR, len(rrs))
	for i, r := range rrs {
		c := dns.Copy(r)
		*c.Header() = dns.RR_Header{Name: zone, Rrtype: typ, Class: dns.ClassINET, Ttl: sigs[0].OrigTtl}
		rrset[i] = c
	}
	for _, sig := range signedBy(sigs, set) {
		k, err := checkSig(sig, set, t)
		if err != nil {
			return err
		}
		if err := sig.Verify(k, rrset); err != nil {
			return fmt.Errorf("RRSIG over %s by %d does not verify: the bundle was altered, copy it again from the KSK side or sign again", name, sig.KeyTag)
		}
	}
	return nil
}

// keyRole names a key by its SEP flag.
func keyRole(k *dns.DNSKEY) string {
	if k.Flags&dns.SEP != 0 {
		return "KSK"
	}
	return "ZSK"
}

// byTag returns the keys of set sorted by key tag.
func byTag(set []*dns.DNSKEY) []*dns.DNSKEY {
	s := append([]*dns.DNSKEY{}, set...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].KeyTag() < s[j].KeyTag() })
	return s
}

// tagsOf returns the key tags of set, sorted.
func tagsOf(set []*dns.DNSKEY) []uint16 {
	var tags []uint16
	for _, k := range byTag(set) {
		tags = append(tags, k.KeyTag())
	}
	return tags
}

// describeKeys lists the tags of a key set with their role, sorted by tag,
// e.g. "KSK 41401, ZSK 44013".
func describeKeys(set []*dns.DNSKEY) string {
	var s []string
	for _, k := range byTag(set) {
		s = append(s, fmt.Sprintf("%s %d", keyRole(k), k.KeyTag()))
	}
	return strings.Join(s, ", ")
}
