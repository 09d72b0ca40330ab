package keystore

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/miekg/dns"
)

// SignPolicy says how the KSK side signs a KSR.
type SignPolicy struct {
	// Validity is the RRSIG lifetime counted from each slot's start (default 14d).
	Validity time.Duration
	// Refresh is how long before expiry a slot is re-signed: between key
	// events a new slot starts every Validity-Refresh (default 5d). It must
	// be at least the DNSKEY TTL.
	Refresh time.Duration
	// Inception back-dates each RRSIG's inception before its slot start, for
	// clock skew; zero means the layout's habit: 1h (BIND), 90m (Knot).
	Inception time.Duration
	// End is the end of the period the SKR is to cover; the last KSR slot
	// is re-signed up to it exactly as BIND dnssec-ksr sign -e does (a slot
	// at End when the first refresh step passes it). Zero means the
	// last KSR slot's start (Knot's and livesign plan's KSRs end with a
	// slot at the end of their period).
	End time.Time
	// Generated goes on the SKR's closing "generated at" line.
	Generated time.Time
	// Foreign are other providers' KSKs (multi-signer, RFC 8901 model 2):
	// in every slot's DNSKEY set and CDS/CDNSKEY sets, never signing.
	// Their ZSKs come in the KSR (livesign plan -foreign).
	Foreign []*dns.DNSKEY
}

// Default signing policy (the BIND/Knot habits for an offline KSK).
const (
	DefaultSKRValidity = 14 * 24 * time.Hour
	DefaultSKRRefresh  = 5 * 24 * time.Hour
)

// SignKSR signs a KSR with the KSKs (each with its private key) into an SKR
// bundle, the way BIND 9.20 dnssec-ksr sign and Knot keymgr sign-ksr do.
// For every KSR slot, and again every Validity-Refresh until the next slot
// (and at every KSK timer event in between), it makes a slot whose DNSKEY
// RRset is the KSKs published then plus the KSR slot's ZSKs, with CDNSKEY
// and CDS (SHA-256) of the active KSKs, all three signed by every active KSK:
// inception slot start - Inception, expiration slot start + Validity. The
// DNSKEY order is BIND's (KSKs, then the KSR's order) or Knot's (canonical),
// after ksr.Layout. The KSR is checked first with CheckKSR.
func SignKSR(ksr *KSR, ksks []*Key, p SignPolicy) (*Bundle, error) {
	if len(ksks) == 0 {
		return nil, fmt.Errorf("keystore: no KSK to sign %s with", ksr.File)
	}
	for _, k := range ksks {
		if !k.IsKSK() {
			return nil, fmt.Errorf("keystore: key %d (%s) has flags %d, not a KSK (257): sign KSRs with KSKs only", k.Tag(), k.Base, k.DNSKEY.Flags)
		}
		if k.Signer == nil {
			return nil, fmt.Errorf("keystore: KSK %d (%s) has no private key: read it with its .private file", k.Tag(), k.Base)
		}
	}
	if err := CheckKSR(ksr, ksks); err != nil {
		return nil, err
	}
	if p.Validity == 0 {
		p.Validity = DefaultSKRValidity
	}
	if p.Refresh == 0 {
		p.Refresh = DefaultSKRRefresh
	}
	if p.Inception == 0 {
		p.Inception = time.Hour
		if ksr.Layout == LayoutKnot {
			p.Inception = 90 * time.Minute
		}
	}
	ttl := ksrTTL(ksr)
	step := p.Validity - p.Refresh
	switch {
	case step <= 0:
		return nil, fmt.Errorf("keystore: signature validity %s must exceed the refresh %s", p.Validity, p.Refresh)
	case p.Refresh < time.Duration(ttl)*time.Second:
		return nil, fmt.Errorf("keystore: signature refresh %s is shorter than the DNSKEY TTL %ds: a cached RRSIG would expire; refresh at least a TTL before expiry", p.Refresh, ttl)
	}
	last := ksr.Slots[len(ksr.Slots)-1].Start
	end := p.End
	if end.IsZero() {
		end = last
	}
	if end.Before(last) {
		return nil, fmt.Errorf("keystore: %s: the end %s is before the last KSR slot %s: give a later end", ksr.File, end.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339))
	}
	events := kskEvents(ksks)
	b := &Bundle{File: ksr.File, SKR: true, Generated: p.Generated.UTC().Truncate(time.Second)}
	for i, ks := range ksr.Slots {
		next, final := end, i == len(ksr.Slots)-1
		if !final {
			next = ksr.Slots[i+1].Start
		}
		for t, firstStep := ks.Start, true; ; firstStep = false {
			s, err := signSlot(ksr, i, ksks, t, ttl, p)
			if err != nil {
				return nil, err
			}
			b.Slots = append(b.Slots, *s)
			nt := t.Add(step)
			for _, e := range events {
				if e.After(t) && e.Before(nt) {
					nt = e
				}
			}
			// As dnssec-ksr sign: the first step of the last KSR slot
			// stops at the end, so that the end itself gets a slot.
			if final && firstStep && nt.After(end) && t.Before(end) {
				nt = end
			}
			if (!final && !nt.Before(next)) || (final && nt.After(end)) {
				break
			}
			t = nt
		}
	}
	return b, nil
}

