package keystore

import (
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"

	"github.com/miekg/dns"
)

// formatRR writes rr in the layout's style: BIND's one line with tab-aligned
// columns and base64/hex split every 56 characters, or Knot's multi-line
// form with 40-character chunks in parentheses.
func (l Layout) formatRR(rr dns.RR) string {
	if l == LayoutKnot {
		return knotRR(rr)
	}
	return bindRR(rr)
}

// bindRR formats rr as BIND's dns_rdataset_totext does: the owner padded with
// tabs to column 24, then TTL, class and type each followed by a tab.
func bindRR(rr dns.RR) string {
	h := rr.Header()
	var b strings.Builder
	b.WriteString(h.Name)
	col := len(h.Name)
	for first := true; first || col < 24; first = false {
		b.WriteByte('\t')
		col = (col/8 + 1) * 8
	}
	fmt.Fprintf(&b, "%d\t%s\t%s\t", h.Ttl, dns.ClassToString[h.Class], dns.TypeToString[h.Rrtype])
	switch r := rr.(type) {
	case *dns.DNSKEY:
		fmt.Fprintf(&b, "%d %d %d %s", r.Flags, r.Protocol, r.Algorithm, chunk(r.PublicKey, 56, " "))
	case *dns.CDNSKEY:
		fmt.Fprintf(&b, "%d %d %d %s", r.Flags, r.Protocol, r.Algorithm, chunk(r.PublicKey, 56, " "))
	case *dns.CDS:
		fmt.Fprintf(&b, "%d %d %d %s", r.KeyTag, r.Algorithm, r.DigestType, chunk(strings.ToUpper(r.Digest), 56, " "))
	case *dns.RRSIG:
		fmt.Fprintf(&b, "%s %d %d %d %s %s %d %s %s", dns.TypeToString[r.TypeCovered], r.Algorithm, r.Labels, r.OrigTtl,
			dns.TimeToString(r.Expiration), dns.TimeToString(r.Inception), r.KeyTag, r.SignerName, chunk(r.Signature, 56, " "))
	default:
		return rr.String() + "\n"
	}
	b.WriteByte('\n')
	return b.String()
}

// knotIndent starts each continuation line of Knot's multi-line records.
const knotIndent = "\t\t\t\t"

// knotRR formats rr as Knot's knot_rrset_txt_dump (default style) does: the
// owner left-aligned in 20 columns and a tab, TTL and type without class,
// and the RDATA's long field in 40-character lines in parentheses; DNSKEY
// and CDNSKEY end with a comment naming the key.
func knotRR(rr dns.RR) string {
	h := rr.Header()
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s\t%d %s ", h.Name, h.Ttl, dns.TypeToString[h.Rrtype])
	long := func(s string) {
		b.WriteString(knotIndent)
		b.WriteString(chunk(s, 40, "\n"+knotIndent))
		b.WriteString("\n")
	}
	switch r := rr.(type) {
	case *dns.DNSKEY:
		fmt.Fprintf(&b, "%d %d %d (\n", r.Flags, r.Protocol, r.Algorithm)
		long(r.PublicKey)
		fmt.Fprintf(&b, "%s) ; %s\n", knotIndent, knotKeyComment(r))
	case *dns.CDNSKEY:
		fmt.Fprintf(&b, "%d %d %d (\n", r.Flags, r.Protocol, r.Algorithm)
		long(r.PublicKey)
		fmt.Fprintf(&b, "%s) ; %s\n", knotIndent, knotKeyComment(&r.DNSKEY))
	case *dns.CDS:
		fmt.Fprintf(&b, "%d %d %d (\n", r.KeyTag, r.Algorithm, r.DigestType)
		long(strings.ToUpper(r.Digest))
		b.WriteString(knotIndent + ")\n")
	case *dns.RRSIG:
		fmt.Fprintf(&b, "%s %d %d %d %s (\n%s%s %d %s\n", dns.TypeToString[r.TypeCovered], r.Algorithm, r.Labels, r.OrigTtl,
			dns.TimeToString(r.Expiration), knotIndent, dns.TimeToString(r.Inception), r.KeyTag, r.SignerName)
		long(r.Signature)
		b.WriteString(knotIndent + ")\n")
	default:
		return rr.String() + "\n"
	}
	return b.String()
}

// knotKeyComment is Knot's comment after a DNSKEY: "ZSK, ECDSAP256SHA256 (256b), id = 13785".
func knotKeyComment(k *dns.DNSKEY) string {
	role := "ZSK"
	if k.Flags&dns.SEP != 0 {
		role = "KSK"
	}
	return fmt.Sprintf("%s, %s (%db), id = %d", role, dns.AlgorithmToString[k.Algorithm], KeySize(k), k.KeyTag())
}

// chunk splits s into pieces of n characters joined by sep.
func chunk(s string, n int, sep string) string {
	var parts []string
	for len(s) > n {
		parts = append(parts, s[:n])
		s = s[n:]
	}
	parts = append(parts, s)
	return strings.Join(parts, sep)
}

// KeySize returns the size in bits of a DNSKEY's public key as DNSSEC tools
// report it: the modulus length for RSA, the curve size for ECDSA and EdDSA;
// 0 when the key cannot be decoded.
func KeySize(k *dns.DNSKEY) int {
	raw, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil {
		return 0
	}
	switch k.Algorithm {
	case dns.RSAMD5, dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512:
		pub := rsaPublicKey(raw)
		if pub == nil {
			return 0
		}
		return pub.N.BitLen()
	case dns.ECDSAP256SHA256:
		if len(raw) != 64 {
			return 0
		}
		return 256
	case dns.ECDSAP384SHA384:
		if len(raw) != 96 {
			return 0
		}
		return 384
	case dns.ED25519:
		if len(raw) != 32 {
			return 0
		}
		return 256
	case dns.ED448:
		if len(raw) != 57 {
			return 0
		}
		return 456
	}
	return 0
}

// rsaPublicKey decodes RFC 3110 RSA public key bytes, or returns nil.
func rsaPublicKey(raw []byte) *rsa.PublicKey {
	if len(raw) < 1 {
		return nil
	}
	elen, off := int(raw[0]), 1
	if elen == 0 {
		if len(raw) < 3 {
			return nil
		}
		elen, off = int(raw[1])<<8|int(raw[2]), 3
	}
	if elen == 0 || len(raw) <= off+elen {
		return nil
	}
	e := new(big.Int).SetBytes(raw[off : off+elen])
	if !e.IsInt64() || e.Int64() > 1<<31-1 {
		return nil
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(raw[off+elen:]), E: int(e.Int64())}
}
