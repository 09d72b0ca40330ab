package livesign

import (
	"fmt"
	"testing"

	"github.com/coredns/coredns/plugin/test"
	"github.com/coredns/coredns/request"
	"github.com/miekg/dns"
)

// TestTruncate checks the size test against the compressed length: a reply
// that fits only compressed goes out whole, one that does not fit even
// compressed loses every RRset and gets TC.
func TestTruncate(t *testing.T) {
	reply := func(n int) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("a-long-owner-name-that-compresses-well.example.net.", dns.TypeA)
		m.SetEdns0(1232, true)
		for i := range n {
			rr, err := dns.NewRR(fmt.Sprintf("a-long-owner-name-that-compresses-well.example.net. 300 IN A 192.0.2.%d", i))
			if err != nil {
				t.Fatal(err)
			}
			m.Answer = append(m.Answer, rr)
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		rrs   int
		trunc bool
	}{
		{"fits uncompressed", 5, false},
		{"fits only compressed", 40, false},
		{"fits not even compressed", 120, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := new(dns.Msg)
			q.SetQuestion("a-long-owner-name-that-compresses-well.example.net.", dns.TypeA)
			q.SetEdns0(1232, true)
			state := request.Request{W: &test.ResponseWriter{}, Req: q}
			m := reply(tc.rrs)
			plain := m.Copy()
			plain.Compress = false
			compressed := m.Copy()
			compressed.Compress = true
			if tc.name == "fits only compressed" && (plain.Len() <= 1232 || compressed.Len() > 1232) {
				t.Fatalf("bad case: %d bytes plain, %d compressed", plain.Len(), compressed.Len())
			}
			truncate(state, m)
			if m.Truncated != tc.trunc {
				t.Fatalf("TC = %v, want %v (%d bytes compressed)", m.Truncated, tc.trunc, compressed.Len())
			}
			want := tc.rrs
			if tc.trunc {
				want = 0
			}
			if len(m.Answer) != want {
				t.Errorf("%d answers left, want %d", len(m.Answer), want)
			}
			if !m.Compress {
				t.Error("reply left uncompressed")
			}
		})
	}
}
