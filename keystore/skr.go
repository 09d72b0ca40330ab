package keystore

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	// skrHeader matches a SignedKeyResponse line; group 1 is the time (14 digits
	// for BIND, Unix seconds for Knot) or "generated" for the closing line.
	skrHeader = regexp.MustCompile(`^;;\s*SignedKeyResponse\s+1\.0\s+(\S+)`)
	// ksrHeader matches a KeySigningRequest line.
	ksrHeader = regexp.MustCompile(`^;;\s*KeySigningRequest\s+1\.0\b`)
)

// slotHeader is one SKR section header.
type slotHeader struct {
	line  int // 1-based
	start time.Time
}

// parseSKR parses a signed key response: BIND 9.20 layout (14-digit header
// times, one RR per line) or Knot layout (Unix-second header times,
// multi-line RRs). Each header starts a slot; the closing "generated at" line
// is required, so that a truncated file is refused.
func parseSKR(data []byte, file, zone string) (*Bundle, error) {
	lines := strings.Split(string(data), "\n")
	var heads []slotHeader
	footer := 0
	var generated time.Time
	for i, l := range lines {
		m := skrHeader.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		if footer != 0 {
			return nil, fmt.Errorf("keystore: %s:%d: SignedKeyResponse header after the closing \"generated at\" line %d", file, i+1, footer)
		}
		if m[1] == "generated" {
			footer = i + 1
			generated = parseGenerated(l)
			continue
		}
		t, err := parseSKRTime(m[1])
		if err != nil {
			return nil, fmt.Errorf("keystore: %s:%d: %w", file, i+1, err)
		}
		if n := len(heads); n > 0 && t.Before(heads[n-1].start) {
			return nil, fmt.Errorf("keystore: %s:%d: slot time %s is before the previous slot's %s (line %d): slots must be in time order", file, i+1, t.Format(time.RFC3339), heads[n-1].start.Format(time.RFC3339), heads[n-1].line)
		}
		heads = append(heads, slotHeader{line: i + 1, start: t})
	}
	if len(heads) == 0 {
		return nil, fmt.Errorf("keystore: %s: no SignedKeyResponse slot header", file)
	}
	rrs, err := parseRRs(data, file, zone, 3600)
	if err != nil {
		return nil, err
	}
	if footer == 0 {
		return nil, fmt.Errorf("keystore: %s: no closing \";; SignedKeyResponse 1.0 generated at\" line: the SKR is truncated, copy it again", file)
	}
	slots := make([]Slot, len(heads))
	for i, h := range heads {
		slots[i].Start = h.start
	}
	cur := -1
	for _, r := range rrs {
		for cur+1 < len(heads) && heads[cur+1].line < r.Line {
			cur++
		}
		if cur < 0 {
			return nil, fmt.Errorf("keystore: %s:%d: record before the first SignedKeyResponse header", file, r.Line)
		}
		if r.Line > footer {
			return nil, fmt.Errorf("keystore: %s:%d: record after the closing \"generated at\" line", file, r.Line)
		}
		if err := slots[cur].add(r, file, zone); err != nil {
			return nil, err
		}
	}
	for i := range slots {
		if err := slots[i].complete(); err != nil {
			return nil, fmt.Errorf("keystore: %s: slot %d (%s, line %d): %w", file, i+1, slots[i].Start.Format(time.RFC3339), heads[i].line, err)
		}
	}
	// BIND 9.20 dnssec-ksr sign writes two slots with the same time when
	// KSR slots are closer than validity-refresh: one more of the old key
	// set, then the new one. The later one is in force from that time.
	kept := slots[:0]
	for i := range slots {
		if n := len(kept); n > 0 && slots[i].Start.Equal(kept[n-1].Start) {
			kept[n-1] = slots[i]
			continue
		}
		kept = append(kept, slots[i])
	}
	slots = kept
	return &Bundle{File: file, Slots: slots, SKR: true, Generated: generated}, nil
}

// parseSKRTime parses a header time: YYYYMMDDHHMMSS (BIND) or Unix seconds (Knot).
func parseSKRTime(s string) (time.Time, error) {
	if len(s) == 14 {
		if t, err := time.Parse(timestampLayout, s); err == nil {
			return t, nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) < 14 && n >= 0 {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("SignedKeyResponse time %q is neither YYYYMMDDHHMMSS nor Unix seconds", s)
}
