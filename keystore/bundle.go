package keystore

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Slot is one DNSKEY RRset signed offline, with the CDNSKEY/CDS records and
// the RRSIGs that come with it.
type Slot struct {
	Start   time.Time // SKR header time; for a single-RRset bundle the earliest DNSKEY RRSIG inception
	DNSKEY  []*dns.DNSKEY
	CDNSKEY []*dns.CDNSKEY
	CDS     []*dns.CDS
	RRSIGs  []*dns.RRSIG // over DNSKEY, CDNSKEY, CDS (TypeCovered tells which)
}

// Bundle is what the offline KSK side hands over: one slot for a single signed
// DNSKEY RRset, one slot per SignedKeyResponse section for an SKR, sorted by Start.
type Bundle struct {
	File  string
	Slots []Slot
	// SKR is true for a Signed Key Response: each slot's DNSKEY set is
	// complete. A single signed RRset may leave the ZSKs out; the server
	// adds those of its keys directory.
	SKR bool
	// Generated is the time on an SKR's closing "generated at" line (zero
	// when absent or unreadable); WriteSKR writes it there.
	Generated time.Time
}

// KSKs returns the KSKs (flag SEP) of every slot's DNSKEY set, public halves
// only, in slot order; a KSK in several slots is listed for each.
func (b *Bundle) KSKs() []*Key {
	var out []*Key
	for _, s := range b.Slots {
		for _, k := range s.DNSKEY {
			if k.Flags&dns.SEP != 0 {
				out = append(out, &Key{DNSKEY: k})
			}
		}
	}
	return out
}

// ReadBundle reads and parses the bundle file at path for zone; see
// ParseBundle. The file is read with ReadRegularFile, at most
// MaxBundleFileSize bytes.
func ReadBundle(path, zone string) (*Bundle, error) {
	data, err := ReadRegularFile(path, MaxBundleFileSize)
	if err != nil {
		return nil, err
	}
	return parseBundle(data, path, zone)
}

// ParseBundle parses a bundle for zone from r; file names it in errors. The
// kind is told by the first header or record (blank and comment lines before
// it are skipped): a ";; SignedKeyResponse 1.0" header starts an SKR (BIND
// 9.20 dnssec-ksr or Knot keymgr layout, one slot per header, the closing
// "generated at" line required); a ";; KeySigningRequest" header is refused;
// anything else is a single signed DNSKEY RRset in zone-file syntax
// (ldns-signzone / dnssec-signzone output; relative names, $ORIGIN, $TTL and
// multi-line records allowed), one slot starting at the earliest DNSKEY RRSIG
// inception. Every slot must hold a KSK (SEP DNSKEY) and an RRSIG over DNSKEY,
// and only apex DNSKEY, CDNSKEY, CDS and RRSIG records. Signatures are not
// verified here: that is CheckSlot's job.
func ParseBundle(r io.Reader, file, zone string) (*Bundle, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("keystore: %s: %w", file, err)
	}
	return parseBundle(data, file, zone)
}

// bundle kinds, told from the first non-blank line.
const (
	kindEmpty = iota
	kindSingle
	kindSKR
	kindKSR
)

// bundleKind tells the kind of a bundle from its first SignedKeyResponse or
// KeySigningRequest header or record, whichever comes first; blank and other
// comment lines before it are skipped.
func bundleKind(data []byte) int {
	kind := kindEmpty
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			continue
		case skrHeader.MatchString(line):
			return kindSKR
		case ksrHeader.MatchString(line):
			return kindKSR
		case strings.HasPrefix(line, ";"):
			kind = kindSingle
		default:
			return kindSingle
		}
	}
	return kind
}

// checkNoHeaders refuses SKR headers in a single-RRset bundle (after its first record).
func checkNoHeaders(data []byte, file string) error {
	for i, l := range strings.Split(string(data), "\n") {
		if skrHeader.MatchString(strings.TrimSpace(l)) || ksrHeader.MatchString(strings.TrimSpace(l)) {
			return fmt.Errorf("keystore: %s:%d: SKR/KSR header after the first record: an SKR starts with its first slot header", file, i+1)
		}
	}
	return nil
}

func parseBundle(data []byte, file, zone string) (*Bundle, error) {
	zone = strings.ToLower(dns.Fqdn(zone))
	switch bundleKind(data) {
	case kindEmpty:
		return nil, fmt.Errorf("keystore: %s is empty: a bundle holds the DNSKEY RRset signed by the KSK (or an SKR)", file)
	case kindKSR:
		return nil, fmt.Errorf("keystore: %s is a key signing request (KSR), not a signed bundle: sign it on the KSK side (livesign sign-ksr, dnssec-ksr sign or keymgr sign-ksr) and use the SKR", file)
	case kindSKR:
		return parseSKR(data, file, zone)
	}
	if err := checkNoHeaders(data, file); err != nil {
		return nil, err
	}
	rrs, err := parseRRs(data, file, zone, 3600)
	if err != nil {
		return nil, fmt.Errorf("%w: a bundle is the signed DNSKEY RRset in zone-file syntax (as ldns-signzone or livesign bundle writes it) or an SKR: copy it again from the offline side", err)
	}
	var s Slot
	for _, r := range rrs {
		if err := s.add(r, file, zone); err != nil {
			return nil, err
		}
	}
	for _, sig := range s.RRSIGs {
		if sig.TypeCovered != dns.TypeDNSKEY {
			continue
		}
		if t := SigTime(sig.Inception, time.Time{}); s.Start.IsZero() || t.Before(s.Start) {
			s.Start = t
		}
	}
	if err := s.complete(); err != nil {
		return nil, fmt.Errorf("keystore: %s: %w", file, err)
	}
	return &Bundle{File: file, Slots: []Slot{s}}, nil
}

