package timeline

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// Inputs are what a Timeline is made from: the files of a zone, read, and
// its rollover policy.
type Inputs struct {
	Zone string
	ZSKs []*keystore.Key // the keys directory (KSKs there are ignored)

	// Exactly one of Bundle (a DNSKEY set signed offline: a single signed
	// RRset or an SKR) and KSKs (an online KSK, which signs the DNSKEY set
	// itself in windows aligned like the ZSK's) is set.
	Bundle *keystore.Bundle
	KSKs   []*keystore.Key

	Anchor *keystore.Anchor // nil: the bundle's own KSK is trusted

	// Foreign are the other providers' keys of a multi-signer zone (RFC
	// 8901 model 2, keystore.ReadForeign): the online KSK publishes them
	// all and lists their KSKs in the CDS and CDNSKEY; the server adds
	// their ZSKs to a single signed set as it adds its own; an SKR must
	// hold them as signed (Notes tells when a slot lacks one). They never
	// sign here.
	Foreign []*keystore.Key

	// Policy: a ZSK signs only once its DNSKEY has been served for
	// DNSKEYTTL + PropagationDelay; with an online KSK a ZSK that signed
	// past its Inactive time stays published MaxZoneTTL +
	// PropagationDelay + RetireSafety after it stopped, and the DNSKEY set
	// is signed for SignatureValidity in windows of SignatureRefresh. Zero
	// durations mean the defaults (keystore.DefaultPolicy).
	Policy keystore.Policy
}

// Timeline is the key timeline of one zone (see the package comment). Make
// it with New; it does not change after.
type Timeline struct {
	zone   string
	zsks   []*keystore.Key
	sets   dnskeySets
	anchor *keystore.Anchor
	policy keystore.Policy
	// foreign are the other providers' keys (Inputs.Foreign).
	foreign []*dns.DNSKEY

	retired map[*keystore.Key]time.Time // when each ZSK stops signing (online KSK)
	ttl     time.Duration               // the longest TTL the DNSKEY set is served with
}

// New returns the timeline of in. It fails when in names neither or both of
// a bundle and an online KSK.
func New(in Inputs) (*Timeline, error) {
	tl := &Timeline{zone: dns.CanonicalName(in.Zone), anchor: in.Anchor, policy: withDefaults(in.Policy)}
	for _, k := range in.Foreign {
		tl.foreign = append(tl.foreign, k.DNSKEY)
	}
	for _, k := range in.ZSKs {
		if !k.IsKSK() {
			tl.zsks = append(tl.zsks, k)
		}
	}
	switch {
	case in.Bundle != nil && len(in.KSKs) > 0:
		return nil, errors.New("timeline: a bundle and an online KSK: give one")
	case in.Bundle != nil:
		tl.sets = &bundleSets{b: in.Bundle}
	case len(in.KSKs) > 0:
		var ksks []*keystore.Key
		for _, k := range in.KSKs {
			if k.IsKSK() {
				ksks = append(ksks, k)
			}
		}
		tl.sets = &onlineSets{ksks: ksks}
	default:
		return nil, errors.New("timeline: neither a bundle nor an online KSK signs the DNSKEY set")
	}
	tl.ttl = tl.sets.ttl()
	tl.retired = map[*keystore.Key]time.Time{}
	for _, k := range tl.zsks {
		tl.retired[k] = tl.computeRetiredAt(k)
	}
	return tl, nil
}

// withDefaults fills the zero durations of p with keystore.DefaultPolicy's.
func withDefaults(p keystore.Policy) keystore.Policy {
	d := keystore.DefaultPolicy()
	for _, f := range []struct{ v, def *time.Duration }{
		{&p.ZSKLifetime, &d.ZSKLifetime}, {&p.DNSKEYTTL, &d.DNSKEYTTL}, {&p.MaxZoneTTL, &d.MaxZoneTTL},
		{&p.PropagationDelay, &d.PropagationDelay}, {&p.PublishSafety, &d.PublishSafety}, {&p.RetireSafety, &d.RetireSafety},
		{&p.SignatureValidity, &d.SignatureValidity}, {&p.SignatureRefresh, &d.SignatureRefresh},
	} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	return p
}

// Zone returns the zone's name, fully qualified, lower case.
func (tl *Timeline) Zone() string { return tl.zone }

// ZSKs returns the ZSKs of the keys directory.
func (tl *Timeline) ZSKs() []*keystore.Key { return tl.zsks }

// Bundle returns the offline-signed bundle, or nil with an online KSK.
func (tl *Timeline) Bundle() *keystore.Bundle {
	if b, ok := tl.sets.(*bundleSets); ok {
		return b.b
	}
	return nil
}

// KSKs returns the online KSKs, or nil with a bundle.
func (tl *Timeline) KSKs() []*keystore.Key {
	if o, ok := tl.sets.(*onlineSets); ok {
		return o.ksks
	}
	return nil
}

