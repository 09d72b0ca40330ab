package timeline

import (
	"strconv"
	"strings"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// KeySet is what a zone serves and signs with at an instant: the signed
// DNSKEY set (and CDS, CDNSKEY) and the ZSK that signs everything else.
type KeySet struct {
	DNSKEY     []dns.RR // served DNSKEY RRset, canonical order
	DNSKEYSigs []dns.RR // the KSK's RRSIGs over DNSKEY
	CDS        []dns.RR
	CDSSigs    []dns.RR
	CDNSKEY    []dns.RR
	CDNSKEYSig []dns.RR
	ZSK        *keystore.Key // the primary signer: its DNSKEY has propagated (or is the zone's first)
	// ZSKs sign every other RRset: ZSK, and during an algorithm roll one
	// ZSK of each other algorithm that signs then (RFC 4035 §2.2: every
	// algorithm of the DNSKEY set signs every RRset; a new algorithm
	// signs before its DNSKEYs are published, an old one after they are
	// gone, DESIGN.md §3.1). ZSK comes first.
	ZSKs []*keystore.Key
	// Fallback is set when ZSK signs past its Inactive time because no
	// successor is safely published yet.
	Fallback bool
	// NeedDS, when set, are the KSKs that alone sign the set that should
	// be in force now; the trust anchor does not name them, so an earlier
	// set signed by an anchored KSK is served instead (DSDeadline).
	NeedDS []*dns.DNSKEY

	From  time.Time // first instant this set is in force
	Until time.Time // first instant it may no longer be: ask the Timeline again then
}

// Tag returns the key tag of the signing ZSK.
func (ks *KeySet) Tag() uint16 { return ks.ZSK.Tag() }

// Signers lists the tags of the ZSKs that sign, e.g. "12345", or
// "12345+23456" during an algorithm roll.
func (ks *KeySet) Signers() string {
	tags := make([]string, len(ks.ZSKs))
	for i, k := range ks.ZSKs {
		tags[i] = strconv.Itoa(int(k.Tag()))
	}
	return strings.Join(tags, "+")
}

// KeyRef identifies a DNSKEY by its RDATA, whatever its owner and TTL: the
// same key in the keys directory and in a signed set.
type KeyRef struct {
	flags     uint16
	protocol  uint8
	algorithm uint8
	publicKey string
}

// RefOf returns the KeyRef of k.
func RefOf(k *dns.DNSKEY) KeyRef {
	return KeyRef{k.Flags, k.Protocol, k.Algorithm, k.PublicKey}
}

// WindowBase is floor(t, step) counted from the Unix epoch: the base of the
// signature validity windows every replica agrees on (DESIGN.md §4):
// inception = base - 1h, expiration = base + signature-validity.
func WindowBase(t time.Time, step time.Duration) time.Time {
	s := int64(step / time.Second)
	if s < 1 {
		s = 1
	}
	sec := t.Unix()
	return time.Unix(sec-((sec%s)+s)%s, 0).UTC()
}

// Stamp formats t as RFC 3339 UTC, "-" when unset: how livesign writes
// times in logs, notes and reports.
func Stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
