package keystore

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestReadSKRFixtures(t *testing.T) {
	tests := []struct {
		name, file, anchor, zone string
		slots                    int
		first, last              time.Time
		cds                      bool
	}{
		{"BIND 9.20 dnssec-ksr", td("bind920", "example.org.skr"), td("bind920", "ksk.ds"), "example.org.", 31,
			time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC), true},
		{"Knot keymgr", td("knot", "example.com.skr"), td("knot", "ksk.ds"), "example.com.", 38,
			time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ReadBundle(tc.file, tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Slots) != tc.slots {
				t.Fatalf("%d slots, want %d", len(b.Slots), tc.slots)
			}
			if !b.Slots[0].Start.Equal(tc.first) || !b.Slots[len(b.Slots)-1].Start.Equal(tc.last) {
				t.Errorf("slots from %v to %v", b.Slots[0].Start, b.Slots[len(b.Slots)-1].Start)
			}
			a, err := ReadAnchor(tc.anchor, tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			for i := range b.Slots {
				s := &b.Slots[i]
				if i > 0 && !s.Start.After(b.Slots[i-1].Start) {
					t.Errorf("slot %d not after slot %d", i, i-1)
				}
				if tc.cds && (len(s.CDS) != 1 || len(s.CDNSKEY) != 1 || len(s.RRSIGs) != 3) {
					t.Errorf("slot %d: %d CDS %d CDNSKEY %d RRSIG", i, len(s.CDS), len(s.CDNSKEY), len(s.RRSIGs))
				}
				// Each slot verifies at its own start (plus an hour), with its own ZSKs.
				set, err := CheckSlot(s, tc.zone, nil, a, s.Start.Add(time.Hour))
				if err != nil {
					t.Fatalf("slot %d (%v): %v", i, s.Start, err)
				}
				if len(set) < 2 {
					t.Errorf("slot %d: %d keys", i, len(set))
				}
			}
		})
	}
}

func TestParseSKRErrors(t *testing.T) {
	bind, err := os.ReadFile(td("bind920", "example.org.skr"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(bind), "\n")
	firstSlot := strings.Join(lines[:8], "")
	footer := ";; SignedKeyResponse 1.0 generated at Mon Nov 23 15:43:40 2026 by 9.20.23\n"
	noKSK := ";; SignedKeyResponse 1.0 20261101000000 (Sun Nov  1 00:00:00 2026)\n" + lines[2] // ZSK DNSKEY only
	tests := []struct {
		name, in, wantErr string
	}{
		{"one slot", firstSlot + footer, ""},
		{"comment before the first header", "; copied from the KSK machine\n\n" + firstSlot + footer, ""},
		{"no closing line", firstSlot, "example.org.skr: no closing \";; SignedKeyResponse 1.0 generated at\" line: the SKR is truncated"},
		{"slot without KSK and RRSIG (KSK published too late)", noKSK + footer,
			"slot 1 (2026-11-01T00:00:00Z, line 1): no KSK (DNSKEY with flags 257) and no RRSIG over DNSKEY"},
		{"second slot without KSK", firstSlot + strings.Replace(noKSK, "20261101", "20261110", 1) + footer, "slot 2 (2026-11-10T00:00:00Z, line 9)"},
		{"same slot time twice (BIND 9.20 with close KSR slots): the later wins", firstSlot + firstSlot + footer, ""},
		{"slots out of order", firstSlot + strings.Replace(firstSlot, "20261101000000", "20261031000000", 1) + footer, "example.org.skr:9: slot time 2026-10-31T00:00:00Z is before the previous slot's"},
		{"bad header time", strings.Replace(firstSlot, "20261101000000", "2026-11-01", 1) + footer, "example.org.skr:1: SignedKeyResponse time \"2026-11-01\""},
		{"record after the closing line", firstSlot + footer + lines[1], "record after the closing"},
		{"header after the closing line", firstSlot + footer + firstSlot, "header after the closing"},
		{"record of another zone", strings.Replace(firstSlot, "example.org.\t\t3600\tIN\tDNSKEY\t256", "www.example.org.\t\t3600\tIN\tDNSKEY\t256", 1) + footer, "example.org.skr:3: DNSKEY record for www.example.org."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ParseBundle(strings.NewReader(tc.in), "example.org.skr", "example.org.")
			wantErr(t, err, tc.wantErr)
			if err == nil && len(b.Slots) != 1 {
				t.Errorf("%d slots", len(b.Slots))
			}
		})
	}
}
