package livesign

import (
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// signNSEC fills in sig's signature over the one-record RRset nsec, as
// miekg/dns's RRSIG.Sign does (RFC 4034 §3.1.8.1), for the answers a flood
// of new names makes: one NSEC each. It builds the signed data in a pooled
// buffer and turns the ECDSA signature into its DNSSEC form directly;
// RRSIG.Sign allocates a 4 KB buffer, copies the RRset and goes through
// big.Int, about 4 µs of an answer's 50. The result is byte for byte what
// RRSIG.Sign makes (TestSignNSECMatchesMiekg). Owners that start with '*'
// (wildcard label counting) and RSA keys take RRSIG.Sign.
func signNSEC(sig *dns.RRSIG, k crypto.Signer, nsec *dns.NSEC) error {
	var hash crypto.Hash
	switch sig.Algorithm {
	case dns.ECDSAP256SHA256:
		hash = crypto.SHA256
	case dns.ECDSAP384SHA384:
		hash = crypto.SHA384
	}
	if hash == 0 && sig.Algorithm != dns.ED25519 || strings.HasPrefix(nsec.Hdr.Name, "*") {
		return sig.Sign(keystore.Deterministic(k), []dns.RR{nsec})
	}
	sig.Hdr.Rrtype, sig.Hdr.Name, sig.Hdr.Class = dns.TypeRRSIG, nsec.Hdr.Name, nsec.Hdr.Class
	if sig.OrigTtl == 0 {
		sig.OrigTtl = nsec.Hdr.Ttl
	}
	sig.TypeCovered = dns.TypeNSEC
	sig.Labels = uint8(dns.CountLabel(nsec.Hdr.Name))
	if sig.KeyTag == 0 || sig.SignerName == "" {
		return dns.ErrKey
	}

	bp := signData.Get().(*[]byte)
	defer signData.Put(bp)
	data, err := appendSignedNSEC((*bp)[:0], sig, nsec)
	if err != nil {
		return err
	}
	*bp = data

	var raw []byte
	switch hash {
	case crypto.SHA256:
		d := sha256.Sum256(data)
		raw, err = ecdsaSignature(k, d[:], hash, 32)
	case crypto.SHA384:
		d := sha512.Sum384(data)
		raw, err = ecdsaSignature(k, d[:], hash, 48)
	default: // Ed25519 signs the data itself
		raw, err = k.Sign(nil, data, crypto.Hash(0))
	}
	if err != nil {
		return err
	}
	sig.Signature = base64.StdEncoding.EncodeToString(raw)
	return nil
}

var signData = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendSignedNSEC appends the data an RRSIG over nsec signs: the RRSIG's
// RDATA without the signature, its signer name in lower case, then the NSEC
// in canonical form (owner in lower case, the original TTL; the next name
// as it is, RFC 6840 §5.1).
func appendSignedNSEC(b []byte, sig *dns.RRSIG, nsec *dns.NSEC) ([]byte, error) {
	b = append(b, byte(sig.TypeCovered>>8), byte(sig.TypeCovered), sig.Algorithm, sig.Labels)
	b = appendUint32(b, sig.OrigTtl)
	b = appendUint32(b, sig.Expiration)
	b = appendUint32(b, sig.Inception)
	b = append(b, byte(sig.KeyTag>>8), byte(sig.KeyTag))
	b, err := appendName(b, strings.ToLower(sig.SignerName))
	if err != nil {
		return nil, err
	}
	rr := dns.NSEC{Hdr: nsec.Hdr, NextDomain: nsec.NextDomain, TypeBitMap: nsec.TypeBitMap}
	rr.Hdr.Name, rr.Hdr.Ttl = strings.ToLower(nsec.Hdr.Name), sig.OrigTtl
	off := len(b)
	b = slices.Grow(b, dns.Len(&rr))
	end, err := dns.PackRR(&rr, b[:cap(b)], off, nil, false)
	if err != nil {
		return nil, err
	}
	return b[:end], nil
}

// appendName appends name in uncompressed wire format.
func appendName(b []byte, name string) ([]byte, error) {
	off := len(b)
	b = slices.Grow(b, len(name)+2)
	end, err := dns.PackDomainName(name, b[:cap(b)], off, nil, false)
	if err != nil {
		return nil, err
	}
	return b[:end], nil
}

func appendUint32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// ecdsaSignature signs digest with k (deterministically, RFC 6979) and
// returns the signature as DNSSEC writes it (RFC 6605 §4): r and s, each
// size octets, big-endian.
func ecdsaSignature(k crypto.Signer, digest []byte, hash crypto.Hash, size int) ([]byte, error) {
	der, err := keystore.Deterministic(k).Sign(nil, digest, hash)
	if err != nil {
		return nil, err
	}
	// SEQUENCE { INTEGER r, INTEGER s }; for P-256 and P-384 every length
	// fits the short form.
	if len(der) < 2 || der[0] != 0x30 || int(der[1]) != len(der)-2 {
		return nil, errDER
	}
	out := make([]byte, 2*size)
	rest := der[2:]
	for i := range 2 {
		if len(rest) < 2 || rest[0] != 0x02 || int(rest[1]) > len(rest)-2 {
			return nil, errDER
		}
		n := rest[2 : 2+int(rest[1])]
		rest = rest[2+int(rest[1]):]
		for len(n) > 0 && n[0] == 0 {
			n = n[1:]
		}
		if len(n) > size {
			return nil, errDER
		}
		copy(out[(i+1)*size-len(n):(i+1)*size], n)
	}
	if len(rest) != 0 {
		return nil, errDER
	}
	return out, nil
}

var errDER = errors.New("ECDSA signature is not a DER SEQUENCE of two INTEGERs")
