package livesign

import (
	"strings"

	"github.com/miekg/dns"
)

// dname is a domain name as the octets of its labels, leftmost first, with
// ASCII letters folded to lower case: the form in which RFC 4034 §6.1 orders
// names. The root is the empty dname.
type dname []string

// nameLimits are the length limits of names: 63 octets per label and 255 on
// the wire. Tests shrink them so that every name of a small space can be
// enumerated and the functions below checked against all of them.
type nameLimits struct{ label, wire int }

var dnsLimits = nameLimits{label: 63, wire: 255}

// parseName returns s, a name in presentation format, as a dname. It
// fails for names that are not valid on the wire. The labels share one
// string: a name costs two allocations however many labels it has.
func parseName(s string) (dname, bool) {
	var buf [256]byte
	end, err := dns.PackDomainName(dns.Fqdn(s), buf[:], 0, nil, false)
	if err != nil {
		return nil, false
	}
	labels := 0
	for off := 0; off < end && buf[off] != 0; off += 1 + int(buf[off]) {
		labels++
	}
	if labels == 0 {
		return nil, true
	}
	wire := lowerASCII(buf[:end]) // length octets (at most 63) are below 'A'
	n := make(dname, 0, labels)
	for off := 0; off < end && buf[off] != 0; off += 1 + int(buf[off]) {
		n = append(n, wire[off+1:off+1+int(buf[off])])
	}
	return n, true
}

// lowerASCII folds the ASCII letters of b to lower case, in place, and
// returns b as a string.
func lowerASCII(b []byte) string {
	for i, x := range b {
		if x >= 'A' && x <= 'Z' {
			b[i] = x + 'a' - 'A'
		}
	}
	return string(b)
}

// String returns n in presentation format, fully qualified, written as
// miekg/dns writes a name it reads off the wire: the form in which a query
// reaches the backend, which is the form the backend matches best (the
// file plugin tells "*x" from "\042x").
func (n dname) String() string {
	if len(n) == 0 {
		return "."
	}
	var buf [256]byte
	off := 0
	for _, l := range n {
		if off+1+len(l) >= len(buf) {
			return "." // longer than any name: never made by this package
		}
		buf[off] = byte(len(l))
		copy(buf[off+1:], l)
		off += 1 + len(l)
	}
	buf[off] = 0
	s, _, err := dns.UnpackDomainName(buf[:off+1], 0)
	if err != nil {
		return "."
	}
	return s
}

// wire returns the length of n on the wire.
func (n dname) wire() int {
	w := 1
	for _, l := range n {
		w += 1 + len(l)
	}
	return w
}

// parent returns n without its first label.
func (n dname) parent() dname { return n[1:] }

// with returns the name with label prepended to parent.
func with(label string, parent dname) dname {
	return append(dname{label}, parent...)
}

// compareNames orders a and b canonically (RFC 4034 §6.1): label by label
// from the right, each compared as octet strings, a name before its
// descendants. It returns -1, 0 or +1.
func compareNames(a, b dname) int {
	for i, j := len(a)-1, len(b)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := strings.Compare(a[i], b[j]); c != 0 {
			return c
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// isBelow tells whether n is anc or a descendant of it.
func (n dname) isBelow(anc dname) bool {
	if len(n) < len(anc) {
		return false
	}
	off := len(n) - len(anc)
	for i := range anc {
		if n[off+i] != anc[i] {
			return false
		}
	}
	return true
}

// firstChild returns the first name after n in canonical order, \000.n,
// when n has room for a child.
func (lim nameLimits) firstChild(n dname) (dname, bool) {
	if n.wire()+2 > lim.wire {
		return nil, false
	}
	return with("\x00", n), true
}

// after returns the first name after n and all of n's descendants in
// canonical order: its first label with \000 appended, or when that does
// not fit, the label cut after its last octet that can grow and that octet
// incremented, or, when every octet is \255, what comes after the parent.
// ok is false for the last name of all.
func (lim nameLimits) after(n dname) (dname, bool) {
	for len(n) > 0 {
		l := n[0]
		if len(l) < lim.label && n.wire()+1 <= lim.wire {
			return with(l+"\x00", n.parent()), true
		}
		for i := len(l) - 1; i >= 0; i-- {
			if l[i] != 0xff {
				return with(l[:i]+string([]byte{nextOctet(l[i])}), n.parent()), true
			}
		}
		n = n.parent()
	}
	return nil, false
}

// predecessor returns the greatest name before n such that every name
// strictly between the two is a descendant of it, so that after(p) = n
// (or, when n is the first child of its parent, the parent itself). It is
// the owner of a minimally covering NSEC (RFC 4470) for n: a name that does
// not exist is all such an NSEC needs to deny besides n. ok is false for the
// root.
func (lim nameLimits) predecessor(n dname) (dname, bool) {
	if len(n) == 0 {
		return nil, false
	}
	l, parent := n[0], n.parent()
	last := l[len(l)-1]
	if last == 0 {
		if len(l) == 1 {
			return parent, true // n is \000.parent, the first child
		}
		// Everything below l[:len-1].parent sorts before n: the greatest of
		// those names is the deepest chain of \255 labels below it.
		return lim.maxDescendant(with(l[:len(l)-1], parent)), true
	}
	label := append([]byte(l[:len(l)-1]), prevOctet(last))
	for len(label) < lim.label && parent.wire()+1+len(label)+1 <= lim.wire {
		label = append(label, 0xff)
	}
	return with(string(label), parent), true
}

// maxDescendant returns the greatest name below n: labels of \255 octets
// as long and as many as the wire limit allows.
func (lim nameLimits) maxDescendant(n dname) dname {
	for {
		room := lim.wire - n.wire()
		if room < 2 {
			return n
		}
		n = with(strings.Repeat("\xff", min(lim.label, room-1)), n)
	}
}

// nextOctet returns the octet after c in canonical order, which has no
// upper-case letters.
func nextOctet(c byte) byte {
	c++
	if c >= 'A' && c <= 'Z' {
		return 'Z' + 1
	}
	return c
}

// prevOctet returns the octet before c in canonical order.
func prevOctet(c byte) byte {
	c--
	if c >= 'A' && c <= 'Z' {
		return 'A' - 1
	}
	return c
}

// equalNames tells whether a and b, in presentation format, are the same
// name: case-insensitively, and octet by octet when either is written with
// escapes (\042 is *, \065 is A).
func equalNames(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	if !strings.Contains(a, `\`) && !strings.Contains(b, `\`) {
		return false
	}
	x, ok1 := parseName(a)
	y, ok2 := parseName(b)
	return ok1 && ok2 && compareNames(x, y) == 0
}
