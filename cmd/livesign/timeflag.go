package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/livesign/livesign/keystore"
)

// parseTime reads a point in time as YYYYMMDDHHMMSS (UTC, as in BIND key
// files), RFC 3339, "now", or a duration relative to now ("+180d", "-1h").
func parseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "now":
		return now.UTC().Truncate(time.Second), nil
	case strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-"):
		d, err := keystore.ParseDuration(s)
		if err != nil {
			return time.Time{}, err
		}
		return now.UTC().Truncate(time.Second).Add(d), nil
	case len(s) == 14:
		if _, err := strconv.ParseUint(s, 10, 64); err == nil {
			t, err := time.Parse("20060102150405", s)
			if err != nil {
				return time.Time{}, fmt.Errorf("time %q: %v", s, err)
			}
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("time %q: give YYYYMMDDHHMMSS (UTC), RFC 3339 (2026-12-01T00:00:00Z), now, or +DURATION such as +180d", s)
}

// positiveDuration parses a duration flag that must be positive.
func positiveDuration(name, s string) (time.Duration, error) {
	d, err := keystore.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("-%s %q: give a positive duration such as 90m, 12h, 7d or 2w", name, s)
	}
	return d, nil
}
