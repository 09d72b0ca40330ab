package livesign

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livesign/livesign/config"
	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// writeTestKey generates a key of zone with algorithm alg into dir.
func writeTestKey(t *testing.T, dir, zone string, alg uint8, ksk bool) *keystore.Key {
	t.Helper()
	k, err := keystore.GenerateKey(zone, alg, ksk, t0.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keystore.WriteKey(dir, k); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestAutoPlanAlgorithm: the ZSKs auto-plan generates get the algorithm
// directive's algorithm, else the KSK's, else the existing ZSKs', else
// ECDSAP256SHA256; a directive other than the keys' starts an algorithm roll
// (the old chain kept), which an online KSK must have a KSK of; a ZSK
// algorithm no online KSK has is retired; keys of two algorithms without a
// directive are ambiguous.
func TestAutoPlanAlgorithm(t *testing.T) {
	const zone = "alg.example."
	tests := []struct {
		name      string
		ksks      []uint8 // online KSK algorithms; none: bundle mode
		zsks      []uint8
		directive uint8 // cfg.Algorithm; 0: none
		want      uint8
		wantKeep  []uint8 // other chains kept
		wantRet   []uint8 // algorithms retired now
		wantErr   []string
	}{
		{name: "P-384 KSK, no directive", ksks: []uint8{dns.ECDSAP384SHA384}, want: dns.ECDSAP384SHA384},
		{name: "P-384 KSK, directive ECDSAP256SHA256", ksks: []uint8{dns.ECDSAP384SHA384}, directive: dns.ECDSAP256SHA256,
			wantErr: []string{"algorithm ECDSAP256SHA256 (13) is set, but no KSK of alg.example. has it (KSK ECDSAP384SHA384 (14))", "add one to start an algorithm roll (livesign keygen -zone alg.example -ksk -algorithm ECDSAP256SHA256 -dir KSKDIR)"}},
		{name: "ED25519 KSK, directive unset", ksks: []uint8{dns.ED25519}, want: dns.ED25519},
		{name: "KSK and directive agree", ksks: []uint8{dns.ED25519}, directive: dns.ED25519, want: dns.ED25519},
		{name: "KSK and ZSKs agree", ksks: []uint8{dns.ECDSAP384SHA384}, zsks: []uint8{dns.ECDSAP384SHA384}, want: dns.ECDSAP384SHA384},
		{name: "ZSK of an algorithm no KSK has", ksks: []uint8{dns.ECDSAP384SHA384}, zsks: []uint8{dns.ECDSAP256SHA256},
			want: dns.ECDSAP384SHA384, wantRet: []uint8{dns.ECDSAP256SHA256}},
		{name: "online roll starts", ksks: []uint8{dns.ECDSAP256SHA256, dns.ED25519}, zsks: []uint8{dns.ECDSAP256SHA256}, directive: dns.ED25519,
			want: dns.ED25519, wantKeep: []uint8{dns.ECDSAP256SHA256}},
		{name: "online KSKs of two algorithms, no directive", ksks: []uint8{dns.ECDSAP256SHA256, dns.ED25519}, zsks: []uint8{dns.ECDSAP256SHA256},
			wantErr: []string{"(an algorithm roll): say which new ZSKs get"}},
		{name: "nothing to go by, directive unset", want: dns.ECDSAP256SHA256},
		{name: "nothing to go by, directive", directive: dns.ED25519, want: dns.ED25519},
		{name: "offline roll starts", zsks: []uint8{dns.ED25519}, directive: dns.ECDSAP384SHA384,
			want: dns.ECDSAP384SHA384, wantKeep: []uint8{dns.ED25519}},
		{name: "existing ZSKs, no directive", zsks: []uint8{dns.ED25519}, want: dns.ED25519},
		{name: "ZSKs of two algorithms", zsks: []uint8{dns.ED25519, dns.ECDSAP256SHA256},
			wantErr: []string{"have algorithms", "(an algorithm roll): say which new ZSKs get, with the algorithm directive (or -algorithm)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default(zone)
			cfg.Algorithm = tc.directive
			cfg.Keys = t.TempDir()
			if len(tc.ksks) > 0 {
				cfg.KSK = t.TempDir()
				for _, a := range tc.ksks {
					writeTestKey(t, cfg.KSK, zone, a, true)
				}
			} else {
				cfg.Bundle = filepath.Join(t.TempDir(), "none.bundle") // unreadable: nothing to go by
			}
			for _, a := range tc.zsks {
				writeTestKey(t, cfg.Keys, zone, a, false)
			}
			c, got, err := zoneChains(cfg, t0)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("algorithm %d, want an error", got)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("algorithm %d, %v; want %d", got, err, tc.want)
			}
			if want := append([]uint8{tc.want}, tc.wantKeep...); !slices.Equal(c.Algorithms, want) {
				t.Errorf("chains %v, want %v", c.Algorithms, want)
			}
			var ret []uint8
			for a, at := range c.Retire {
				if !at.Equal(t0) {
					t.Errorf("algorithm %d retires at %s, want now", a, at)
				}
				ret = append(ret, a)
			}
			if !slices.Equal(ret, tc.wantRet) {
				t.Errorf("retired %v, want %v", ret, tc.wantRet)
			}
		})
	}
}

// TestAutoPlanBundleKSKAlgorithm: in bundle mode with an empty keys
// directory, new ZSKs get the algorithm of the bundle's KSK, or the
// directive's (the offline side then needs a KSK of it).
func TestAutoPlanBundleKSKAlgorithm(t *testing.T) {
	cfg := testConfig(t) // the fixture bundle's KSK is ECDSAP256SHA256
	cfg.Keys = t.TempDir()
	if _, alg, err := zoneChains(cfg, t0); err != nil || alg != dns.ECDSAP256SHA256 {
		t.Errorf("got %d, %v; want 13", alg, err)
	}
	cfg.Algorithm = dns.ED25519
	if _, alg, err := zoneChains(cfg, t0); err != nil || alg != dns.ED25519 {
		t.Errorf("got %d, %v; want 15", alg, err)
	}
}

// TestAutoPlanOnlineP384KSK is the acceptance case: an online P-384 KSK,
// auto-plan, no algorithm directive: the ZSKs generated are P-384 and the
// zone loads.
func TestAutoPlanOnlineP384KSK(t *testing.T) {
	const zone = "p384.example."
	cfg := config.Default(zone)
	cfg.KSK, cfg.Keys, cfg.AutoPlan = t.TempDir(), filepath.Join(t.TempDir(), "keys"), 60*24*time.Hour
	writeTestKey(t, cfg.KSK, zone, dns.ECDSAP384SHA384, true)
	l, err := New([]config.Config{cfg}, func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keystore.ReadKeyDir(cfg.Keys, zone)
	if err != nil || len(keys) == 0 {
		t.Fatalf("%d keys, %v", len(keys), err)
	}
	for _, k := range keys {
		if k.DNSKEY.Algorithm != dns.ECDSAP384SHA384 {
			t.Errorf("generated ZSK %d has algorithm %d, want 14 (the KSK's)", k.Tag(), k.DNSKEY.Algorithm)
		}
	}
	ks, err := l.zones[0].Keys(t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range ks.DNSKEY {
		if a := rr.(*dns.DNSKEY).Algorithm; a != dns.ECDSAP384SHA384 {
			t.Errorf("served DNSKEY %s: algorithm %d", rr, a)
		}
	}
}

// TestOnlineKSKMixedAlgorithms: an online KSK whose keys directory holds a
// ZSK of an algorithm no KSK has: auto-plan retires that ZSK (its files say
// so) and the zone is served with the KSK's algorithm alone (RFC 4035 §2.2).
func TestOnlineKSKMixedAlgorithms(t *testing.T) {
	const zone = "mixed.example."
	cfg := config.Default(zone)
	cfg.KSK, cfg.Keys, cfg.AutoPlan = t.TempDir(), t.TempDir(), 60*24*time.Hour
	writeTestKey(t, cfg.KSK, zone, dns.ECDSAP384SHA384, true)
	stray := writeTestKey(t, cfg.Keys, zone, dns.ECDSAP256SHA256, false)
	l, err := New([]config.Config{cfg}, func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	k, err := keystore.ReadKey(stray.Base)
	if err != nil {
		t.Fatal(err)
	}
	if !k.Timers.Delete.Equal(t0) {
		t.Errorf("the stray ZSK's Delete is %s, want now (%s)", k.Timers.Delete, t0)
	}
	ks, err := l.zones[0].Keys(t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range ks.DNSKEY {
		if a := rr.(*dns.DNSKEY).Algorithm; a != dns.ECDSAP384SHA384 {
			t.Errorf("served DNSKEY %s: algorithm %d", rr, a)
		}
	}
	if ks.ZSK.DNSKEY.Algorithm != dns.ECDSAP384SHA384 {
		t.Errorf("signing ZSK %d has algorithm %d", ks.ZSK.Tag(), ks.ZSK.DNSKEY.Algorithm)
	}
}