// Foreign returns the other providers' keys (Inputs.Foreign).
func (tl *Timeline) Foreign() []*dns.DNSKEY { return tl.foreign }

// foreignZSKs returns the other providers' ZSKs.
func (tl *Timeline) foreignZSKs() []*dns.DNSKEY {
	var out []*dns.DNSKEY
	for _, k := range tl.foreign {
		if k.Flags&dns.SEP == 0 {
			out = append(out, k)
		}
	}
	return out
}

// Anchor returns the trust anchor, or nil.
func (tl *Timeline) Anchor() *keystore.Anchor { return tl.anchor }

// Source names where the signed DNSKEY sets come from (the bundle's file,
// or the online KSK), for messages.
func (tl *Timeline) Source() string { return tl.sets.name() }

// At returns the key set in force at t, or an error that says why no valid
// set exists at t (bundle expired or not yet valid, no usable ZSK, ...).
//
// The signer is, among the ZSKs with a private key that are in the served
// DNSKEY set: the active one activated last whose DNSKEY has propagated; else
// (no eligible successor) the last one that was active, past its Inactive
// time, flagged as Fallback; else, when nothing has propagated yet (a zone
// just signed for the first time), the active one activated last.
func (tl *Timeline) At(t time.Time) (*KeySet, error) {
	slot, idx, next, err := tl.sets.at(tl, t)
	if err != nil {
		return nil, err
	}
	keys, err := tl.checkSlot(slot, t)
	var unanchored *keystore.UnanchoredError
	if errors.As(err, &unanchored) {
		// A KSK roll whose new DS the anchor lacks: stay on the newest
		// earlier set the anchored KSK signed, while its signatures last.
		slot, idx, keys, err = tl.sets.heldBack(tl, idx, t, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tl.Source(), err)
	}
	served := map[KeyRef]bool{}
	for _, k := range keys {
		served[RefOf(k)] = true
	}

	zsks, fallback, change := tl.signers(t, idx, served)
	if len(zsks) == 0 {
		return nil, fmt.Errorf("no ZSK of %s with a private key in the keys directory is active at %s and in the served DNSKEY set of %s (%s): add one to the keys directory and sign a new bundle with it",
			tl.zone, t.UTC().Format(time.RFC3339), tl.Source(), tl.unserved(served))
	}

	// RFC 4035 §2.2: every algorithm of the DNSKEY set signs every RRset.
	for _, k := range keys {
		if !slices.ContainsFunc(zsks, func(z *keystore.Key) bool { return z.DNSKEY.Algorithm == k.Algorithm }) {
			return nil, fmt.Errorf("%s: the DNSKEY set served at %s holds %s %d of algorithm %s, but no ZSK of that algorithm with a private key in the keys directory signs then: every algorithm of the DNSKEY set must sign every RRset (RFC 4035 §2.2); add that ZSK's private key, or sign a set without the algorithm",
				tl.Source(), Stamp(t), keyRole(k), k.KeyTag(), algorithmName(k.Algorithm))
		}
	}
	ks := &KeySet{ZSK: zsks[0], ZSKs: zsks, Fallback: fallback, From: t, Until: next}
	if unanchored != nil {
		ks.NeedDS = unanchored.KSKs
	}
	for _, k := range keys {
		ks.DNSKEY = append(ks.DNSKEY, k)
	}
	for _, s := range slot.ServedSigs() { // an RRSIG by a key the set lacks is not served
		switch s.TypeCovered {
		case dns.TypeDNSKEY:
			ks.DNSKEYSigs = append(ks.DNSKEYSigs, s)
		case dns.TypeCDS:
			ks.CDSSigs = append(ks.CDSSigs, s)
		case dns.TypeCDNSKEY:
			ks.CDNSKEYSig = append(ks.CDNSKEYSig, s)
		}
		if exp := keystore.SigTime(s.Expiration, t); exp.Before(ks.Until) {
			ks.Until = exp
		}
	}
	for _, r := range slot.CDS {
		ks.CDS = append(ks.CDS, r)
	}
	for _, r := range slot.CDNSKEY {
		ks.CDNSKEY = append(ks.CDNSKEY, r)
	}
	if change.After(t) && change.Before(ks.Until) {
		ks.Until = change
	}
	for _, e := range tl.events() {
		if e.After(t) && e.Before(ks.Until) {
			ks.Until = e
		}
	}
	return ks, nil
}

// events returns every instant the keys' timers name: when the choice of
// keys may change.
func (tl *Timeline) events() []time.Time {
	var out []time.Time
	for _, k := range append(append([]*keystore.Key{}, tl.KSKs()...), tl.zsks...) {
		out = append(out, k.Timers.Publish, k.Timers.Activate, k.Timers.Inactive, k.Timers.Delete)
		if tl.sets.retires() && !k.IsKSK() && !k.Timers.Inactive.IsZero() {
			r := tl.retiredAt(k)
			out = append(out, r, r.Add(tl.policy.Iret()))
		}
	}
	return out
}

