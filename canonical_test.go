package livesign

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func mustName(t testing.TB, s string) dname {
	t.Helper()
	n, ok := parseName(s)
	if !ok {
		t.Fatalf("parseName(%q) failed", s)
	}
	return n
}

// TestCompareNamesRFC4034 checks the order of RFC 4034 §6.1's example.
func TestCompareNamesRFC4034(t *testing.T) {
	ordered := []string{
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.",
		"z.example.", `\001.z.example.`, "*.z.example.", `\200.z.example.`,
	}
	for i := range ordered {
		for j := range ordered {
			got := compareNames(mustName(t, ordered[i]), mustName(t, ordered[j]))
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("compareNames(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

// TestNameStringRoundTrip: String gives a name miekg/dns reads back to the
// same octets, written as miekg/dns writes names it reads off the wire.
func TestNameStringRoundTrip(t *testing.T) {
	for _, s := range []string{
		".", "example.net.", `WWW\000.Example.net.`, `*.wild.example.net.`, `*x.www.example.net.`,
		`\042.example.net.`, `a\.b.example.net.`, `\255\255.example.net.`,
		strings.Repeat(`\255`, 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("e", 61) + ".",
	} {
		n := mustName(t, s)
		back := mustName(t, n.String())
		if !slices.Equal(n, back) {
			t.Errorf("%q: String %q reads back as %q", s, n.String(), back)
		}
		if _, ok := dns.IsDomainName(n.String()); !ok {
			t.Errorf("%q: String %q is not a domain name", s, n.String())
		}
	}
	if got := mustName(t, `\042x.www.example.net.`).String(); got != `*x.www.example.net.` {
		t.Errorf("*x label written %q, want it as miekg/dns reads it off the wire", got)
	}
	if got := mustName(t, `\042.example.net.`).String(); got != `*.example.net.` {
		t.Errorf(`\042 label written %q`, got)
	}
}

// smallSpace returns every name below parent whose labels use only the
// given octets, under the limits lim, in canonical order.
func smallSpace(lim nameLimits, parent dname, alphabet string) []dname {
	var labels []string
	var grow func(prefix string)
	grow = func(prefix string) {
		if len(prefix) == lim.label {
			return
		}
		for i := 0; i < len(alphabet); i++ {
			l := prefix + alphabet[i:i+1]
			labels = append(labels, l)
			grow(l)
		}
	}
	grow("")
	all := []dname{parent}
	var below func(n dname)
	below = func(n dname) {
		for _, l := range labels {
			c := with(l, n)
			if c.wire() > lim.wire {
				continue
			}
			all = append(all, c)
			below(c)
		}
	}
	below(parent)
	slices.SortFunc(all, compareNames)
	return all
}

// TestNeighboursExhaustive checks firstChild, after and predecessor against
// every name of a small space (labels of at most 3 octets, names of at most
// 10 on the wire), octets chosen around the upper-case gap and the ends of
// the octet range: between a name and what these functions return lies
// nothing but what they promise.
func TestNeighboursExhaustive(t *testing.T) {
	lim := nameLimits{label: 3, wire: 10}
	parent := dname{"p"}
	space := smallSpace(lim, parent, "\x00\x01@[a\xfe\xff")
	t.Logf("%d names", len(space))
	index := func(n dname) int {
		i, _ := slices.BinarySearchFunc(space, n, compareNames)
		return i
	}
	// between returns the names of space strictly between a and b.
	between := func(a, b dname) []dname {
		i, j := index(a), index(b)
		if i < len(space) && compareNames(space[i], a) == 0 {
			i++
		}
		if i > j {
			return nil
		}
		return space[i:j]
	}
	for _, n := range space[1:] {
		if c, ok := lim.firstChild(n); ok {
			if got := between(n, c); len(got) > 0 {
				t.Fatalf("firstChild(%s) = %s: %s lies between", n, c, got[0])
			}
			if !c.isBelow(n) || c.wire() > lim.wire {
				t.Fatalf("firstChild(%s) = %s", n, c)
			}
		} else if n.wire()+2 <= lim.wire {
			t.Fatalf("firstChild(%s): no child though there is room", n)
		}

		a, ok := lim.after(n)
		if !ok || compareNames(a, n) <= 0 || a.isBelow(n) || a.wire() > lim.wire || len(a[0]) > lim.label {
			t.Fatalf("after(%s) = %s, %v", n, a, ok)
		}
		for _, x := range between(n, a) {
			if !x.isBelow(n) {
				t.Fatalf("after(%s) = %s: %s lies between and is not below %s", n, a, x, n)
			}
		}

		p, ok := lim.predecessor(n)
		if !ok || compareNames(p, n) >= 0 || p.wire() > lim.wire || len(p[0]) > lim.label {
			t.Fatalf("predecessor(%s) = %s, %v", n, p, ok)
		}
		for _, x := range between(p, n) {
			if !x.isBelow(p) {
				t.Fatalf("predecessor(%s) = %s: %s lies between and is not below it", n, p, x)
			}
		}
		if got, _ := lim.after(p); !slices.Equal(got, n) {
			if fc, _ := lim.firstChild(p); !slices.Equal(fc, n) {
				t.Fatalf("predecessor(%s) = %s, whose next non-descendant is %s", n, p, got)
			}
		}
	}
}

// TestNeighboursAtLimits: the real limits, on names at the edges the issue
// reports (a 255-octet name whose first label is 63 \255 octets, \000
// labels, the upper-case gap).
func TestNeighboursAtLimits(t *testing.T) {
	long := strings.Repeat(`\255`, 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("e", 49) + ".example.net."
	if n := mustName(t, long); n.wire() != 255 {
		t.Fatalf("test name is %d octets, want 255", n.wire())
	}
	tests := []struct {
		name, after, pred string
	}{
		{"www.example.net.", `www\000.example.net.`, `wwv` + strings.Repeat(`\255`, 60) + ".example.net."},
		{`www\000.example.net.`, `www\000\000.example.net.`, ""}, // pred: the deepest name below www
		{`\000.example.net.`, `\000\000.example.net.`, "example.net."},
		{`[.example.net.`, `[\000.example.net.`, `@` + strings.Repeat(`\255`, 62) + ".example.net."},
		{`@.example.net.`, `@\000.example.net.`, `?` + strings.Repeat(`\255`, 62) + ".example.net."},
		{long, strings.Repeat("c", 62) + "d." + strings.Repeat("d", 63) + "." + strings.Repeat("e", 49) + ".example.net.", ""},
	}
	for _, tc := range tests {
		n := mustName(t, tc.name)
		a, ok := dnsLimits.after(n)
		if !ok || a.String() != mustName(t, tc.after).String() {
			t.Errorf("after(%s) = %s, want %s", tc.name, a, tc.after)
		}
		p, ok := dnsLimits.predecessor(n)
		if !ok || p.wire() > 255 {
			t.Errorf("predecessor(%s) = %s (%d octets)", tc.name, p, p.wire())
		}
		if tc.pred != "" && p.String() != mustName(t, tc.pred).String() {
			t.Errorf("predecessor(%s) = %s, want %s", tc.name, p, tc.pred)
		}
		if back, ok := dnsLimits.after(p); ok && !slices.Equal(back, n) {
			if fc, _ := dnsLimits.firstChild(p); !slices.Equal(fc, n) {
				t.Errorf("after(predecessor(%s)) = %s", tc.name, back)
			}
		}
	}
	// www\000's predecessor lies below www: the deepest such name.
	p, _ := dnsLimits.predecessor(mustName(t, `www\000.example.net.`))
	if !p.isBelow(mustName(t, "www.example.net.")) || p.wire() != 255 {
		t.Errorf(`predecessor(www\000) = %s (%d octets), want the deepest name below www`, p, p.wire())
	}
}
