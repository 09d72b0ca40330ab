package cryptobound

import (
	"crypto"
	"strconv"
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkRRSIGSignECDSAP256 signs a compact-denial NSEC (RFC 9824: next
// name \000.<qname>, bitmap RRSIG NSEC NXNAME), the one fresh signature a
// livesign flood answer needs, at a new owner each time. ns/op converts to
// signatures per second per core: 1e9 / ns/op.
func BenchmarkRRSIGSignECDSAP256(b *testing.B) {
	key := &dns.DNSKEY{Hdr: dns.RR_Header{Name: "example.net.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: 256, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
	priv, err := key.Generate(256)
	if err != nil {
		b.Fatal(err)
	}
	signer := priv.(crypto.Signer)
	tag := key.KeyTag()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		owner := "fl-" + strconv.Itoa(i) + ".example.net."
		nsec := &dns.NSEC{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 300},
			NextDomain: "\\000." + owner, TypeBitMap: []uint16{dns.TypeRRSIG, dns.TypeNSEC, 128}}
		sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 300},
			OrigTtl: 300, Algorithm: dns.ECDSAP256SHA256, KeyTag: tag, SignerName: "example.net.",
			Inception: 1795000000, Expiration: 1796000000}
		if err := sig.Sign(signer, []dns.RR{nsec}); err != nil {
			b.Fatal(err)
		}
	}
}