// checkSlot verifies slot at t and returns the DNSKEY set to serve. A ZSK of
// the keys directory that its timers publish but a single signed set lacks
// (a bundle older than the key) is left out: the set is served as signed,
// and that key cannot sign until a bundle includes it (see Notes).
func (tl *Timeline) checkSlot(slot *keystore.Slot, t time.Time) ([]*dns.DNSKEY, error) {
	added := tl.sets.added(tl, t)
	keys, err := keystore.CheckSlot(slot, tl.zone, added, tl.anchor, t)
	if err == nil || !tl.sets.asSigned() || !hasZSK(slot) {
		return keys, err
	}
	own, err2 := keystore.CheckSlot(slot, tl.zone, nil, tl.anchor, t)
	if err2 != nil {
		return keys, err
	}
	for _, a := range added {
		for _, k := range own {
			if a.KeyTag() == k.KeyTag() && RefOf(a) != RefOf(k) {
				return nil, fmt.Errorf("a ZSK of the keys directory has key tag %d, as a key of the signed DNSKEY set: 2 keys with one tag; remove that ZSK's files and make another (livesign keygen)", a.KeyTag())
			}
		}
	}
	return own, nil
}

// End returns when the signatures of the DNSKEY sets run out, seen from
// now: the first instant at or after now at which the set in force has no
// valid DNSKEY RRSIG (a gap between a bundle's slots, or the end of the
// last one; see keystore.Bundle.FirstGap). An online KSK never runs out.
func (tl *Timeline) End(now time.Time) time.Time { return tl.sets.end(now) }

// Check verifies every DNSKEY set that is or will be in force at or after
// now, each at the first instant it is in force: its signatures, and that a
// ZSK with a private key can sign then. The error names the slot. Key files
// whose timers disagree with the signed sets are not errors (the sets are
// served as signed, see checkSlot): Notes tells about them.
func (tl *Timeline) Check(now time.Time) error { return tl.sets.check(tl, now) }

// Notes tells, one line per key, where the key files' timers and the signed
// DNSKEY sets in force at or after now disagree, and what to do: a ZSK the
// timers publish but a set lacks cannot sign until a bundle with it is
// installed (the key in force keeps signing, past its Inactive time if it
// must); a ZSK a set holds that its timers do not publish is served anyway.
// Both happen normally after auto-plan or livesign plan made new keys that
// the offline side has not signed yet.
func (tl *Timeline) Notes(now time.Time) []string { return tl.sets.notes(tl, now) }

// DSDeadline returns when the parent must have the DS of a KSK the trust
// anchor does not name: the start of the first DNSKEY set, in force at or
// after now, that only such KSKs sign (a KSK roll), and those KSKs. ok is
// false when every set ahead is signed by an anchored KSK.
func (tl *Timeline) DSDeadline(now time.Time) (at time.Time, ksks []*dns.DNSKEY, ok bool) {
	return tl.sets.dsDeadline(tl, now)
}

// wait is how long a ZSK's DNSKEY must have been served before it signs:
// the DNSKEY TTL plus propagation-delay. The TTL is dnskey-ttl or, when
// the bundle serves its DNSKEY set with a longer one, that: validators
// cache the set for the TTL they are given.
func (tl *Timeline) wait() time.Duration {
	return max(tl.policy.DNSKEYTTL, tl.ttl) + tl.policy.PropagationDelay
}

// hasZSK tells whether the slot's signed DNSKEY set holds a ZSK.
func hasZSK(s *keystore.Slot) bool {
	for _, k := range s.DNSKEY {
		if k.Flags&dns.SEP == 0 {
			return true
		}
	}
	return false
}

// unserved says which ZSKs with a private key the keys directory holds
// that the served DNSKEY set lacks, for the error that no ZSK can sign.
func (tl *Timeline) unserved(served map[KeyRef]bool) string {
	var tags []string
	for _, k := range tl.zsks {
		if k.Signer != nil && !served[RefOf(k.DNSKEY)] {
			tags = append(tags, fmt.Sprint(k.Tag()))
		}
	}
	switch len(tags) {
	case 0:
		return "the keys directory has no ZSK with a private key outside that set"
	case 1:
		return "the keys directory's ZSK " + tags[0] + " is not in that set"
	}
	return "the keys directory's ZSKs " + strings.Join(tags, ", ") + " are not in that set"
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}

var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// keyRole is "KSK" or "ZSK" by the SEP flag.
func keyRole(k *dns.DNSKEY) string {
	if k.Flags&dns.SEP != 0 {
		return "KSK"
	}
	return "ZSK"
}

// algorithmName is "NAME (N)", or N for an algorithm miekg/dns has no name for.
func algorithmName(a uint8) string {
	if n, ok := dns.AlgorithmToString[a]; ok {
		return fmt.Sprintf("%s (%d)", n, a)
	}
	return fmt.Sprint(a)
}
