package livesign

import (
	"crypto"
	"io"
	"strings"
	"testing"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// TestSignNSECMatchesMiekg: signNSEC makes the RRSIG that miekg/dns's
// RRSIG.Sign makes, byte for byte (every algorithm here signs
// deterministically), for owners in any case, with escapes, of maximum
// length and wildcard-like, and the signature verifies.
func TestSignNSECMatchesMiekg(t *testing.T) {
	const zone = "Example.NET."
	long := strings.Repeat(`\255`, 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 49) + ".example.net."
	owners := []string{
		"fl-1.example.net.", "WWW\\000.Example.NET.", `\255\000.example.net.`, "example.net.",
		"a.b.c.d.e.example.net.", "x\\.y.example.net.", long, "*.example.net.", "*x.example.net.", `\042.example.net.`,
	}
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519, dns.RSASHA256} {
		k, err := keystore.GenerateKey(zone, alg, false, signNow)
		if err != nil {
			t.Fatal(err)
		}
		for _, owner := range owners {
			t.Run(dns.AlgorithmToString[alg]+"/"+owner, func(t *testing.T) {
				if _, ok := dns.IsDomainName(owner); !ok {
					t.Fatalf("bad test name %q", owner)
				}
				nsec := &dns.NSEC{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 3600},
					NextDomain: `\000.` + owner, TypeBitMap: []uint16{dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC, TypeNXNAME}}
				if len(owner) > 250 {
					nsec.NextDomain = "E.example.net."
				}
				mk := func() *dns.RRSIG {
					return &dns.RRSIG{Hdr: dns.RR_Header{Ttl: 3600}, Algorithm: alg, KeyTag: k.Tag(), SignerName: zone,
						Inception: 1700000000, Expiration: 1800000000}
				}
				want, got := mk(), mk()
				if err := want.Sign(keystore.Deterministic(k.Signer), []dns.RR{nsec}); err != nil {
					t.Fatal(err)
				}
				if err := signNSEC(got, k.Signer, nsec); err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String() {
					t.Errorf("signNSEC:\n%s\nRRSIG.Sign:\n%s", got, want)
				}
				if err := got.Verify(k.DNSKEY, []dns.RR{nsec}); err != nil {
					t.Errorf("does not verify: %v", err)
				}
			})
		}
	}
}

// TestECDSASignatureDER: malformed DER is an error, never a signature.
func TestECDSASignatureDER(t *testing.T) {
	for _, der := range [][]byte{
		nil, {0x30}, {0x31, 0}, {0x30, 3, 2, 1, 1}, {0x30, 6, 2, 1, 1, 2, 2, 1}, {0x30, 7, 2, 1, 1, 2, 1, 1, 0},
		append([]byte{0x30, 38, 2, 34}, make([]byte, 36)...),
	} {
		if _, err := ecdsaSignature(fixedDER(der), make([]byte, 32), 0, 32); err == nil {
			t.Errorf("% x: no error", der)
		}
	}
	out, err := ecdsaSignature(fixedDER([]byte{0x30, 8, 2, 2, 0, 0x80, 2, 2, 0x01, 0x02}), nil, 0, 32)
	if err != nil || len(out) != 64 || out[31] != 0x80 || out[62] != 0x01 || out[63] != 0x02 {
		t.Errorf("got % x, %v", out, err)
	}
}

// fixedDER is a signer that returns the same bytes every time.
type fixedDER []byte

func (d fixedDER) Public() crypto.PublicKey { return nil }

func (d fixedDER) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return d, nil }
