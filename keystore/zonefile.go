package keystore

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// lineRR is a parsed record with the line it starts on.
type lineRR struct {
	RR   dns.RR
	Line int
}

// lineCounter is an io.ByteReader that counts the newlines read, so that the
// zone parser's position (it reads byte by byte through it) is known after each RR.
type lineCounter struct {
	r     *bytes.Reader
	lines int
}

// ReadByte reads one byte, counting newlines.
func (c *lineCounter) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil && b == '\n' {
		c.lines++
	}
	return b, err
}

// Read reads into p, counting newlines.
func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.lines += bytes.Count(p[:n], []byte{'\n'})
	return n, err
}

// parseRRs parses zone-file text with dns.NewZoneParser (so $ORIGIN, $TTL,
// relative names and parenthesised multi-line records work) and returns each
// record with the line it starts on. Records without a TTL get defTTL.
// $INCLUDE and $GENERATE are not allowed. A record whose RDATA cannot be encoded (a key
// that is not base64, a digest that is not hex) is refused. Errors name the
// file and the line.
func parseRRs(data []byte, file, origin string, defTTL uint32) ([]lineRR, error) {
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		// Up to 65536 records per line: no key file, bundle, KSR or
		// anchor uses it, and it would let a small file take hours.
		if t := strings.TrimSpace(l); len(t) >= 9 && strings.EqualFold(t[:9], "$GENERATE") {
			return nil, fmt.Errorf("keystore: %s:%d: $GENERATE is not allowed here: write the records out", file, i+1)
		}
	}
	lc := &lineCounter{r: bytes.NewReader(data)}
	zp := dns.NewZoneParser(lc, dns.Fqdn(origin), file)
	zp.SetDefaultTTL(defTTL)
	var out []lineRR
	next := 0 // index of the first line not yet attributed to a record
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		start := next
		for start < len(lines) && skippable(lines[start]) {
			start++
		}
		// The zone parser takes some RDATA it cannot encode (a DNSKEY
		// key or DS digest that is not base64 or hex): refuse it here.
		if _, err := dns.PackRR(rr, make([]byte, dns.Len(rr)+512), 0, nil, false); err != nil {
			return nil, fmt.Errorf("keystore: %s:%d: invalid %s record: %w", file, start+1, dns.TypeToString[rr.Header().Rrtype], err)
		}
		if !printableASCII(rr.Header().Name) {
			return nil, fmt.Errorf("keystore: %s:%d: the owner name holds raw octets outside printable ASCII: write them as \\DDD", file, start+1)
		}
		out = append(out, lineRR{RR: rr, Line: start + 1})
		next = lc.lines
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return out, nil
}

// skippable reports whether a zone-file line holds no record: blank, a comment
// or a $ directive.
func skippable(line string) bool {
	t := strings.TrimSpace(line)
	return t == "" || strings.HasPrefix(t, ";") || strings.HasPrefix(t, "$")
}

// printableASCII tells whether s holds printable ASCII only, as every name
// written in presentation format with \DDD escapes does.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