// signSlot makes the SKR slot at t from KSR slot i.
func signSlot(ksr *KSR, i int, ksks []*Key, t time.Time, ttl uint32, p SignPolicy) (*Slot, error) {
	zone := ksr.Zone
	hdr := func(typ uint16) dns.RR_Header {
		return dns.RR_Header{Name: zone, Rrtype: typ, Class: dns.ClassINET, Ttl: ttl}
	}
	s := &Slot{Start: t.UTC()}
	// A KSK joins the set with a ZSK of its algorithm (RFC 4035 §2.2): in
	// an algorithm roll the new KSK waits for the new ZSK, published once
	// the new algorithm signs every RRset (livesign plan), and the old KSK
	// leaves with the old ZSKs (livesign plan -retire-old); RFC 6781 §4.1.4.
	zskAlgs := map[uint8]bool{}
	for _, z := range ksr.Slots[i].DNSKEY {
		zskAlgs[z.Algorithm] = true
	}
	var signers []*Key
	for _, k := range ksks {
		if len(zskAlgs) > 0 && !zskAlgs[k.DNSKEY.Algorithm] {
			continue
		}
		if k.PublishedAt(t) || k.ActiveAt(t) {
			c := dns.Copy(k.DNSKEY).(*dns.DNSKEY)
			c.Hdr = hdr(dns.TypeDNSKEY)
			s.DNSKEY = append(s.DNSKEY, c)
		}
		if !k.ActiveAt(t) {
			continue
		}
		signers = append(signers, k)
		cdnskey := k.DNSKEY.ToCDNSKEY()
		cdnskey.Hdr = hdr(dns.TypeCDNSKEY)
		s.CDNSKEY = append(s.CDNSKEY, cdnskey)
		ds := k.DNSKEY.ToDS(dns.SHA256)
		if ds == nil {
			return nil, fmt.Errorf("keystore: cannot make the CDS of KSK %d", k.Tag())
		}
		cds := ds.ToCDS()
		cds.Hdr = hdr(dns.TypeCDS)
		s.CDS = append(s.CDS, cds)
	}
	for _, f := range p.Foreign {
		if f.Flags&dns.SEP == 0 || len(zskAlgs) > 0 && !zskAlgs[f.Algorithm] {
			continue
		}
		c := dns.Copy(f).(*dns.DNSKEY)
		c.Hdr = hdr(dns.TypeDNSKEY)
		s.DNSKEY = append(s.DNSKEY, c)
		cdnskey := f.ToCDNSKEY()
		cdnskey.Hdr = hdr(dns.TypeCDNSKEY)
		s.CDNSKEY = append(s.CDNSKEY, cdnskey)
		ds := f.ToDS(dns.SHA256)
		if ds == nil {
			return nil, fmt.Errorf("keystore: cannot make the CDS of the other provider's KSK %d", f.KeyTag())
		}
		cds := ds.ToCDS()
		cds.Hdr = hdr(dns.TypeCDS)
		s.CDS = append(s.CDS, cds)
	}
	where := fmt.Sprintf("keystore: %s:%d: slot %d (%s)", ksr.File, ksr.Slots[i].Line, i+1, t.UTC().Format(time.RFC3339))
	for _, z := range ksr.Slots[i].DNSKEY {
		if len(signers) == 0 && !slices.ContainsFunc(ksks, func(k *Key) bool { return k.ActiveAt(t) }) {
			break
		}
		// RFC 4035 §2.2: every algorithm of the set signs the set; a
		// ZSK's algorithm needs a KSK of that algorithm signing here.
		if !slices.ContainsFunc(signers, func(k *Key) bool { return k.DNSKEY.Algorithm == z.Algorithm }) {
			return nil, fmt.Errorf("%s: ZSK %d has algorithm %s but no KSK of that algorithm is active then (%s): every algorithm of the DNSKEY set must sign it (RFC 4035 §2.2); in an algorithm roll, give the new algorithm's KSK timers that cover the slot (livesign keygen -publish TIME -activate TIME)",
				where, z.KeyTag(), algName(z.Algorithm), describeTimers(ksks))
		}
		c := dns.Copy(z).(*dns.DNSKEY)
		c.Hdr = hdr(dns.TypeDNSKEY)
		s.DNSKEY = append(s.DNSKEY, c)
	}
	if len(signers) == 0 {
		return nil, fmt.Errorf("%s: no KSK is active then (%s): the slot would have no RRSIG; give the KSK timers that cover the slot (livesign keygen -publish TIME -activate TIME for a new KSK, or dnssec-settime -P/-A) or sign a KSR that starts later", where, describeTimers(ksks))
	}
	if ksr.Layout == LayoutKnot {
		canonicalSort(s.DNSKEY)
	}
	if err := checkTagCollisions(s.DNSKEY); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	sigs, err := signKeySets(zone, signers, [][]dns.RR{asRRs(s.DNSKEY), asRRs(s.CDNSKEY), asRRs(s.CDS)}, ttl, t.Add(-p.Inception), t.Add(p.Validity))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	s.RRSIGs = append(s.RRSIGs, sigs...)
	sort.SliceStable(s.RRSIGs, func(a, b int) bool {
		return sigOrder(s.RRSIGs[a].TypeCovered) < sigOrder(s.RRSIGs[b].TypeCovered)
	})
	return s, nil
}

