package keystore

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// withoutFooter drops the closing "generated at" line, which names the tool.
func withoutFooter(s string) string {
	i := strings.LastIndex(strings.TrimRight(s, "\n"), "\n")
	return s[:i+1]
}

func TestKSRRoundTrip(t *testing.T) {
	tests := []struct {
		name, file, zone string
		layout           Layout
		slots            int
		first, last      time.Time
	}{
		{"BIND 9.20", td("bind920", "example.org.ksr"), "example.org", LayoutBIND, 12,
			time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 4, 29, 21, 55, 0, 0, time.UTC)},
		{"Knot 3.2", td("knot", "example.com.ksr"), "", LayoutKnot, 20,
			time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			k, err := ReadKSR(tc.file, tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			if k.Layout != tc.layout || len(k.Slots) != tc.slots || !k.Slots[0].Start.Equal(tc.first) || !k.Slots[len(k.Slots)-1].Start.Equal(tc.last) {
				t.Fatalf("layout %v, %d slots %v .. %v", k.Layout, len(k.Slots), k.Slots[0].Start, k.Slots[len(k.Slots)-1].Start)
			}
			if k.Generated.IsZero() {
				t.Error("footer time not read")
			}
			var buf bytes.Buffer
			if err := WriteKSR(&buf, k); err != nil {
				t.Fatal(err)
			}
			if got, want := withoutFooter(buf.String()), withoutFooter(string(orig)); got != want {
				t.Errorf("written KSR differs from the tool's:\n%s\nwant:\n%s", got, want)
			}
			k2, err := ParseKSR(&buf, "again", "")
			if err != nil {
				t.Fatal(err)
			}
			k.File, k2.File = "", ""
			for i := range k.Slots {
				k.Slots[i].Line, k2.Slots[i].Line = 0, 0
			}
			if !reflect.DeepEqual(k, k2) {
				t.Errorf("parse(write(ksr)) differs")
			}
		})
	}
}

func TestSKRRoundTrip(t *testing.T) {
	tests := []struct {
		name, file, zone string
		layout           Layout
	}{
		{"BIND 9.20", td("bind920", "example.org.skr"), "example.org.", LayoutBIND},
		{"Knot 3.2", td("knot", "example.com.skr"), "example.com.", LayoutKnot},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ReadBundle(tc.file, tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			if b.Generated.IsZero() {
				t.Error("footer time not read")
			}
			var buf bytes.Buffer
			if err := WriteSKR(&buf, b, tc.layout, tc.zone); err != nil {
				t.Fatal(err)
			}
			if got, want := withoutFooter(buf.String()), withoutFooter(string(orig)); got != want {
				t.Errorf("written SKR differs from the tool's:\n%s", firstDiff(got, want))
			}
			b2, err := ParseBundle(&buf, tc.file, tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(b, b2) {
				t.Errorf("parse(write(skr)) differs")
			}
		})
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d", i+1) + ":\n got  " + a + "\n want " + b
		}
	}
	return ""
}
