package livesign

import (
	"fmt"
	"sort"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// KeySet is what a zone serves during one stretch of time: the DNSKEY RRset
// with the offline KSK's signatures, CDS/CDNSKEY if the bundle has them, and
// the ZSK that signs everything else.
type KeySet struct {
	DNSKEY     []dns.RR // served DNSKEY RRset, canonical order
	DNSKEYSigs []dns.RR // the bundle's RRSIGs over DNSKEY
	CDS        []dns.RR
	CDSSigs    []dns.RR
	CDNSKEY    []dns.RR
	CDNSKEYSig []dns.RR
	ZSK        *keystore.Key // signs every other RRset

	From  time.Time // first instant this set is in force
	Until time.Time // first instant it may no longer be: ask the Timeline again then
}

// Tag returns the key tag of the signing ZSK.
func (ks *KeySet) Tag() uint16 { return ks.ZSK.Tag() }

// Timeline is the key timeline of one zone: the ZSKs from the keys directory
// and the offline-signed bundle, checked against the trust anchor. It reads no
// clock: At is a pure function of its inputs and t, so replicas sharing the
// same files pick the same keys at the same instant.
type Timeline struct {
	Zone   string
	ZSKs   []*keystore.Key
	Bundle *keystore.Bundle
	Anchor *keystore.Anchor // nil: the bundle's own KSK is trusted
}

// At returns the key set in force at t, or an error that says why no valid
// set exists at t (bundle expired or not yet valid, no active ZSK, ...).
func (tl *Timeline) At(t time.Time) (*KeySet, error) {
	slot, next, err := tl.slotAt(t)
	if err != nil {
		return nil, err
	}

	var published []*dns.DNSKEY
	for _, k := range tl.ZSKs {
		if !k.IsKSK() && k.PublishedAt(t) {
			published = append(published, k.DNSKEY)
		}
	}
	keys, err := keystore.CheckSlot(slot, tl.Zone, published, tl.Anchor, t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tl.Bundle.File, err)
	}

	zsk := tl.signer(t)
	if zsk == nil {
		return nil, fmt.Errorf("no ZSK with a private key is active at %s for %s: add one to the keys directory", t.UTC().Format(time.RFC3339), tl.Zone)
	}

	ks := &KeySet{ZSK: zsk, From: t, Until: next}
	for _, k := range keys {
		ks.DNSKEY = append(ks.DNSKEY, k)
	}
	for _, s := range slot.RRSIGs {
		switch s.TypeCovered {
		case dns.TypeDNSKEY:
			ks.DNSKEYSigs = append(ks.DNSKEYSigs, s)
		case dns.TypeCDS:
			ks.CDSSigs = append(ks.CDSSigs, s)
		case dns.TypeCDNSKEY:
			ks.CDNSKEYSig = append(ks.CDNSKEYSig, s)
		}
		if exp := sigTime(s.Expiration, t); exp.Before(ks.Until) {
			ks.Until = exp
		}
	}
	for _, r := range slot.CDS {
		ks.CDS = append(ks.CDS, r)
	}
	for _, r := range slot.CDNSKEY {
		ks.CDNSKEY = append(ks.CDNSKEY, r)
	}
	for _, k := range tl.ZSKs {
		for _, e := range []time.Time{k.Timers.Publish, k.Timers.Activate, k.Timers.Inactive, k.Timers.Delete} {
			if e.After(t) && e.Before(ks.Until) {
				ks.Until = e
			}
		}
	}
	return ks, nil
}

// slotAt returns the slot in force at t: the newest whose start is not after
// t. The last slot stays in force until its signatures expire. next is the
// start of the following slot, or a far future time.
func (tl *Timeline) slotAt(t time.Time) (*keystore.Slot, time.Time, error) {
	slots := tl.Bundle.Slots
	i := sort.Search(len(slots), func(i int) bool { return slots[i].Start.After(t) })
	if i == 0 {
		if len(slots) == 0 {
			return nil, t, fmt.Errorf("%s: the bundle holds no DNSKEY set", tl.Bundle.File)
		}
		return nil, t, fmt.Errorf("%s: the bundle is not valid before %s: its first DNSKEY signature starts then",
			tl.Bundle.File, slots[0].Start.UTC().Format(time.RFC3339))
	}
	next := farFuture
	if i < len(slots) {
		next = slots[i].Start
	}
	return &slots[i-1], next, nil
}

// signer picks the ZSK that signs at t: among the keys with a private half
// that are active at t, the one activated last (lowest tag on a tie), so
// that exactly one key signs at any instant.
func (tl *Timeline) signer(t time.Time) *keystore.Key {
	var best *keystore.Key
	for _, k := range tl.ZSKs {
		if k.IsKSK() || k.Signer == nil || !k.ActiveAt(t) || !k.PublishedAt(t) {
			continue
		}
		if best == nil || activation(k).After(activation(best)) ||
			(activation(k).Equal(activation(best)) && k.Tag() < best.Tag()) {
			best = k
		}
	}
	return best
}

func activation(k *keystore.Key) time.Time {
	if !k.Timers.Activate.IsZero() {
		return k.Timers.Activate
	}
	return k.Timers.Created
}

var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// sigTime turns a 32-bit RRSIG time into the instant nearest to ref (RFC 4034
// serial number arithmetic).
func sigTime(v uint32, ref time.Time) time.Time {
	r := ref.Unix()
	return time.Unix(r+int64(int32(v-uint32(r))), 0).UTC()
}
