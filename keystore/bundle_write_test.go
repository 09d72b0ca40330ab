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
	tests := []struct {
		name string
		keys []*Key
		want []string // "" = no error
	}{
		{"one algorithm", []*Key{ksk13, zsk13}, nil},
		{"no keys", nil, nil},
		{"ZSKs only, one algorithm", []*Key{zsk13}, nil},
		{"ZSK of another algorithm", []*Key{zsk13, ksk15}, []string{
			"keystore: ZSK " + itoa(zsk13.Tag()) + " (" + zsk13.Base + ".key) has algorithm ECDSAP256SHA256 (13) but the KSK " + itoa(ksk15.Tag()) + " (" + ksk15.Base + ".key) has ED25519 (15)",
			"every algorithm in the DNSKEY set must sign every RRset (RFC 4035 §2.2)",
			"make the ZSKs with the KSK's algorithm (livesign keygen -zone example.net -zsk -algorithm ED25519 -dir " + dir + ") and remove " + zsk13.Base + ".key and its .private"}},
		{"key read from no file", []*Key{ksk13, zsk15}, []string{"keystore: ZSK " + itoa(zsk15.Tag()) + " has algorithm ED25519 (15) but the KSK " + itoa(ksk13.Tag()) + " (", "-dir DIR) and remove ZSK " + itoa(zsk15.Tag())}},
		{"KSKs of two algorithms", []*Key{ksk13, ksk15, zsk13}, []string{"KSK " + itoa(ksk15.Tag()) + " (" + ksk15.Base + ".key) has algorithm ED25519 (15) but the KSK " + itoa(ksk13.Tag()), "use KSKs of one algorithm"}},
		{"ZSKs of two algorithms", []*Key{zsk13, zsk14}, []string{"ZSK " + itoa(zsk14.Tag()) + " (" + zsk14.Base + ".key) has algorithm ECDSAP384SHA384 (14) but ZSK " + itoa(zsk13.Tag()), "make all ZSKs with one algorithm"}},
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
	wantErr(t, err, "has algorithm ECDSAP256SHA256 (13) but the KSK "+itoa(ksk.Tag())+" has ECDSAP384SHA384 (14)")
	ok, err := GenerateKey("example.net.", dns.ECDSAP384SHA384, false, fixtureTime)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SignDNSKEYs("example.net.", []*Key{ksk}, []*dns.DNSKEY{ok.DNSKEY}, 3600, fixtureTime, fixtureTime.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
}

func itoa(n uint16) string { return strconv.Itoa(int(n)) }