// sigOrder orders RRSIGs in a slot: DNSKEY, CDNSKEY, CDS.
func sigOrder(t uint16) int {
	switch t {
	case dns.TypeDNSKEY:
		return 0
	case dns.TypeCDNSKEY:
		return 1
	}
	return 2
}

// ksrTTL is the TTL of the KSR's DNSKEYs: the smallest given (as BIND does), 3600 if none.
func ksrTTL(ksr *KSR) uint32 {
	ttl := uint32(0)
	for _, s := range ksr.Slots {
		for _, k := range s.DNSKEY {
			if k.Hdr.Ttl > 0 && (ttl == 0 || k.Hdr.Ttl < ttl) {
				ttl = k.Hdr.Ttl
			}
		}
	}
	if ttl == 0 {
		ttl = 3600
	}
	return ttl
}

// kskEvents returns every timer of the KSKs, sorted.
func kskEvents(ksks []*Key) []time.Time {
	var ev []time.Time
	for _, k := range ksks {
		for _, e := range []time.Time{k.Timers.Publish, k.Timers.Activate, k.Timers.Inactive, k.Timers.Delete} {
			if !e.IsZero() {
				ev = append(ev, e)
			}
		}
	}
	sort.Slice(ev, func(i, j int) bool { return ev[i].Before(ev[j]) })
	return ev
}

// describeTimers lists the KSKs with their Activate/Inactive timers.
func describeTimers(ksks []*Key) string {
	s := ""
	for i, k := range ksks {
		if i > 0 {
			s += "; "
		}
		s += fmt.Sprintf("KSK %d Activate %s", k.Tag(), fmtTime(first(k.Timers.Activate, k.Timers.Created)))
		if !k.Timers.Inactive.IsZero() {
			s += " Inactive " + fmtTime(k.Timers.Inactive)
		}
	}
	return s
}

// fmtTime formats t as RFC 3339 UTC, or "unset".
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "unset"
	}
	return t.UTC().Format(time.RFC3339)
}