// MaxSlotRecords is the most records one bundle, SKR or KSR slot may hold
// (DNSKEY, CDNSKEY, CDS and RRSIG together). Real slots hold a dozen at
// most; the bound keeps the duplicate checks, quadratic in the records of a
// slot, fast on any file within MaxBundleFileSize.
const MaxSlotRecords = 1000

// add puts one parsed record into the slot, refusing records a bundle must not hold.
func (s *Slot) add(r lineRR, file, zone string) error {
	h := r.RR.Header()
	where := fmt.Sprintf("keystore: %s:%d", file, r.Line)
	if len(s.DNSKEY)+len(s.CDNSKEY)+len(s.CDS)+len(s.RRSIGs) >= MaxSlotRecords {
		return fmt.Errorf("%s: more than %d records in one slot: not a DNSKEY RRset and its signatures", where, MaxSlotRecords)
	}
	if !strings.EqualFold(dns.Fqdn(h.Name), zone) {
		return fmt.Errorf("%s: %s record for %s, not the zone apex %s: a bundle holds only the apex DNSKEY, CDNSKEY, CDS and RRSIG records of %s", where, dns.TypeToString[h.Rrtype], h.Name, zone, zone)
	}
	if h.Class != dns.ClassINET {
		return fmt.Errorf("%s: class %s: only IN is supported", where, dns.ClassToString[h.Class])
	}
	h.Name = zone
	switch rr := r.RR.(type) {
	case *dns.DNSKEY:
		if !hasDuplicate(s.DNSKEY, rr) {
			s.DNSKEY = append(s.DNSKEY, rr)
		}
	case *dns.CDNSKEY:
		if !hasDuplicate(s.CDNSKEY, rr) {
			s.CDNSKEY = append(s.CDNSKEY, rr)
		}
	case *dns.CDS:
		if !hasDuplicate(s.CDS, rr) {
			s.CDS = append(s.CDS, rr)
		}
	case *dns.RRSIG:
		switch rr.TypeCovered {
		case dns.TypeDNSKEY, dns.TypeCDNSKEY, dns.TypeCDS:
		default:
			return fmt.Errorf("%s: RRSIG over %s: a bundle holds only RRSIGs over DNSKEY, CDNSKEY and CDS", where, dns.TypeToString[rr.TypeCovered])
		}
		if !strings.EqualFold(dns.Fqdn(rr.SignerName), zone) {
			return fmt.Errorf("%s: RRSIG over %s by key %d has signer name %s, not %s", where, dns.TypeToString[rr.TypeCovered], rr.KeyTag, rr.SignerName, zone)
		}
		if !hasDuplicate(s.RRSIGs, rr) {
			s.RRSIGs = append(s.RRSIGs, rr)
		}
	default:
		return fmt.Errorf("%s: unexpected %s record: a bundle holds only DNSKEY, CDNSKEY, CDS and RRSIG records", where, dns.TypeToString[h.Rrtype])
	}
	return nil
}

// complete checks that the slot has a DNSKEY RRset, a KSK in it and an RRSIG over it.
func (s *Slot) complete() error {
	var sep, sig bool
	for _, k := range s.DNSKEY {
		sep = sep || k.Flags&dns.SEP != 0
	}
	for _, r := range s.RRSIGs {
		sig = sig || r.TypeCovered == dns.TypeDNSKEY
	}
	switch {
	case len(s.DNSKEY) == 0:
		return fmt.Errorf("no DNSKEY record: a bundle holds the DNSKEY RRset signed by the KSK")
	case !sep && !sig:
		return fmt.Errorf("no KSK (DNSKEY with flags 257) and no RRSIG over DNSKEY: the KSK was not published or active at this time (check its Publish/Activate timers) or was not used to sign")
	case !sep:
		return fmt.Errorf("no KSK (DNSKEY with flags 257, the SEP bit): add the KSK's DNSKEY to the bundle")
	case !sig:
		return fmt.Errorf("no RRSIG over DNSKEY: sign the DNSKEY RRset with the KSK")
	}
	return nil
}

// hasDuplicate reports whether rrs already holds a record equal to rr.
func hasDuplicate[T dns.RR](rrs []T, rr dns.RR) bool {
	for _, o := range rrs {
		if dns.IsDuplicate(o, rr) {
			return true
		}
	}
	return false
}

// SigTime converts an RRSIG inception or expiration to a time, with RFC 1982
// serial arithmetic around ref (the zero ref means the current 136-year era of
// Unix time, which is right until 2106).
func SigTime(v uint32, ref time.Time) time.Time {
	if ref.IsZero() {
		return time.Unix(int64(v), 0).UTC()
	}
	const era = int64(1) << 32
	r := ref.Unix()
	t := r - r%era + int64(v)
	switch {
	case t-r > era/2:
		t -= era
	case r-t > era/2:
		t += era
	}
	return time.Unix(t, 0).UTC()
}
