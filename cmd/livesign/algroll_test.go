package main

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
	"github.com/miekg/dns"
)

// TestPlanAlgorithmRoll walks an offline algorithm roll from
// ECDSAP256SHA256 to ED25519 (RFC 6781 §4.1.4) with livesign's own tools on
// both sides: plan -algorithm ED25519 starts an ED25519 chain that signs
// PreSign before its DNSKEY is published; sign-ksr with the KSKs of both
// algorithms puts each KSK in a slot together with a ZSK of its algorithm and
// signs with both; the timeline signs with both algorithms while the roll
// lasts; plan -retire-old ends it: the old DNSKEYs leave at that time, their
// signatures dnskey-ttl + propagation-delay later. check accepts each SKR.
func TestPlanAlgorithmRoll(t *testing.T) {
	fixedClock(t)
	const zone = "roll.org."
	dir := t.TempDir()
	keys, ksk := filepath.Join(dir, "keys"), filepath.Join(dir, "ksk")
	p := keystore.DefaultPolicy()
	mustRun(t, "keygen", "-zone", zone, "-ksk", "-algorithm", "ECDSAP256SHA256", "-publish", "-30d", "-activate", "-30d", "-dir", ksk)
	mustRun(t, "plan", "-zone", zone, "-keys", keys, "-until", "+60d", "-out", filepath.Join(dir, "a.ksr"), "-now", "-1d")
	mustRun(t, "sign-ksr", "-ksk", ksk, "-ksr", filepath.Join(dir, "a.ksr"), "-out", filepath.Join(dir, "a.skr"))
	mustRun(t, "check", "-keys", keys, "-bundle", filepath.Join(dir, "a.skr"))

	// Start: a KSK of the new algorithm offline, new ZSKs online.
	mustRun(t, "keygen", "-zone", zone, "-ksk", "-algorithm", "ED25519", "-publish", "-1d", "-activate", "-1d", "-dir", ksk)
	mustRun(t, "plan", "-zone", zone, "-keys", keys, "-until", "+90d", "-out", filepath.Join(dir, "b.ksr"), "-algorithm", "ED25519")
	zsks := readZSKFiles(t, keys, zone)
	var ed *keystore.Key
	for _, k := range zsks {
		if k.DNSKEY.Algorithm == dns.ED25519 && (ed == nil || k.ActiveSince().Before(ed.ActiveSince())) {
			ed = k
		}
	}
	if ed == nil {
		t.Fatal("plan -algorithm ED25519 made no ED25519 ZSK")
	}
	if got := ed.Timers.Publish.Sub(ed.Timers.Activate); got != p.PreSign() {
		t.Fatalf("the first ED25519 ZSK is published %s after it activates, want PreSign %s", got, p.PreSign())
	}
	skr := filepath.Join(dir, "b.skr")
	mustRun(t, "sign-ksr", "-ksk", ksk, "-ksr", filepath.Join(dir, "b.ksr"), "-out", skr)
	mustRun(t, "check", "-keys", keys, "-bundle", skr)
	b, err := keystore.ReadBundle(skr, zone)
	if err != nil {
		t.Fatal(err)
	}
	for _, sl := range b.Slots {
		zskAlgs, kskAlgs, sigAlgs := slotAlgorithms(sl)
		if !slices.Equal(zskAlgs, kskAlgs) || !slices.Equal(kskAlgs, sigAlgs) {
			t.Errorf("slot %s: ZSK algorithms %v, KSK algorithms %v, DNSKEY RRSIG algorithms %v: want one set", timeline.Stamp(sl.Start), zskAlgs, kskAlgs, sigAlgs)
		}
		if want := !sl.Start.Before(ed.Timers.Publish); want != slices.Contains(zskAlgs, dns.ED25519) {
			t.Errorf("slot %s: ED25519 in the set %v, want %v (published %s)", timeline.Stamp(sl.Start), zskAlgs, want, timeline.Stamp(ed.Timers.Publish))
		}
	}
	tl, err := timeline.New(timeline.Inputs{Zone: zone, ZSKs: zsks, Bundle: b, Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		at   time.Time
		want []uint8
	}{
		{"before the roll", ed.Timers.Activate.Add(-time.Minute), []uint8{dns.ECDSAP256SHA256}},
		{"pre-signing", ed.Timers.Activate.Add(time.Minute), []uint8{dns.ECDSAP256SHA256, dns.ED25519}},
		{"both published", ed.Timers.Publish.Add(p.Ipub()), []uint8{dns.ECDSAP256SHA256, dns.ED25519}},
	} {
		ks, err := tl.At(c.at)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := signerAlgs(ks); !slices.Equal(got, c.want) {
			t.Errorf("%s (%s): signing algorithms %v, want %v", c.name, timeline.Stamp(c.at), got, c.want)
		}
	}

	// End: once the parent's DS names the ED25519 KSK, the old algorithm goes.
	retire := testNow.AddDate(0, 0, 40)
	out := mustRun(t, "plan", "-zone", zone, "-keys", keys, "-until", "+90d", "-out", filepath.Join(dir, "c.ksr"), "-algorithm", "ED25519", "-retire-old", "+40d")
	t.Log(out)
	skr = filepath.Join(dir, "c.skr")
	mustRun(t, "sign-ksr", "-ksk", ksk, "-ksr", filepath.Join(dir, "c.ksr"), "-out", skr)
	mustRun(t, "check", "-keys", keys, "-bundle", skr)
	if b, err = keystore.ReadBundle(skr, zone); err != nil {
		t.Fatal(err)
	}
	for _, sl := range b.Slots {
		zskAlgs, kskAlgs, sigAlgs := slotAlgorithms(sl)
		if old := sl.Start.Before(retire); old != slices.Contains(zskAlgs, dns.ECDSAP256SHA256) || old != slices.Contains(kskAlgs, dns.ECDSAP256SHA256) || old != slices.Contains(sigAlgs, dns.ECDSAP256SHA256) {
			t.Errorf("slot %s: algorithms ZSK %v KSK %v RRSIG %v: want ECDSAP256SHA256 only before %s", timeline.Stamp(sl.Start), zskAlgs, kskAlgs, sigAlgs, timeline.Stamp(retire))
		}
	}
	zsks = readZSKFiles(t, keys, zone)
	if tl, err = timeline.New(timeline.Inputs{Zone: zone, ZSKs: zsks, Bundle: b, Policy: p}); err != nil {
		t.Fatal(err)
	}
	stop := retire.Add(p.DNSKEYTTL + p.PropagationDelay)
	for _, c := range []struct {
		name string
		at   time.Time
		want []uint8
	}{
		{"before the DNSKEYs go", retire.Add(-time.Minute), []uint8{dns.ECDSAP256SHA256, dns.ED25519}},
		{"old DNSKEYs gone, old signatures on", retire.Add(time.Minute), []uint8{dns.ED25519, dns.ECDSAP256SHA256}},
		{"done", stop.Add(time.Minute), []uint8{dns.ED25519}},
	} {
		ks, err := tl.At(c.at)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := signerAlgs(ks)
		slices.Sort(got)
		want := slices.Sorted(slices.Values(c.want))
		if !slices.Equal(got, want) {
			t.Errorf("%s (%s): signing algorithms %v, want %v", c.name, timeline.Stamp(c.at), got, want)
		}
		if c.name != "before the DNSKEYs go" {
			for _, k := range ks.DNSKEY {
				if k.(*dns.DNSKEY).Algorithm == dns.ECDSAP256SHA256 {
					t.Errorf("%s: DNSKEY %d of the retired algorithm served", c.name, k.(*dns.DNSKEY).KeyTag())
				}
			}
		}
	}
}

// readZSKFiles reads the ZSKs with their private keys from dir.
func readZSKFiles(t *testing.T, dir, zone string) []*keystore.Key {
	t.Helper()
	zsks, err := keystore.ReadKeys(dir, keystore.Selection{Zone: zone, Role: keystore.ZSKRole, Private: keystore.PrivateRequired})
	if err != nil {
		t.Fatal(err)
	}
	return zsks
}

// slotAlgorithms returns the sorted algorithms of a slot's ZSKs, KSKs and
// RRSIGs over DNSKEY.
func slotAlgorithms(sl keystore.Slot) (zsk, ksk, sig []uint8) {
	add := func(s []uint8, a uint8) []uint8 {
		if !slices.Contains(s, a) {
			s = append(s, a)
			slices.Sort(s)
		}
		return s
	}
	for _, k := range sl.DNSKEY {
		if k.Flags&dns.SEP != 0 {
			ksk = add(ksk, k.Algorithm)
		} else {
			zsk = add(zsk, k.Algorithm)
		}
	}
	for _, s := range sl.RRSIGs {
		if s.TypeCovered == dns.TypeDNSKEY {
			sig = add(sig, s.Algorithm)
		}
	}
	return zsk, ksk, sig
}

// signerAlgs returns the algorithms of the ZSKs that sign in ks, primary first.
func signerAlgs(ks *timeline.KeySet) []uint8 {
	var out []uint8
	for _, z := range ks.ZSKs {
		out = append(out, z.DNSKEY.Algorithm)
	}
	return out
}
