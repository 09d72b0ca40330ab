package keystore

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseDuration parses a Go duration ("90m", "1h30m", "-1h") that may also use
// the units d (24h) and w (7d): "90d", "1w2d", "1d12h".
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	bad := func() (time.Duration, error) {
		return 0, fmt.Errorf("invalid duration %q: use a number with a unit (ns, us, ms, s, m, h, d, w), e.g. 90d or 1h30m", orig)
	}
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return bad()
	}
	var total float64
	for s != "" {
		i := 0
		for i < len(s) && (s[i] == '.' || s[i] >= '0' && s[i] <= '9') {
			i++
		}
		if i == 0 {
			return bad()
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return bad()
		}
		s = s[i:]
		j := 0
		for j < len(s) && s[j] != '.' && (s[j] < '0' || s[j] > '9') {
			j++
		}
		var unit time.Duration
		switch u := s[:j]; u {
		case "d":
			unit = 24 * time.Hour
		case "w":
			unit = 7 * 24 * time.Hour
		default:
			d, err := time.ParseDuration("1" + u)
			if err != nil || u == "" || strings.ContainsAny(u, "+-") {
				return bad()
			}
			unit = d
		}
		s = s[j:]
		total += n * float64(unit)
		if total > math.MaxInt64 {
			return bad()
		}
	}
	if neg {
		total = -total
	}
	return time.Duration(total), nil
}
