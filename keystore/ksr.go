package keystore

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// KSR is a Key Signing Request: the ZSK side's DNSKEY records per time slot,
// for the offline KSK side to sign (BIND 9.20 dnssec-ksr request, Knot
// keymgr generate-ksr, livesign plan).
type KSR struct {
	Zone      string // FQDN, lower case
	Slots     []KSRSlot
	Layout    Layout
	File      string    // where it was read from, for errors
	Generated time.Time // the footer's "generated at" time (zero if unreadable)
}

// KSRSlot is one KeySigningRequest section: from Start on, the zone
// publishes exactly these ZSKs (the KSK side adds its own keys).
type KSRSlot struct {
	Start  time.Time
	DNSKEY []*dns.DNSKEY
	Line   int // line of the header, 1-based (0 when not read from a file)
}

// ksrHeaderTime matches a KeySigningRequest header; group 1 is the time
// (14 digits for BIND, Unix seconds for Knot) or "generated" for the footer.
var ksrHeaderTime = regexp.MustCompile(`^;;\s*KeySigningRequest\s+1\.0\s+(\S+)`)

// ReadKSR reads the KSR file at path; see ParseKSR. The file is read with
// ReadRegularFile, at most MaxBundleFileSize bytes.
func ReadKSR(path, zone string) (*KSR, error) {
	data, err := ReadRegularFile(path, MaxBundleFileSize)
	if err != nil {
		return nil, err
	}
	return parseKSR(data, path, zone)
}

// ParseKSR parses a KSR in BIND 9.20 or Knot layout (told by the header
// times, which must all be of one form) for zone ("" = the owner of the first
// record). Every section starts with a ";; KeySigningRequest 1.0 TIME"
// header, holds the zone's DNSKEY records only, and starts after the one
// before; the closing "generated at" line is required so that a truncated
// file is refused. Errors name the file and line.
func ParseKSR(r io.Reader, file, zone string) (*KSR, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("keystore: %s: %w", file, err)
	}
	return parseKSR(data, file, zone)
}

