package livesign

import (
	"strings"
	"time"

	"github.com/coredns/coredns/plugin/pkg/cache"
	"github.com/coredns/coredns/request"
	"github.com/livesign/livesign/timeline"
	"github.com/miekg/dns"
)

// respCache keeps whole signed answers, so that a repeated query skips the
// backend, the RRset grouping and the signature cache: the warm path of an
// online signer. An entry is tied to the key set it was signed under (a
// key switch or a reload starts afresh) and lives for the smallest TTL in
// it, at most maxAge. Answers for names that do not exist are not kept: a
// flood of random names must not evict the answers real clients ask for.
type respCache struct {
	c      *cache.Cache[*respEntry]
	maxAge time.Duration
}

type respEntry struct {
	key     string
	keys    *timeline.KeySet
	msg     *dns.Msg
	expires time.Time
}

func newRespCache(size int, maxAge time.Duration) *respCache {
	if size <= 0 {
		return nil
	}
	return &respCache{c: cache.New[*respEntry](size), maxAge: maxAge}
}

// cacheable tells whether the answer to the query in state may come from,
// and go to, the cache: not when it carries an EDNS Client Subnet (the
// answer may be for that client only).
func cacheable(state request.Request) bool {
	if o := state.Req.IsEdns0(); o != nil {
		for _, opt := range o.Option {
			if opt.Option() == dns.EDNS0SUBNET {
				return false
			}
		}
	}
	return true
}

// maxCachedSize bounds the size of one cached answer, and so the memory of
// the cache: about size entries of at most 4 KB.
const maxCachedSize = 4096

// respKey identifies a query for the cache: name (lower case), type,
// class and the CO flag; only DO queries are cached.
func respKey(state request.Request, co bool) string {
	var b strings.Builder
	b.Grow(len(state.Name()) + 6)
	b.WriteString(state.Name())
	t, c := state.QType(), state.QClass()
	b.Write([]byte{0, byte(t >> 8), byte(t), byte(c >> 8), byte(c)})
	if co {
		b.WriteByte(1)
	}
	return b.String()
}

// get returns a copy of the cached answer for key signed under ks, made the
// reply to the query in state (ID, question, OPT), or nil. known tells
// whether the cache holds an answer for key at all, expired or signed
// under another key set: a name of the zone asked before.
func (rc *respCache) get(key string, ks *timeline.KeySet, state request.Request, co bool, now time.Time) (m *dns.Msg, known bool) {
	if rc == nil || key == "" {
		return nil, false
	}
	e, ok := rc.c.Get(hashString(key))
	if !ok || e.key != key {
		return nil, false
	}
	if e.keys != ks || !now.Before(e.expires) {
		return nil, true
	}
	m = e.msg.Copy() // plugins in front may change what they are given
	m.Id = state.Req.Id
	m.Opcode = state.Req.Opcode
	m.RecursionDesired = state.Req.RecursionDesired
	m.CheckingDisabled = state.Req.CheckingDisabled
	m.Question = state.Req.Question // the client's case (0x20)
	setOPT(state, m, co)
	return m, true
}

func withoutOPT(rrs []dns.RR) []dns.RR {
	out := rrs[:0]
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr)
		}
	}
	return out
}

// put keeps a copy of m, the signed answer to key under ks, unless it
// denies a name or is an error, at most until window, when the signature
// validity window changes: replicas then all serve the new window's RRSIGs.
func (rc *respCache) put(key string, ks *timeline.KeySet, m *dns.Msg, nameError bool, now, window time.Time) {
	if rc == nil || key == "" || nameError || m.Truncated || (m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError) || m.Len() > maxCachedSize {
		return
	}
	ttl := rc.maxAge
	for _, sec := range [][]dns.RR{m.Answer, m.Ns} {
		for _, rr := range sec {
			if d := time.Duration(rr.Header().Ttl) * time.Second; d < ttl {
				ttl = d
			}
		}
	}
	for _, until := range []time.Time{ks.Until, window} {
		if d := until.Sub(now); d < ttl {
			ttl = d
		}
	}
	if ttl <= 0 {
		return
	}
	c := m.Copy()
	c.Extra = withoutOPT(c.Extra)
	rc.c.Add(hashString(key), &respEntry{key: key, keys: ks, msg: c, expires: now.Add(ttl)})
}
