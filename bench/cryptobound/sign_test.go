package cryptobound

import (
	"crypto"
	"crypto/ecdsa"
	"io"
	"strconv"
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkRRSIGSignECDSAP256 signs a compact-denial NSEC (RFC 9824: next
// name \000.<qname>, bitmap RRSIG NSEC NXNAME), the one fresh signature a
// livesign flood answer needs, at a new owner each time, with miekg/dns
// RRSIG.Sign. ns/op converts to signatures per second per core: 1e9 / ns/op.
//
//   - hedged: crypto/ecdsa's default (a random nonce mixed with an
//     HMAC-SHA-512 DRBG), what CoreDNS's dnssec plugin signs with;
//   - rfc6979: deterministic nonces (crypto/ecdsa given no random source),
//     what livesign signs with (signer.go).
func BenchmarkRRSIGSignECDSAP256(b *testing.B) {
	key, priv := generate(b, dns.ECDSAP256SHA256, 256)
	for _, v := range []struct {
		name   string
		signer crypto.Signer
	}{
		{"hedged", priv.(crypto.Signer)},
		{"rfc6979", rfc6979{priv.(*ecdsa.PrivateKey)}},
	} {
		b.Run(v.name, func(b *testing.B) { signNSECs(b, key, v.signer) })
	}
}

// rfc6979 is livesign's deterministic ECDSA signer (keystore.Deterministic).
type rfc6979 struct{ *ecdsa.PrivateKey }

func (k rfc6979) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return k.PrivateKey.Sign(nil, digest, opts)
}

// BenchmarkRRSIGSignED25519 is BenchmarkRRSIGSignECDSAP256 with an Ed25519
// key (deterministic by construction, RFC 8032), for choosing an algorithm
// for flood resistance.
func BenchmarkRRSIGSignED25519(b *testing.B) {
	key, priv := generate(b, dns.ED25519, 256)
	signNSECs(b, key, priv.(crypto.Signer))
}

// generate makes a ZSK of alg for example.net.
func generate(b *testing.B, alg uint8, bits int) (*dns.DNSKEY, crypto.PrivateKey) {
	key := &dns.DNSKEY{Hdr: dns.RR_Header{Name: "example.net.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: 256, Protocol: 3, Algorithm: alg}
	priv, err := key.Generate(bits)
	if err != nil {
		b.Fatal(err)
	}
	return key, priv
}

// signNSECs signs a compact-denial NSEC at a new owner per iteration with
// signer, the private half of key, and verifies the first signature.
func signNSECs(b *testing.B, key *dns.DNSKEY, signer crypto.Signer) {
	tag := key.KeyTag()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		owner := "fl-" + strconv.Itoa(i) + ".example.net."
		nsec := &dns.NSEC{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 300},
			NextDomain: "\\000." + owner, TypeBitMap: []uint16{dns.TypeRRSIG, dns.TypeNSEC, 128}}
		sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 300},
			OrigTtl: 300, Algorithm: key.Algorithm, KeyTag: tag, SignerName: "example.net.",
			Inception: 1795000000, Expiration: 1796000000}
		if err := sig.Sign(signer, []dns.RR{nsec}); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			if err := sig.Verify(key, []dns.RR{nsec}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
