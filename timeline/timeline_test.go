package timeline

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/livesign/livesign/internal/keytest"
	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

const (
	ldnsZone   = "example.net."
	ldnsBundle = "../testdata/ldns-classic/bundle.zone"
	ldnsZSKTag = 44013
	ldnsKSKTag = 41401
)

var (
	ldnsZSKCreated     = time.Date(2026, 11, 23, 15, 43, 29, 0, time.UTC)
	ldnsBundleStart    = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ldnsBundleEnd      = time.Date(2027, 11, 1, 0, 0, 0, 0, time.UTC)
	ldnsBundleStartStr = "2026-11-01T00:00:00Z"
	ldnsBundleEndStr   = "2027-11-01T00:00:00Z"
)

// ldnsTimeline is the timeline of the ldns-classic fixture; public reads
// the keys directory without the private halves.
func ldnsTimeline(t *testing.T, public bool) *Timeline {
	t.Helper()
	dir := copyKeys(t, "../testdata/ldns-classic/zsk")
	sel := keystore.Selection{Zone: ldnsZone, Private: keystore.PrivateRequired}
	if public {
		sel.Private = keystore.PublicOnly
	}
	keys, err := keystore.ReadKeys(dir, sel)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].Tag() != ldnsZSKTag {
		t.Fatalf("fixture keys: %d keys, want ZSK %d", len(keys), ldnsZSKTag)
	}
	b, err := keystore.ReadBundle(ldnsBundle, ldnsZone)
	if err != nil {
		t.Fatal(err)
	}
	a, err := keystore.ReadAnchor("../testdata/ldns-classic/ksk.ds", ldnsZone)
	if err != nil {
		t.Fatal(err)
	}
	return mustNew(t, Inputs{Zone: ldnsZone, ZSKs: keys, Bundle: b, Anchor: a})
}

func keyTags(rrs []dns.RR) []uint16 {
	var tags []uint16
	for _, rr := range rrs {
		if k, ok := rr.(*dns.DNSKEY); ok {
			tags = append(tags, k.KeyTag())
		}
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i] < tags[j] })
	return tags
}

