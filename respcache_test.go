package livesign

import (
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/test"
	"github.com/coredns/coredns/request"
	"github.com/livesign/livesign/timeline"
	"github.com/miekg/dns"
)

func responseHitCount(zone string) float64 {
	return counterValue(responseHits.WithLabelValues("", zone))
}

// TestResponseCache: a repeated DO query is answered from the cache of
// signed answers, with the client's ID, question case and OPT; answers for
// names that do not exist are not kept.
func TestResponseCache(t *testing.T) {
	l := newTestPlugin(t)
	z := l.zones[0]
	ks, _ := z.Keys(testNow)
	first := query(t, l, "www.example.net.", dns.TypeA, queryOpt{do: true})
	hits := responseHitCount(z.Name)
	second := query(t, l, "WWW.Example.NET.", dns.TypeA, queryOpt{do: true, size: 1232})
	if responseHitCount(z.Name) != hits+1 {
		t.Fatal("the repeated query did not come from the response cache")
	}
	if !second.RecursionDesired || second.CheckingDisabled {
		t.Errorf("RD %v CD %v: want the flags of this query", second.RecursionDesired, second.CheckingDisabled)
	}
	if second.Question[0].Name != "WWW.Example.NET." {
		t.Errorf("question %q: want the client's case", second.Question[0].Name)
	}
	if o := second.IsEdns0(); o == nil || o.UDPSize() != 1232 || !o.Do() {
		t.Errorf("OPT %v: want this client's size and DO", o)
	}
	verifySections(t, second, "example.net.", ks.DNSKEY)
	if len(second.Answer) != len(first.Answer) || second.Answer[0].String() != first.Answer[0].String() {
		t.Errorf("cached answer differs:\n%s\n%s", first, second)
	}
	// The cached copy is not the one handed out.
	second.Answer[0].Header().Ttl = 1
	third := query(t, l, "www.example.net.", dns.TypeA, queryOpt{do: true})
	if third.Answer[0].Header().Ttl != first.Answer[0].Header().Ttl {
		t.Errorf("a change to an answer handed out reached the cache")
	}

	hits = responseHitCount(z.Name)
	query(t, l, "nope.example.net.", dns.TypeA, queryOpt{do: true})
	query(t, l, "nope.example.net.", dns.TypeA, queryOpt{do: true})
	if responseHitCount(z.Name) != hits {
		t.Errorf("an NXDOMAIN answer was kept in the response cache")
	}

	// Another key set (a switch or a reload) does not see old entries.
	z.current.Store(&timeline.KeySet{DNSKEY: ks.DNSKEY, DNSKEYSigs: ks.DNSKEYSigs, ZSK: ks.ZSK, From: ks.From, Until: ks.Until})
	hits = responseHitCount(z.Name)
	query(t, l, "www.example.net.", dns.TypeA, queryOpt{do: true})
	if responseHitCount(z.Name) != hits {
		t.Errorf("an answer signed under another key set came from the cache")
	}
}

// TestResponseCacheWindow: a cached answer is not served past the end of
// its signature validity window, so every replica moves to the new window's
// RRSIGs at the same instant.
func TestResponseCacheWindow(t *testing.T) {
	rc := newRespCache(16, time.Minute)
	ks := &timeline.KeySet{Until: testNow.Add(time.Hour)}
	m := new(dns.Msg)
	m.SetQuestion("www.example.net.", dns.TypeA)
	m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "www.example.net.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: []byte{192, 0, 2, 1}}}
	r := new(dns.Msg)
	r.SetQuestion("www.example.net.", dns.TypeA)
	r.SetEdns0(1232, true)
	state := request.Request{Req: r, W: &test.ResponseWriter{}}
	window := testNow.Add(10 * time.Second)
	rc.put("k", ks, m, false, testNow, window)
	tests := []struct {
		at   time.Time
		want bool
	}{
		{testNow.Add(9 * time.Second), true},
		{window, false},
		{testNow.Add(30 * time.Second), false},
	}
	for _, tc := range tests {
		m, known := rc.get("k", ks, state, false, tc.at)
		if got := m != nil; got != tc.want {
			t.Errorf("at window%+v: cached %v, want %v", tc.at.Sub(window), got, tc.want)
		}
		if !known {
			t.Errorf("at window%+v: the name is not known, though the cache holds an answer for it", tc.at.Sub(window))
		}
	}
	if m, known := rc.get("other", ks, state, false, testNow); m != nil || known {
		t.Errorf("a key never put: answer %v, known %v; want neither", m != nil, known)
	}
	if m, known := rc.get("k", &timeline.KeySet{}, state, false, testNow); m != nil || !known {
		t.Errorf("under another key set: answer %v, known %v; want no answer, known", m != nil, known)
	}
}
