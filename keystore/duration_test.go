package keystore

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"0", 0, false},
		{"90d", 90 * day, false},
		{"1w", 7 * day, false},
		{"1w2d", 9 * day, false},
		{"1d12h", 36 * time.Hour, false},
		{"-1h", -time.Hour, false},
		{"+30m", 30 * time.Minute, false},
		{"1h30m", 90 * time.Minute, false},
		{"1.5d", 36 * time.Hour, false},
		{"300ms", 300 * time.Millisecond, false},
		{"5m", 5 * time.Minute, false},
		{"", 0, true},
		{"-", 0, true},
		{"90", 0, true},
		{"d", 0, true},
		{"3y", 0, true},
		{"1h-1m", 0, true},
		{"1..5h", 0, true},
		{"999999999w", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseDuration(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