func sameTags(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkKeySet checks what every key set must satisfy at t: the DNSKEY set
// holds the signing ZSK, and the bundle's RRSIGs verify over it and are valid.
func checkKeySet(t *testing.T, ks *KeySet, at time.Time) {
	t.Helper()
	if ks.ZSK == nil || ks.ZSK.Signer == nil {
		t.Fatalf("key set at %s has no ZSK with a private key", at)
	}
	if !ks.From.Equal(at) || !ks.Until.After(at) {
		t.Errorf("key set at %s is in force [%s, %s)", at, ks.From, ks.Until)
	}
	rrset := make([]dns.RR, len(ks.DNSKEY))
	copy(rrset, ks.DNSKEY)
	found := false
	for _, rr := range ks.DNSKEY {
		if k := rr.(*dns.DNSKEY); k.KeyTag() == ks.Tag() && k.PublicKey == ks.ZSK.DNSKEY.PublicKey {
			found = true
		}
	}
	if !found {
		t.Errorf("signing ZSK %d is not in the served DNSKEY set %v", ks.Tag(), keyTags(ks.DNSKEY))
	}
	if len(ks.DNSKEYSigs) == 0 {
		t.Fatalf("no RRSIG over DNSKEY at %s", at)
	}
	for _, rr := range ks.DNSKEYSigs {
		sig := rr.(*dns.RRSIG)
		var signer *dns.DNSKEY
		for _, k := range ks.DNSKEY {
			if k := k.(*dns.DNSKEY); k.KeyTag() == sig.KeyTag && k.Flags&dns.SEP != 0 {
				signer = k
			}
		}
		if signer == nil {
			t.Errorf("RRSIG by %d: no such KSK in the DNSKEY set", sig.KeyTag)
			continue
		}
		if err := sig.Verify(signer, rrset); err != nil {
			t.Errorf("RRSIG by %d does not verify over the served DNSKEY set: %v", sig.KeyTag, err)
		}
		if !sig.ValidityPeriod(at) {
			t.Errorf("RRSIG by %d is not valid at %s", sig.KeyTag, at)
		}
	}
}

func TestTimelineLDNSClassic(t *testing.T) {
	tl := ldnsTimeline(t, false)
	bundleSig := tl.Bundle().Slots[0].RRSIGs[0]
	for _, at := range []time.Time{
		ldnsZSKCreated, // the ZSK's Publish/Activate
		ldnsZSKCreated.Add(time.Second),
		testNow,
		time.Date(2027, 6, 15, 12, 0, 0, 0, time.UTC),
		ldnsBundleEnd.Add(-time.Second),
	} {
		t.Run(at.Format(time.RFC3339), func(t *testing.T) {
			ks, err := tl.At(at)
			if err != nil {
				t.Fatal(err)
			}
			if ks.Tag() != ldnsZSKTag {
				t.Errorf("signing ZSK %d, want %d", ks.Tag(), ldnsZSKTag)
			}
			if got, want := keyTags(ks.DNSKEY), []uint16{ldnsKSKTag, ldnsZSKTag}; !sameTags(got, want) {
				t.Errorf("DNSKEY set %v, want %v", got, want)
			}
			for _, rr := range ks.DNSKEY {
				if h := rr.Header(); h.Ttl != 3600 || h.Name != ldnsZone || h.Class != dns.ClassINET {
					t.Errorf("DNSKEY %s: want owner %s TTL 3600 class IN", rr, ldnsZone)
				}
			}
			if len(ks.DNSKEYSigs) != 1 || ks.DNSKEYSigs[0].String() != bundleSig.String() {
				t.Errorf("DNSKEY RRSIGs %v, want the bundle's %s", ks.DNSKEYSigs, bundleSig)
			}
			if len(ks.CDS)+len(ks.CDNSKEY)+len(ks.CDSSigs)+len(ks.CDNSKEYSig) != 0 {
				t.Errorf("CDS/CDNSKEY from a bundle that has none")
			}
			// Until the ZSK's DNSKEY has propagated (published + DNSKEY TTL +
			// propagation delay) the choice is re-examined then.
			wantUntil := ldnsBundleEnd
			if ready := ldnsZSKCreated.Add(keystore.DefaultPolicy().DNSKEYTTL + keystore.DefaultPolicy().PropagationDelay); at.Before(ready) {
				wantUntil = ready
			}
			if !ks.Until.Equal(wantUntil) {
				t.Errorf("Until = %s, want %s", ks.Until, wantUntil)
			}
			checkKeySet(t, ks, at)
		})
	}
}

func TestTimelineLDNSClassicErrors(t *testing.T) {
	tests := []struct {
		name   string
		at     time.Time
		public bool
		want   []string // substrings of the error
	}{
		{"before the bundle's inception", ldnsBundleStart.Add(-time.Second), false, []string{ldnsBundle, ldnsBundleStartStr}},
		{"a year before the bundle", ldnsBundleStart.AddDate(-1, 0, 0), false, []string{ldnsBundle, ldnsBundleStartStr}},
		{"just after the bundle's expiration", ldnsBundleEnd.Add(time.Second), false, []string{ldnsBundle, ldnsBundleEndStr, "2027-11-01T00:00:01Z"}},
		{"a month after expiration", ldnsBundleEnd.AddDate(0, 1, 0), false, []string{ldnsBundle, ldnsBundleEndStr, "2027-12-01T00:00:00Z"}},
		{"bundle valid, ZSK not yet published", ldnsBundleStart.AddDate(0, 0, 10), false, []string{"no ZSK", ldnsZone, "2026-11-11T00:00:00Z"}},
		{"just before the ZSK activates", ldnsZSKCreated.Add(-time.Second), false, []string{"no ZSK"}},
		{"only the .key file", testNow, true, []string{"no ZSK", ldnsZone}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl := ldnsTimeline(t, tc.public)
			ks, err := tl.At(tc.at)
			if err == nil {
				t.Fatalf("At(%s) = ZSK %d, want an error", tc.at, ks.Tag())
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// gen is a generated zone (keytest.Gen) that makes timelines.
type gen struct{ *keytest.Gen }

func newGen(t *testing.T, zone string) *gen { return &gen{keytest.New(t, zone)} }

func (g *gen) key(ksk bool, tm keystore.Timers) *keystore.Key { return g.Key(ksk, tm) }

func (g *gen) slot(from, to time.Time, zsks ...*keystore.Key) keystore.Slot {
	return g.Slot(from, to, zsks...)
}

func (g *gen) timeline(zsks []*keystore.Key, slots ...keystore.Slot) *Timeline {
	return g.timelineWith(keystore.Policy{}, zsks, slots...)
}

// timelineWith is timeline under policy p.
func (g *gen) timelineWith(p keystore.Policy, zsks []*keystore.Key, slots ...keystore.Slot) *Timeline {
	return mustNew(g.T, Inputs{Zone: g.Zone, ZSKs: zsks, Bundle: g.Bundle(slots...), Anchor: g.Anchor(), Policy: p})
}

// mustNew is New, failing the test on an error.
func mustNew(t testing.TB, in Inputs) *Timeline {
	t.Helper()
	tl, err := New(in)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

var (
	t0 = time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	t1 = t0.Add(30 * 24 * time.Hour)
)

// TestTimelineRollover: a pre-publish roll from A to B at t1, under one
// bundle signed over KSK+A+B.
func TestTimelineRollover(t *testing.T) {
	g := newGen(t, "roll.example.")
	a := g.key(false, keystore.Timers{Created: t0.AddDate(0, -1, 0), Publish: t0.AddDate(0, -1, 0), Activate: t0, Inactive: t1})
	b := g.key(false, keystore.Timers{Created: t0.AddDate(0, -1, 0), Publish: t0, Activate: t1})
	bundleEnd := t1.AddDate(0, 2, 0)
	tl := g.timeline([]*keystore.Key{a, b}, g.slot(t0.AddDate(0, -1, 0), bundleEnd, a, b))
	tests := []struct {
		name  string
		at    time.Time
		want  *keystore.Key
		until time.Time
	}{
		{"A activates", t0, a, t1},
		{"between", t0.Add(10 * 24 * time.Hour), a, t1},
		{"last second of A", t1.Add(-time.Second), a, t1},
		{"last nanosecond of A", t1.Add(-time.Nanosecond), a, t1},
		{"B activates", t1, b, bundleEnd},
		{"after the roll", t1.Add(24 * time.Hour), b, bundleEnd},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := tl.At(tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if ks.ZSK != tc.want {
				t.Errorf("At(%s) signs with %d, want %d", tc.at, ks.Tag(), tc.want.Tag())
			}
			if !ks.Until.Equal(tc.until) {
				t.Errorf("Until = %s, want %s", ks.Until, tc.until)
			}
			if got, want := len(ks.DNSKEY), 3; got != want {
				t.Errorf("%d DNSKEYs, want %d", got, want)
			}
			checkKeySet(t, ks, tc.at)
		})
	}
	// Before any ZSK is active there is nothing to sign with.
	if ks, err := tl.At(t0.Add(-time.Second)); err == nil || !strings.Contains(err.Error(), "no ZSK") {
		t.Errorf("At before A activates = %v, %v; want an error mentioning \"no ZSK\"", ks, err)
	}
}

// TestTimelineSlots: an SKR-like bundle of two slots; the second adds B.
// Until stops at the next slot's start.
func TestTimelineSlots(t *testing.T) {
	g := newGen(t, "slots.example.")
	a := g.key(false, keystore.Timers{Created: t0.AddDate(0, -1, 0), Activate: t0, Inactive: t1})
	b := g.key(false, keystore.Timers{Created: t0.AddDate(0, -1, 0), Publish: t0.AddDate(0, 0, 20), Activate: t1})
	s2 := t0.AddDate(0, 0, 15)
	tl := g.timeline([]*keystore.Key{a, b},
		g.slot(t0.AddDate(0, -1, 0), s2.AddDate(0, 0, 14), a),
		g.slot(s2, t1.AddDate(0, 2, 0), a, b))
	tests := []struct {
		at    time.Time
		want  *keystore.Key
		keys  int
		until time.Time
	}{
		{t0, a, 2, s2},
		{s2.Add(-time.Second), a, 2, s2},
		{s2, a, 3, b.Timers.Publish},
		{b.Timers.Publish, a, 3, t1},
		{t1, b, 3, t1.AddDate(0, 2, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.at.Format(time.RFC3339), func(t *testing.T) {
			ks, err := tl.At(tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if ks.ZSK != tc.want || len(ks.DNSKEY) != tc.keys || !ks.Until.Equal(tc.until) {
				t.Errorf("At(%s) = ZSK %d, %d DNSKEYs, until %s; want %d, %d, %s",
					tc.at, ks.Tag(), len(ks.DNSKEY), ks.Until, tc.want.Tag(), tc.keys, tc.until)
			}
			checkKeySet(t, ks, tc.at)
		})
	}
}

// TestTimelinePublicOnlyZSK: a ZSK without its private half is never chosen,
// even when it is the most recently activated key.
func TestTimelinePublicOnlyZSK(t *testing.T) {
	g := newGen(t, "public.example.")
	a := g.key(false, keystore.Timers{Created: t0, Activate: t0})
	c := g.key(false, keystore.Timers{Created: t0, Activate: t0.Add(24 * time.Hour)})
	c.Signer = nil // only the .key file was read
	end := t1.AddDate(0, 2, 0)
	tl := g.timeline([]*keystore.Key{a, c}, g.slot(t0.AddDate(0, -1, 0), end, a, c))
	for _, at := range []time.Time{t0, t0.Add(24 * time.Hour), t0.Add(48 * time.Hour), t1} {
		ks, err := tl.At(at)
		if err != nil {
			t.Fatalf("At(%s): %v", at, err)
		}
		if ks.ZSK != a {
			t.Errorf("At(%s) signs with %d, want %d (ZSK %d has no private key)", at, ks.Tag(), a.Tag(), c.Tag())
		}
	}
	// Without a: nothing can sign.
	only := g.timeline([]*keystore.Key{c}, g.slot(t0.AddDate(0, -1, 0), end, c))
	if ks, err := only.At(t0.Add(48 * time.Hour)); err == nil || !strings.Contains(err.Error(), "no ZSK") {
		t.Errorf("At with only a public ZSK = %v, %v; want an error mentioning \"no ZSK\"", ks, err)
	}
}

// TestTimelineNoGap: DESIGN.md §3, "active periods never have a gap; if no
// eligible successor exists the current key keeps signing". A whose
// Inactive time passes without a successor keeps signing rather than the
// zone going bogus/SERVFAIL.
func TestTimelineNoGap(t *testing.T) {
	g := newGen(t, "gap.example.")
	a := g.key(false, keystore.Timers{Created: t0, Activate: t0, Inactive: t1})
	tl := g.timeline([]*keystore.Key{a}, g.slot(t0.AddDate(0, -1, 0), t1.AddDate(0, 2, 0), a))
	for _, at := range []time.Time{t1.Add(-time.Second), t1, t1.Add(24 * time.Hour)} {
		ks, err := tl.At(at)
		if err != nil {
			t.Errorf("At(%s): %v; want A (%d) to keep signing", at, err, a.Tag())
			continue
		}
		if ks.ZSK != a {
			t.Errorf("At(%s) signs with %d, want %d", at, ks.Tag(), a.Tag())
		}
	}
}

// TestTimelineSuccessorNotYetPropagated: DESIGN.md §3, "the signing ZSK is in
// the served DNSKEY set and has been in it for >= dnskey-ttl +
// propagation-delay". B enters the served DNSKEY set only at t1 (the slot
// starting at t1 is the first to hold it) and its timers say Publish =
// Activate = t1: resolvers still hold the old DNSKEY set for a DNSKEY TTL
// (3600 s), so B must not sign yet and A keeps signing.
func TestTimelineSuccessorNotYetPropagated(t *testing.T) {
	g := newGen(t, "prop.example.")
	a := g.key(false, keystore.Timers{Created: t0, Activate: t0, Inactive: t1})
	b := g.key(false, keystore.Timers{Created: t1, Publish: t1, Activate: t1})
	tl := g.timeline([]*keystore.Key{a, b},
		g.slot(t0.AddDate(0, -1, 0), t1.AddDate(0, 0, 14), a),
		g.slot(t1, t1.AddDate(0, 2, 0), a, b))
	tests := []struct {
		at   time.Time
		want *keystore.Key
	}{
		{t1.Add(-time.Second), a},
		{t1, a},
		{t1.Add(30 * time.Minute), a},
		{t1.Add(3 * time.Hour), b}, // > dnskey-ttl + the default propagation-delay
	}
	for _, tc := range tests {
		ks, err := tl.At(tc.at)
		if err != nil {
			t.Errorf("At(%s): %v", tc.at, err)
			continue
		}
		if ks.ZSK != tc.want {
			t.Errorf("At(%s) signs with %d (in the DNSKEY set since %s), want %d",
				tc.at, ks.Tag(), tc.at.Sub(t1), tc.want.Tag())
		}
	}
}

// TestTimelineNewSingleBundle: the manual roll of the classic flow. A new ZSK
// b (no timers) joins a over a fresh single bundle whose signatures start an
// hour back; a, served long before, keeps signing until b's DNSKEY has been
// served dnskey-ttl + propagation-delay, never b before.
//
// The bundle is signed at t1 with signatures from t1-1h (livesign bundle,
// BIND), and b was made at t1 or, after an offline round trip, hours before.
func TestTimelineNewSingleBundle(t *testing.T) {
	for _, made := range []time.Duration{0, -3 * time.Hour} {
		g := newGen(t, "single.example.")
		a := g.key(false, keystore.Timers{Created: t0.AddDate(0, -1, 0)})
		b := g.key(false, keystore.Timers{Created: t1.Add(made)})
		tl := g.timeline([]*keystore.Key{a, b}, g.slot(t1.Add(-time.Hour), t1.AddDate(0, 1, 0), a, b))
		if err := tl.Check(t1); err != nil {
			t.Fatalf("Check: %v", err)
		}
		wait := keystore.DefaultPolicy().DNSKEYTTL + keystore.DefaultPolicy().PropagationDelay
		tests := []struct {
			at   time.Time
			want *keystore.Key
		}{
			{t1, a},
			{t1.Add(4 * time.Minute), a},
			{t1.Add(10 * time.Minute), a},
			{t1.Add(wait - time.Second), a},
			{t1.Add(wait), b},
		}
		for _, tc := range tests {
			ks, err := tl.At(tc.at)
			if err != nil {
				t.Fatalf("At(%s): %v", tc.at, err)
			}
			if ks.ZSK != tc.want {
				t.Errorf("b made at t1%+v: At(t1+%s) signs with %d, want %d", made, tc.at.Sub(t1), ks.Tag(), tc.want.Tag())
			}
		}
	}
}

// TestTimelinePure: At reads no clock, so two calls (two replicas) at the
// same instant agree.
func TestTimelinePure(t *testing.T) {
	tl := ldnsTimeline(t, false)
	tl2 := ldnsTimeline(t, false)
	ks1, err1 := tl.At(testNow)
	ks2, err2 := tl2.At(testNow)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if ks1.Tag() != ks2.Tag() || !ks1.Until.Equal(ks2.Until) || len(ks1.DNSKEY) != len(ks2.DNSKEY) {
		t.Errorf("two timelines over the same files disagree: %d until %s, %d until %s", ks1.Tag(), ks1.Until, ks2.Tag(), ks2.Until)
	}
}

func TestSigTime(t *testing.T) {
	wrap := int64(1) << 32 // 2106-02-07T06:28:16Z
	tests := []struct {
		name string
		v    uint32
		ref  time.Time
		want time.Time
	}{
		{"same instant", uint32(testNow.Unix()), testNow, testNow},
		{"bundle expiration from now", uint32(ldnsBundleEnd.Unix()), testNow, ldnsBundleEnd},
		{"inception in the past", uint32(ldnsBundleStart.Unix()), testNow, ldnsBundleStart},
		{"epoch", 0, time.Unix(1000, 0), time.Unix(0, 0)},
		{"60 years ahead", uint32(time.Date(2086, 1, 1, 0, 0, 0, 0, time.UTC).Unix()), testNow, time.Date(2086, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"ref with nanoseconds", uint32(testNow.Unix()) + 7, testNow.Add(999 * time.Millisecond), testNow.Add(7 * time.Second)},
		{"last second before the wrap", ^uint32(0), time.Unix(wrap-1, 0), time.Unix(wrap-1, 0)},
		{"after the wrap seen from before it", 100, time.Unix(wrap-3600, 0), time.Unix(wrap+100, 0)},
		{"a year after the wrap, seen from before it", uint32(365 * 86400), time.Unix(wrap-86400, 0), time.Unix(wrap+365*86400, 0)},
		{"before the wrap seen from after it", ^uint32(0) - 99, time.Unix(wrap+3600, 0), time.Unix(wrap-100, 0)},
		{"after the wrap seen from after it", 5000, time.Unix(wrap+3600, 0), time.Unix(wrap+5000, 0)},
		{"second wrap", 42, time.Unix(2*wrap-10, 0), time.Unix(2*wrap+42, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := keystore.SigTime(tc.v, tc.ref)
			if !got.Equal(tc.want) {
				t.Errorf("sigTime(%d, %s) = %s, want %s", tc.v, tc.ref.UTC(), got, tc.want.UTC())
			}
			if got.Location() != time.UTC {
				t.Errorf("sigTime returned location %s, want UTC", got.Location())
			}
			if uint32(got.Unix()) != tc.v {
				t.Errorf("sigTime(%d, ...) = %s, which is %d modulo 2^32", tc.v, got, uint32(got.Unix()))
			}
			if d := got.Sub(tc.ref); d > 68*365*24*time.Hour || d < -68*365*24*time.Hour {
				t.Errorf("sigTime(%d, %s) = %s is %s from the reference", tc.v, tc.ref.UTC(), got, d)
			}
		})
	}
}

// TestTimelineBundleTTLLonger: the bundle serves DNSKEY with TTL 3600 while
// dnskey-ttl says 5s: validators cache the set for an hour, so the successor
// waits for the bundle's TTL, not dnskey-ttl, and Notes says so.
func TestTimelineBundleTTLLonger(t *testing.T) {
	g := newGen(t, "ttl.example.")
	a := g.key(false, keystore.Timers{Created: t0, Activate: t0, Inactive: t1})
	b := g.key(false, keystore.Timers{Created: t1, Publish: t1, Activate: t1})
	tl := g.timelineWith(keystore.Policy{DNSKEYTTL: 5 * time.Second, PropagationDelay: time.Second}, []*keystore.Key{a, b},
		g.slot(t0.AddDate(0, -1, 0), t1.AddDate(0, 0, 14), a),
		g.slot(t1, t1.AddDate(0, 2, 0), a, b)) // gen signs with TTL 3600
	tests := []struct {
		at   time.Time
		want *keystore.Key
	}{
		{t1.Add(10 * time.Second), a}, // dnskey-ttl + propagation-delay passed, the bundle's TTL not
		{t1.Add(time.Hour), a},
		{t1.Add(time.Hour + time.Second), b},
	}
	for _, tc := range tests {
		ks, err := tl.At(tc.at)
		if err != nil {
			t.Fatalf("At(%s): %v", tc.at, err)
		}
		if ks.ZSK != tc.want {
			t.Errorf("At(t1+%s) signs with %d, want %d", tc.at.Sub(t1), ks.Tag(), tc.want.Tag())
		}
	}
	if notes := strings.Join(tl.Notes(t1), "\n"); !strings.Contains(notes, "TTL 1h0m0s, longer than dnskey-ttl 5s") {
		t.Errorf("notes %q do not tell about the DNSKEY TTL", notes)
	}
}

// TestTimelineKSKRollAnchor: an SKR of a KSK roll whose trust anchor names
// only the current KSK (the parent's DS) loads; DSDeadline says when the
// parent must have the new KSK's DS (the first slot the new KSK alone
// signs); At does not switch to that slot while the anchor lacks the DS,
// serving the last double-signed slot while its signatures last.
func TestTimelineKSKRollAnchor(t *testing.T) {
	g := newGen(t, "kskroll.example.")
	z := g.key(false, keystore.Timers{Created: t0.AddDate(0, -1, 0)})
	next := g.key(true, keystore.Timers{})
	sign := func(from, to time.Time, ksks ...*keystore.Key) keystore.Slot {
		keys := []*dns.DNSKEY{z.DNSKEY, g.KSK.DNSKEY, next.DNSKEY}
		s, err := keystore.SignDNSKEYs(g.Zone, ksks, keys, 3600, from, to)
		if err != nil {
			t.Fatal(err)
		}
		return *s
	}
	slots := []keystore.Slot{
		sign(t0.AddDate(0, 0, -1), t0.AddDate(0, 0, 14), g.KSK),
		sign(t0.AddDate(0, 0, 10), t0.AddDate(0, 0, 24), g.KSK, next),
		sign(t0.AddDate(0, 0, 20), t0.AddDate(0, 0, 40), next),
	}
	tl := g.timeline([]*keystore.Key{z}, slots...) // anchor: the first KSK's DS
	if err := tl.Check(t0); err != nil {
		t.Fatalf("Check: %v", err)
	}
	at, ksks, ok := tl.DSDeadline(t0)
	if !ok || !at.Equal(t0.AddDate(0, 0, 20)) || len(ksks) != 1 || ksks[0].KeyTag() != next.Tag() {
		t.Fatalf("DSDeadline = %s %v %v, want slot 3's start and KSK %d", at, ksks, ok, next.Tag())
	}
	ks, err := tl.At(t0.AddDate(0, 0, 21))
	if err != nil {
		t.Fatal(err)
	}
	if len(ks.NeedDS) != 1 || len(ks.DNSKEYSigs) != 2 || !ks.Until.Equal(t0.AddDate(0, 0, 24)) {
		t.Errorf("held back: NeedDS %v, %d DNSKEY RRSIGs, until %s; want slot 2 until its signatures expire", ks.NeedDS, len(ks.DNSKEYSigs), ks.Until)
	}
	if _, err := tl.At(t0.AddDate(0, 0, 25)); err == nil || !strings.Contains(err.Error(), "does not name") {
		t.Errorf("after slot 2 expired: %v, want the anchor's missing DS named", err)
	}
	// With the new DS in the anchor, slot 3 is served.
	a := g.Anchor()
	a.DS = append(a.DS, next.DNSKEY.ToDS(dns.SHA256))
	tl2 := mustNew(t, Inputs{Zone: g.Zone, ZSKs: []*keystore.Key{z}, Bundle: g.Bundle(slots...), Anchor: a})
	ks, err = tl2.At(t0.AddDate(0, 0, 21))
	if err != nil || ks.NeedDS != nil || len(ks.DNSKEYSigs) != 1 {
		t.Errorf("anchored: %v %v", ks, err)
	}
	if _, _, ok := tl2.DSDeadline(t0); ok {
		t.Error("a DS deadline although the anchor names both KSKs")
	}
}

// TestNoSignerNamesUnservedZSK: when no ZSK can sign because the keys
// directory's ZSK is not in the signed DNSKEY set, the error names it.
func TestNoSignerNamesUnservedZSK(t *testing.T) {
	g := newGen(t, "unserved.example.")
	signed := g.key(false, keystore.Timers{Created: t0}) // in the bundle; its private key is elsewhere
	local := g.key(false, keystore.Timers{Created: t0})  // in the keys directory, not in the bundle
	tl := mustNew(t, Inputs{Zone: g.Zone, ZSKs: []*keystore.Key{local}, Bundle: g.Bundle(g.slot(t0, t1, signed)), Anchor: g.Anchor()})
	_, err := tl.At(t0.Add(time.Hour))
	want := fmt.Sprintf("the keys directory's ZSK %d is not in that set", local.Tag())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("At = %v, want an error saying %q", err, want)
	}
}
