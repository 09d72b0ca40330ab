package keystore

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestReadForeign: the other providers' keys are read public-only, with
// their timers dropped (published as long as their files are there), even
// when a .private file lies next to them.
func TestReadForeign(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, ksk := range []bool{true, false} {
		k, err := GenerateKey("example.net.", dns.ECDSAP256SHA256, ksk, at)
		if err != nil {
			t.Fatal(err)
		}
		k.Timers.Delete = at.Add(time.Hour)
		if _, err := WriteKey(dir, k); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := ReadForeign(dir, "example.net.")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("got %d keys, want 2", len(keys))
	}
	for _, k := range keys {
		if k.Signer != nil || !k.Timers.IsZero() || !k.PublishedAt(at.Add(100*24*time.Hour)) {
			t.Errorf("key %d: signer %v, timers %+v: want public-only, no timers, always published", k.Tag(), k.Signer != nil, k.Timers)
		}
	}
	if _, err := ReadForeign(filepath.Join(dir, "missing"), "example.net."); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing directory: got %v, want fs.ErrNotExist", err)
	}
}

// TestSignKSRForeign: sign-ksr -foreign publishes the other provider's KSK
// in every slot and lists it in the CDS and CDNSKEY, signed by the own KSK
// alone; the other provider's ZSK comes from the KSR.
func TestSignKSRForeign(t *testing.T) {
	zone := "example.net."
	start := time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)
	own, other := newKSK(t, zone), newKSK(t, zone)
	zsk, err := GenerateKey(zone, dns.ECDSAP256SHA256, false, start)
	if err != nil {
		t.Fatal(err)
	}
	otherZSK, err := GenerateKey(zone, dns.ECDSAP256SHA256, false, start)
	if err != nil {
		t.Fatal(err)
	}
	otherZSK.Timers = Timers{}
	ksr, err := BuildKSR(zone, []*Key{zsk, otherZSK}, start, start.Add(20*24*time.Hour), time.Hour, LayoutBIND, start)
	if err != nil {
		t.Fatal(err)
	}
	b, err := SignKSR(ksr, []*Key{own}, SignPolicy{Foreign: []*dns.DNSKEY{other.DNSKEY, otherZSK.DNSKEY}})
	if err != nil {
		t.Fatal(err)
	}
	has := func(keys []*dns.DNSKEY, k *Key) bool {
		for _, x := range keys {
			if x.PublicKey == k.DNSKEY.PublicKey && x.Flags == k.DNSKEY.Flags {
				return true
			}
		}
		return false
	}
	for i, s := range b.Slots {
		if !has(s.DNSKEY, other) || !has(s.DNSKEY, otherZSK) || !has(s.DNSKEY, own) || !has(s.DNSKEY, zsk) {
			t.Errorf("slot %d: DNSKEY set lacks a provider's key: %v", i, s.DNSKEY)
		}
		if n := countFlags(s.DNSKEY, 256); n != 2 {
			t.Errorf("slot %d: %d ZSKs, want 2 (a ZSK in -foreign is not added twice)", i, n)
		}
		var cds []uint16
		for _, c := range s.CDS {
			cds = append(cds, c.KeyTag)
		}
		if len(cds) != 2 || cds[0] != own.Tag() || cds[1] != other.Tag() {
			t.Errorf("slot %d: CDS tags %v, want [%d %d]", i, cds, own.Tag(), other.Tag())
		}
		if len(s.CDNSKEY) != 2 {
			t.Errorf("slot %d: %d CDNSKEY, want 2", i, len(s.CDNSKEY))
		}
		for _, sig := range s.RRSIGs {
			if sig.KeyTag != own.Tag() {
				t.Errorf("slot %d: RRSIG by %d: only the own KSK %d signs", i, sig.KeyTag, own.Tag())
			}
		}
		if _, err := CheckSlot(&s, zone, nil, nil, s.Start); err != nil {
			t.Errorf("slot %d does not check: %v", i, err)
		}
	}
}

func countFlags(keys []*dns.DNSKEY, flags uint16) int {
	n := 0
	for _, k := range keys {
		if k.Flags == flags {
			n++
		}
	}
	return n
}
