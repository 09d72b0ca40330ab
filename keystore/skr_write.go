package keystore

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// WriteSKR writes the slots of b as a Signed Key Response for zone in the
// given layout, as BIND 9.20 dnssec-ksr sign or Knot keymgr sign-ksr would:
//
//   - BIND: per slot a ";; SignedKeyResponse 1.0 YYYYMMDDHHMMSS (ctime)"
//     header, then the DNSKEY RRset and its RRSIGs, the CDNSKEY RRset and its
//     RRSIGs, the CDS RRset and its RRSIGs, one RR per line; an empty line
//     before a slot whose ZSKs differ from the slot before (where BIND starts
//     a new KSR bundle).
//   - Knot: per slot a ";; SignedKeyResponse 1.0 UNIX (ISO) =========" header,
//     the DNSKEY, CDNSKEY and CDS RRsets, then the RRSIGs (over DNSKEY, CDS,
//     CDNSKEY), each RR over several lines in parentheses.
//
// Both end with the ";; SignedKeyResponse 1.0 generated at" line (with
// b.Generated), which keymgr import-skr needs to store the last slot.
func WriteSKR(w io.Writer, b *Bundle, layout Layout, zone string) error {
	zone = strings.ToLower(dns.Fqdn(zone))
	if len(b.Slots) == 0 {
		return fmt.Errorf("keystore: no slot to write in the SKR for %s", zone)
	}
	var out strings.Builder
	for i := range b.Slots {
		s := &b.Slots[i]
		if layout == LayoutBIND && i > 0 && zskIDs(s.DNSKEY) != zskIDs(b.Slots[i-1].DNSKEY) {
			out.WriteString("\n")
		}
		fmt.Fprintf(&out, ";; SignedKeyResponse 1.0 %s\n", layout.headerTime(s.Start))
		write := func(rrs ...dns.RR) {
			for _, rr := range rrs {
				rr = dns.Copy(rr)
				rr.Header().Name = zone
				out.WriteString(layout.formatRR(rr))
			}
		}
		dnskey, cdnskey, cds := asRRs(s.DNSKEY), asRRs(s.CDNSKEY), asRRs(s.CDS)
		sigs := func(t uint16) []dns.RR { return asRRs(sigsOver(s.RRSIGs, t)) }
		if layout == LayoutKnot {
			write(dnskey...)
			write(cdnskey...)
			write(cds...)
			write(sigs(dns.TypeDNSKEY)...)
			write(sigs(dns.TypeCDS)...)
			write(sigs(dns.TypeCDNSKEY)...)
			continue
		}
		write(dnskey...)
		write(sigs(dns.TypeDNSKEY)...)
		write(cdnskey...)
		write(sigs(dns.TypeCDNSKEY)...)
		write(cds...)
		write(sigs(dns.TypeCDS)...)
	}
	out.WriteString(layout.footer("SignedKeyResponse", b.Generated))
	_, err := io.WriteString(w, out.String())
	return err
}

// asRRs converts a typed record slice to []dns.RR.
func asRRs[T dns.RR](rrs []T) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, r := range rrs {
		out[i] = r
	}
	return out
}

// zskIDs identifies the set of non-SEP keys in keys, independent of order.
func zskIDs(keys []*dns.DNSKEY) string {
	var ids []string
	for _, k := range keys {
		if k.Flags&dns.SEP == 0 {
			ids = append(ids, fmt.Sprintf("%d/%d/%s", k.Flags, k.Algorithm, k.PublicKey))
		}
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}
