package keystore

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Layout is the text layout of a KSR or SKR file: which tool's dialect it
// is written in.
type Layout int

const (
	// LayoutBIND is BIND 9.20 dnssec-ksr's layout: header times as
	// YYYYMMDDHHMMSS (UTC) followed by ctime in parentheses, one RR per line.
	LayoutBIND Layout = iota
	// LayoutKnot is Knot DNS keymgr's layout: header times as Unix seconds
	// followed by ISO 8601 in parentheses and "=========", RRs written over
	// several lines in parentheses. Knot 3.2 reads header times only in
	// this form.
	LayoutKnot
)

// String returns "bind" or "knot".
func (l Layout) String() string {
	if l == LayoutKnot {
		return "knot"
	}
	return "bind"
}

// ParseLayout parses "bind" or "knot" (case-insensitive).
func ParseLayout(s string) (Layout, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "bind", "bind9", "bind920":
		return LayoutBIND, nil
	case "knot", "knot-dns", "keymgr":
		return LayoutKnot, nil
	}
	return 0, fmt.Errorf("layout %q is not supported: use bind (BIND 9.20 dnssec-ksr) or knot (Knot DNS keymgr)", s)
}

// headerTime formats a KSR/SKR header time with its human-readable form:
// "20261101000000 (Sun Nov  1 00:00:00 2026)" for BIND,
// "1793491200 (2026-11-01T00:00:00Z) =========" for Knot.
func (l Layout) headerTime(t time.Time) string {
	t = t.UTC()
	if l == LayoutKnot {
		return fmt.Sprintf("%d (%s) =========", t.Unix(), t.Format(time.RFC3339))
	}
	return fmt.Sprintf("%s (%s)", t.Format(timestampLayout), t.Format(time.ANSIC))
}

// footer returns the closing "generated at" line of a KSR or SKR; kind is
// "KeySigningRequest" or "SignedKeyResponse".
func (l Layout) footer(kind string, generated time.Time) string {
	g := generated.UTC()
	when := g.Format(time.ANSIC)
	if l == LayoutKnot {
		when = g.Format(time.RFC3339)
	}
	return fmt.Sprintf(";; %s 1.0 generated at %s by livesign\n", kind, when)
}

// headerLayout tells the layout from a header time: 14 digits is BIND,
// fewer is Knot's Unix seconds.
func headerLayout(s string) Layout {
	if len(s) == 14 {
		return LayoutBIND
	}
	return LayoutKnot
}

// parseGenerated reads the time of a "generated at TIME by ..." footer,
// in either layout; the zero time when it cannot be read.
func parseGenerated(line string) time.Time {
	_, rest, ok := strings.Cut(line, "generated at ")
	if !ok {
		return time.Time{}
	}
	if i := strings.LastIndex(rest, " by "); i >= 0 {
		rest = rest[:i]
	}
	rest = strings.TrimSpace(rest)
	for _, layout := range []string{time.RFC3339, time.ANSIC} {
		if t, err := time.Parse(layout, rest); err == nil {
			return t.UTC()
		}
	}
	if n, err := strconv.ParseInt(rest, 10, 64); err == nil {
		return time.Unix(n, 0).UTC()
	}
	return time.Time{}
}
