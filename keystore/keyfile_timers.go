package keystore

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"time"
)

// timestampLayout is BIND's YYYYMMDDHHMMSS (UTC) timer format.
const timestampLayout = "20060102150405"

// timerField names one timer and the names it carries in .key/.private and .state files.
type timerField struct {
	name  string // .key comment and .private field name
	state string // .state field name
	get   func(*Timers) *time.Time
}

var timerFields = []timerField{
	{"Created", "Generated", func(t *Timers) *time.Time { return &t.Created }},
	{"Publish", "Published", func(t *Timers) *time.Time { return &t.Publish }},
	{"Activate", "Active", func(t *Timers) *time.Time { return &t.Activate }},
	{"Inactive", "Retired", func(t *Timers) *time.Time { return &t.Inactive }},
	{"Delete", "Removed", func(t *Timers) *time.Time { return &t.Delete }},
}

// parseTimestamp parses a 14-digit UTC timestamp; BIND may follow it with a
// human-readable date in parentheses, which is ignored.
func parseTimestamp(v string) (time.Time, error) {
	fields := strings.Fields(v)
	if len(fields) == 0 || len(fields[0]) != 14 {
		return time.Time{}, fmt.Errorf("timestamp %q is not YYYYMMDDHHMMSS", v)
	}
	t, err := time.Parse(timestampLayout, fields[0])
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q is not YYYYMMDDHHMMSS", v)
	}
	return t, nil
}

// parseTimerLines reads "Name: YYYYMMDDHHMMSS" lines from data. With comment set,
// only lines starting with ';' are considered (the .key file); otherwise every
// line is (.private and .state files). state selects the .state field names.
// Fields that are not timers are ignored.
func parseTimerLines(data []byte, path string, comment, state bool) (Timers, error) {
	var tm Timers
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if comment {
			if !strings.HasPrefix(text, ";") {
				continue
			}
			text = strings.TrimSpace(strings.TrimLeft(text, ";"))
		}
		name, value, ok := strings.Cut(text, ":")
		if !ok {
			continue
		}
		for _, f := range timerFields {
			want := f.name
			if state {
				want = f.state
			}
			if !strings.EqualFold(strings.TrimSpace(name), want) {
				continue
			}
			t, err := parseTimestamp(value)
			if err != nil {
				return Timers{}, fmt.Errorf("keystore: %s:%d: %s: %w", path, line, want, err)
			}
			*f.get(&tm) = t
		}
	}
	if err := sc.Err(); err != nil {
		return Timers{}, fmt.Errorf("keystore: %s: %w", path, err)
	}
	return tm, nil
}

// merge fills the unset timers of t from o.
func (t *Timers) merge(o Timers) {
	for _, f := range timerFields {
		if p := f.get(t); p.IsZero() {
			*p = *f.get(&o)
		}
	}
}
