package keystore

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestCheckAlgorithms: a DNSKEY set must hold keys of one algorithm, the
// KSK's (RFC 4035 §2.2 with one signing ZSK); errors name both keys, their
// files and algorithms, and the keygen command that makes a fitting ZSK.
func TestCheckAlgorithms(t *testing.T) {
	dir := t.TempDir()
	gen := func(alg uint8, ksk bool, withFile bool) *Key {
		k, err := GenerateKey("Example.NET.", alg, ksk, fixtureTime)
		if err != nil {
			t.Fatal(err)
		}
		if withFile {
			if _, err := WriteKey(dir, k); err != nil {
				t.Fatal(err)
			}
		}
		return k
	}
	ksk13, ksk15 := gen(dns.ECDSAP256SHA256, true, true), gen(dns.ED25519, true, true)
	zsk13, zsk14, zsk15 := gen(dns.ECDSAP256SHA256, false, true), gen(dns.ECDSAP384SHA384, false, true), gen(dns.ED25519, false, false)
	ksk14 := gen(dns.ECDSAP384SHA384, true, true)
	tests := []struct {
		name string
		keys []*Key
		want []string // "" = no error
	}{
		{"one algorithm", []*Key{ksk13, zsk13}, nil},
		{"no keys", nil, nil},
		{"ZSKs only, one algorithm", []*Key{zsk13}, nil},
		{"an algorithm roll", []*Key{ksk13, ksk15, zsk13, zsk15}, nil},
		{"three algorithms", []*Key{ksk13, zsk14, zsk15}, []string{
			"keystore: the keys of example.net. have 3 algorithms: ECDSAP256SHA256 (13) (KSK " + itoa(ksk13.Tag()) + " (" + ksk13.Base + ".key)), ECDSAP384SHA384 (14) (ZSK " + itoa(zsk14.Tag()),
			"ED25519 (15) (ZSK " + itoa(zsk15.Tag()) + ")", "two while it rolls from one to the other (RFC 6781 §4.1.4)"}},
		{"three KSK algorithms", []*Key{ksk13, ksk14, ksk15}, []string{"have 3 algorithms"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckAlgorithms("example.net.", tc.keys)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if filepath.Dir(zsk13.Base) != dir {
		t.Fatalf("key base %s", zsk13.Base)
	}
}

// TestSignDNSKEYsMixedAlgorithms: SignDNSKEYs (the bundle and the online
// KSK) refuses to sign a set of mixed algorithms.
func TestSignDNSKEYsMixedAlgorithms(t *testing.T) {
	ksk, err := GenerateKey("example.net.", dns.ECDSAP384SHA384, true, fixtureTime)
	if err != nil {
		t.Fatal(err)
	}
	zsk, err := GenerateKey("example.net.", dns.ECDSAP256SHA256, false, fixtureTime)
	if err != nil {
		t.Fatal(err)
	}
	_, err = SignDNSKEYs("example.net.", []*Key{ksk}, []*dns.DNSKEY{zsk.DNSKEY}, 3600, fixtureTime, fixtureTime.Add(time.Hour))
	wantErr(t, err, "ZSK "+itoa(zsk.Tag())+" has algorithm ECDSAP256SHA256 (13) but no KSK of that algorithm signs the DNSKEY set of example.net. (the KSK "+itoa(ksk.Tag())+" has ECDSAP384SHA384 (14))")
	// Two algorithms each with a KSK and a ZSK (an algorithm roll) sign;
	// a KSK of an algorithm without a ZSK does not.
	ksk13, err := GenerateKey("example.net.", dns.ECDSAP256SHA256, true, fixtureTime)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SignDNSKEYs("example.net.", []*Key{ksk, ksk13}, []*dns.DNSKEY{zsk.DNSKEY}, 3600, fixtureTime, fixtureTime.Add(time.Hour)); err == nil {
		t.Error("KSK 14 without a ZSK of 14 signed")
	}
	ok, err := GenerateKey("example.net.", dns.ECDSAP384SHA384, false, fixtureTime)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SignDNSKEYs("example.net.", []*Key{ksk}, []*dns.DNSKEY{ok.DNSKEY}, 3600, fixtureTime, fixtureTime.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	sl, err := SignDNSKEYs("example.net.", []*Key{ksk, ksk13}, []*dns.DNSKEY{zsk.DNSKEY, ok.DNSKEY}, 3600, fixtureTime, fixtureTime.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(sl.RRSIGs) != 2 {
		t.Errorf("%d RRSIGs over the two-algorithm set, want one per KSK", len(sl.RRSIGs))
	}
}

func itoa(n uint16) string { return strconv.Itoa(int(n)) }
