package livesign

import (
	"path/filepath"
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

// TestAutoPlanAlgorithm: the ZSKs auto-plan generates get the KSK's
// algorithm, else the existing ZSKs', else the algorithm directive, else
// ECDSAP256SHA256; keys of mixed algorithms and a directive that disagrees
// with the KSK are refused with the files named (RFC 4035 §2.2).
func TestAutoPlanAlgorithm(t *testing.T) {
	const zone = "alg.example."
	tests := []struct {
		name      string
		ksk       uint8 // online KSK algorithm; 0: bundle mode
		zsks      []uint8
		directive uint8 // cfg.Algorithm; 0: none
		want      uint8
		wantErr   []string
	}{
		{name: "P-384 KSK, no directive", ksk: dns.ECDSAP384SHA384, want: dns.ECDSAP384SHA384},
		{name: "P-384 KSK, directive ECDSAP256SHA256", ksk: dns.ECDSAP384SHA384, directive: dns.ECDSAP256SHA256,
			wantErr: []string{"algorithm ECDSAP256SHA256 (13) is set, but KSK", "has ECDSAP384SHA384 (14)"}},
		{name: "ED25519 KSK, directive unset", ksk: dns.ED25519, want: dns.ED25519},
		{name: "KSK and directive agree", ksk: dns.ED25519, directive: dns.ED25519, want: dns.ED25519},
		{name: "KSK and ZSKs agree", ksk: dns.ECDSAP384SHA384, zsks: []uint8{dns.ECDSAP384SHA384}, want: dns.ECDSAP384SHA384},
		{name: "directive disagrees with the KSK", ksk: dns.ECDSAP384SHA384, directive: dns.ED25519,
			wantErr: []string{"algorithm ED25519 (15) is set, but KSK", "has ECDSAP384SHA384 (14)", "RFC 4035 §2.2", "remove the algorithm directive (or -algorithm) or set it to ECDSAP384SHA384"}},
		{name: "ZSK disagrees with the KSK", ksk: dns.ECDSAP384SHA384, zsks: []uint8{dns.ECDSAP256SHA256},
			wantErr: []string{"has algorithm ECDSAP256SHA256 (13) but the KSK", "has ECDSAP384SHA384 (14)", "RFC 4035 §2.2", "livesign keygen -zone alg.example -zsk -algorithm ECDSAP384SHA384", "+013+"}},
		{name: "nothing to go by, directive unset", want: dns.ECDSAP256SHA256},
		{name: "nothing to go by, directive", directive: dns.ED25519, want: dns.ED25519},
		{name: "existing ZSKs disagree with the directive", zsks: []uint8{dns.ED25519}, directive: dns.ECDSAP384SHA384,
			wantErr: []string{"algorithm ECDSAP384SHA384 (14) is set, but ZSK", "has ED25519 (15)"}},
		{name: "existing ZSKs, no directive", zsks: []uint8{dns.ED25519}, want: dns.ED25519},
		{name: "ZSKs of two algorithms", zsks: []uint8{dns.ED25519, dns.ECDSAP256SHA256},
			wantErr: []string{"has algorithm", "but ZSK", "make all ZSKs with one algorithm"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default(zone)
			cfg.Algorithm = tc.directive
			cfg.Keys = t.TempDir()
			if tc.ksk != 0 {
				cfg.KSK = t.TempDir()
				writeTestKey(t, cfg.KSK, zone, tc.ksk, true)
			} else {
				cfg.Bundle = filepath.Join(t.TempDir(), "none.bundle") // unreadable: nothing to go by
			}
			for _, a := range tc.zsks {
				writeTestKey(t, cfg.Keys, zone, a, false)
			}
			got, err := zskAlgorithm(cfg)
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
		})
	}
}

// TestAutoPlanBundleKSKAlgorithm: in bundle mode with an empty keys
// directory, new ZSKs get the algorithm of the bundle's KSK.
func TestAutoPlanBundleKSKAlgorithm(t *testing.T) {
	cfg := testConfig(t) // the fixture bundle's KSK is ECDSAP256SHA256
	cfg.Keys = t.TempDir()
	cfg.Algorithm = dns.ED25519
	_, err := zskAlgorithm(cfg)
	if err == nil || !strings.Contains(err.Error(), "is set, but KSK 41401 has ECDSAP256SHA256 (13)") {
		t.Errorf("got %v, want the directive refused for the bundle's KSK", err)
	}
	cfg.Algorithm = 0
	if alg, err := zskAlgorithm(cfg); err != nil || alg != dns.ECDSAP256SHA256 {
		t.Errorf("got %d, %v; want 13", alg, err)
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
// ZSK of another algorithm is refused at start-up, the files named.
func TestOnlineKSKMixedAlgorithms(t *testing.T) {
	const zone = "mixed.example."
	cfg := config.Default(zone)
	cfg.KSK, cfg.Keys, cfg.AutoPlan = t.TempDir(), t.TempDir(), 60*24*time.Hour
	ksk := writeTestKey(t, cfg.KSK, zone, dns.ECDSAP384SHA384, true)
	zsk := writeTestKey(t, cfg.Keys, zone, dns.ECDSAP256SHA256, false)
	_, err := New([]config.Config{cfg}, func() time.Time { return t0 })
	if err == nil {
		t.Fatal("mixed algorithms accepted")
	}
	for _, w := range []string{zsk.Base + ".key", ksk.Base + ".key", "ECDSAP256SHA256 (13)", "ECDSAP384SHA384 (14)", "RFC 4035 §2.2"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}