func parseKSR(data []byte, file, zone string) (*KSR, error) {
	k := &KSR{File: file}
	footer, layoutLine := 0, 0
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if skrHeader.MatchString(l) {
			return nil, fmt.Errorf("keystore: %s:%d: SignedKeyResponse header: this is an SKR (signed response), not a KSR", file, i+1)
		}
		m := ksrHeaderTime.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if footer != 0 {
			return nil, fmt.Errorf("keystore: %s:%d: KeySigningRequest header after the closing \"generated at\" line %d", file, i+1, footer)
		}
		if m[1] == "generated" {
			footer = i + 1
			k.Generated = parseGenerated(l)
			continue
		}
		t, err := parseSKRTime(m[1])
		if err != nil {
			return nil, fmt.Errorf("keystore: %s:%d: %v", file, i+1, strings.Replace(err.Error(), "SignedKeyResponse", "KeySigningRequest", 1))
		}
		lay := headerLayout(m[1])
		switch {
		case len(k.Slots) == 0:
			k.Layout, layoutLine = lay, i+1
		case lay != k.Layout:
			return nil, fmt.Errorf("keystore: %s:%d: header time %s is in %s layout but line %d is in %s layout: write all header times one way", file, i+1, m[1], lay, layoutLine, k.Layout)
		}
		if n := len(k.Slots); n > 0 && !t.After(k.Slots[n-1].Start) {
			return nil, fmt.Errorf("keystore: %s:%d: slot time %s is not after the previous slot's %s (line %d): slots must be in increasing time order", file, i+1, t.Format(time.RFC3339), k.Slots[n-1].Start.Format(time.RFC3339), k.Slots[n-1].Line)
		}
		k.Slots = append(k.Slots, KSRSlot{Start: t, Line: i + 1})
	}
	if len(k.Slots) == 0 {
		return nil, fmt.Errorf("keystore: %s: no \";; KeySigningRequest 1.0 TIME\" header: not a KSR", file)
	}
	origin := zone
	if origin == "" {
		origin = "."
	}
	if footer == 0 {
		return nil, fmt.Errorf("keystore: %s: no closing \";; KeySigningRequest 1.0 generated at\" line: the KSR is truncated, copy it again", file)
	}
	rrs, err := parseRRs(data, file, origin, 3600)
	if err != nil {
		return nil, err
	}
	if zone == "" && len(rrs) > 0 {
		zone = rrs[0].RR.Header().Name
	}
	k.Zone = strings.ToLower(dns.Fqdn(zone))
	cur := -1
	for _, r := range rrs {
		for cur+1 < len(k.Slots) && k.Slots[cur+1].Line < r.Line {
			cur++
		}
		where := fmt.Sprintf("keystore: %s:%d", file, r.Line)
		h := r.RR.Header()
		switch {
		case cur < 0:
			return nil, fmt.Errorf("%s: record before the first KeySigningRequest header", where)
		case r.Line > footer:
			return nil, fmt.Errorf("%s: record after the closing \"generated at\" line", where)
		case h.Rrtype != dns.TypeDNSKEY:
			return nil, fmt.Errorf("%s: unexpected %s record: a KSR holds only DNSKEY records", where, dns.TypeToString[h.Rrtype])
		case !strings.EqualFold(dns.Fqdn(h.Name), k.Zone):
			return nil, fmt.Errorf("%s: DNSKEY for %s in a KSR for %s: a KSR holds the keys of one zone", where, h.Name, k.Zone)
		case h.Class != dns.ClassINET:
			return nil, fmt.Errorf("%s: class %s: only IN is supported", where, dns.ClassToString[h.Class])
		}
		key := r.RR.(*dns.DNSKEY)
		key.Hdr.Name = k.Zone
		s := &k.Slots[cur]
		if len(s.DNSKEY) >= MaxSlotRecords {
			return nil, fmt.Errorf("%s: more than %d DNSKEY records in the slot at %s (line %d): not a ZSK set", where, MaxSlotRecords, s.Start.Format(time.RFC3339), s.Line)
		}
		if hasDuplicate(s.DNSKEY, key) {
			return nil, fmt.Errorf("%s: DNSKEY %d appears twice in the slot at %s (line %d)", where, key.KeyTag(), s.Start.Format(time.RFC3339), s.Line)
		}
		s.DNSKEY = append(s.DNSKEY, key)
	}
	for _, s := range k.Slots {
		if len(s.DNSKEY) == 0 {
			return nil, fmt.Errorf("keystore: %s:%d: the slot at %s holds no DNSKEY: every KSR slot lists the ZSKs published then", file, s.Line, s.Start.Format(time.RFC3339))
		}
	}
	return k, nil
}

// WriteKSR writes k in its Layout: one header per slot, the slot's DNSKEYs,
// and the closing "generated at" line with k.Generated.
func WriteKSR(w io.Writer, k *KSR) error {
	var b strings.Builder
	for _, s := range k.Slots {
		fmt.Fprintf(&b, ";; KeySigningRequest 1.0 %s\n", k.Layout.headerTime(s.Start))
		for _, key := range s.DNSKEY {
			b.WriteString(k.Layout.formatRR(key))
		}
	}
	b.WriteString(k.Layout.footer("KeySigningRequest", k.Generated))
	_, err := io.WriteString(w, b.String())
	return err
}

// SameKSR reports whether two KSRs ask for the same thing: zone, layout,
// slot times and keys (the "generated at" time aside).
func SameKSR(a, b *KSR) bool {
	if a.Zone != b.Zone || a.Layout != b.Layout || len(a.Slots) != len(b.Slots) {
		return false
	}
	for i := range a.Slots {
		x, y := a.Slots[i], b.Slots[i]
		if !x.Start.Equal(y.Start) || len(x.DNSKEY) != len(y.DNSKEY) {
			return false
		}
		for j := range x.DNSKEY {
			if x.DNSKEY[j].String() != y.DNSKEY[j].String() {
				return false
			}
		}
	}
	return true
}

// WriteKSRFile writes k to path (atomically, mode 0644) unless path already
// holds a KSR that asks for the same thing (SameKSR), and says whether it
// wrote: planning again with the same inputs leaves the file as it is.
func WriteKSRFile(path string, k *KSR) (changed bool, err error) {
	if old, err := ReadKSR(path, k.Zone); err == nil && SameKSR(old, k) {
		return false, nil
	}
	var b strings.Builder
	if err := WriteKSR(&b, k); err != nil {
		return false, err
	}
	if err := WriteFileAtomic(path, []byte(b.String()), 0o644); err != nil {
		return false, err
	}
	return true, nil
}
