package timeline

import (
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// simPolicy is the rollover timing of DESIGN.md §3.
type simPolicy struct {
	lifetime, dnskeyTTL, maxZoneTTL, prop, pubSafety, retSafety, validity, refresh time.Duration
}

var defaultSim = simPolicy{30 * 24 * time.Hour, time.Hour, 24 * time.Hour, 5 * time.Minute, time.Hour, time.Hour, 7 * 24 * time.Hour, 24 * time.Hour}

func (p simPolicy) ipub() time.Duration { return p.prop + p.dnskeyTTL + p.pubSafety }
func (p simPolicy) iret() time.Duration { return p.prop + p.maxZoneTTL + p.retSafety }

// chain makes ZSKs that roll every lifetime from start until until, with
// the timers of DESIGN.md §3: Act(N+1) = Act(N) + lifetime, Inactive(N) =
// Act(N+1), Pub(N+1) = Act(N+1) - Ipub, Delete(N) = Inactive(N) + Iret.
func (p simPolicy) chain(g *gen, start, until time.Time) []*keystore.Key {
	var keys []*keystore.Key
	for act := start; act.Before(until); act = act.Add(p.lifetime) {
		pub := act.Add(-p.ipub())
		if act.Equal(start) {
			pub = start
		}
		keys = append(keys, g.key(false, keystore.Timers{Created: pub, Publish: pub, Activate: act,
			Inactive: act.Add(p.lifetime), Delete: act.Add(p.lifetime + p.iret())}))
	}
	return keys
}

func (p simPolicy) timeline(g *gen, zsks []*keystore.Key) *Timeline {
	return mustNew(g.T, Inputs{Zone: g.Zone, ZSKs: zsks, KSKs: []*keystore.Key{g.KSK}, Anchor: g.Anchor(),
		Policy: keystore.Policy{SignatureValidity: p.validity, SignatureRefresh: p.refresh,
			DNSKEYTTL: p.dnskeyTTL, PropagationDelay: p.prop, MaxZoneTTL: p.maxZoneTTL, RetireSafety: p.retSafety}})
}

// simulate walks the timeline from start to end through every instant at
// which the key set may change, plus random instants in between, and checks
// the invariants of DESIGN.md §3 at each. It returns the signing tags seen and
// the instants at which the fallback was in use.
func simulate(t *testing.T, tl *Timeline, p simPolicy, start, end time.Time, rnd *rand.Rand) (tags []uint16, fallback int) {
	t.Helper()
	signedUntil := map[uint16]time.Time{} // last instant each key signed
	firstReady := start.Add(p.dnskeyTTL + p.prop)
	check := func(at time.Time) *KeySet {
		ks, err := tl.At(at)
		if err != nil {
			t.Fatalf("At(%s): %v", at.UTC().Format(time.RFC3339), err)
		}
		in := map[uint16]bool{}
		for _, rr := range ks.DNSKEY {
			in[rr.(*dns.DNSKEY).KeyTag()] = true
		}
		if !in[ks.Tag()] {
			t.Fatalf("%s: ZSK %d signs but is not in the DNSKEY set", at, ks.Tag())
		}
		if pub := ks.ZSK.Timers.Publish; !at.Before(firstReady) && at.Before(pub.Add(p.dnskeyTTL+p.prop)) {
			t.Fatalf("%s: ZSK %d signs %s after its publication, before dnskey-ttl + propagation-delay", at, ks.Tag(), at.Sub(pub))
		}
		for tag, until := range signedUntil {
			if at.Before(until.Add(p.maxZoneTTL+p.prop)) && !in[tag] {
				t.Fatalf("%s: ZSK %d signed until %s, its signatures may be cached, but it is gone from the DNSKEY set", at, tag, until)
			}
		}
		for _, sig := range ks.DNSKEYSigs {
			exp := keystore.SigTime(sig.(*dns.RRSIG).Expiration, at)
			if exp.Before(ks.Until.Add(p.dnskeyTTL)) && !exp.Equal(ks.Until) { // not the bundle's very end
				t.Fatalf("%s: DNSKEY RRSIG expires %s, before the set's end %s + dnskey-ttl", at, exp, ks.Until)
			}
		}
		return ks
	}
	for at := start; at.Before(end); {
		ks := check(at)
		if !ks.Until.After(at) {
			t.Fatalf("%s: key set ends at %s, not after", at, ks.Until)
		}
		if len(tags) == 0 || tags[len(tags)-1] != ks.Tag() {
			tags = append(tags, ks.Tag())
		}
		if ks.Fallback {
			fallback++
		}
		// A random instant inside this stretch must give the same signer.
		if span := ks.Until.Sub(at); span > time.Second && ks.Until.Before(end) {
			mid := at.Add(time.Duration(rnd.Int63n(int64(span))))
			if got := check(mid); got.ZSK != ks.ZSK {
				t.Fatalf("%s: signer %d inside a stretch that started with %d at %s", mid, got.Tag(), ks.Tag(), at)
			}
		}
		if ks.Until.After(signedUntil[ks.Tag()]) {
			signedUntil[ks.Tag()] = ks.Until
		}
		at = ks.Until
	}
	return tags, fallback
}

func TestSimulateTenYearsDefault(t *testing.T) {
	g := newGen(t, "sim.example.")
	start := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(10, 0, 0)
	tl := defaultSim.timeline(g, defaultSim.chain(g, start, end.Add(defaultSim.lifetime)))
	tags, fallback := simulate(t, tl, defaultSim, start, end, rand.New(rand.NewSource(1)))
	if want := int(end.Sub(start) / defaultSim.lifetime); len(tags) < want {
		t.Errorf("%d signing keys in ten years, want at least %d", len(tags), want)
	}
	if fallback != 0 {
		t.Errorf("fallback used %d times with a complete key chain", fallback)
	}
}

func TestSimulateRandomPolicies(t *testing.T) {
	rnd := rand.New(rand.NewSource(7))
	for i := range 4 {
		p := simPolicy{
			lifetime:   time.Duration(7+rnd.Intn(80)) * 24 * time.Hour,
			dnskeyTTL:  time.Duration(60+rnd.Intn(86400)) * time.Second,
			maxZoneTTL: time.Duration(60+rnd.Intn(2*86400)) * time.Second,
			prop:       time.Duration(rnd.Intn(3600)) * time.Second,
			pubSafety:  time.Duration(rnd.Intn(7200)) * time.Second,
			retSafety:  time.Duration(rnd.Intn(7200)) * time.Second,
			refresh:    time.Duration(12+rnd.Intn(36)) * time.Hour,
		}
		p.validity = p.refresh + p.dnskeyTTL + p.maxZoneTTL + time.Duration(1+rnd.Intn(10))*24*time.Hour
		g := newGen(t, "rnd.example.")
		start := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
		end := start.AddDate(10, 0, 0)
		tl := p.timeline(g, p.chain(g, start, end.Add(p.lifetime)))
		tags, fallback := simulate(t, tl, p, start, end, rnd)
		if fallback != 0 || len(tags) < int(end.Sub(start)/p.lifetime) {
			t.Errorf("policy %d %+v: %d keys, fallback %d", i, p, len(tags), fallback)
		}
	}
}

// TestSimulateMissingSuccessors: keys 5-7 of the chain were never made.
// The key before them keeps signing (fallback), stays published, and the
// chain resumes with key 8 once it is ready.
func TestSimulateMissingSuccessors(t *testing.T) {
	g := newGen(t, "gap.example.")
	start := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(2, 0, 0)
	chain := defaultSim.chain(g, start, end.Add(defaultSim.lifetime))
	keys := slices.Concat(chain[:5], chain[8:])
	tags, fallback := simulate(t, defaultSim.timeline(g, keys), defaultSim, start, end, rand.New(rand.NewSource(2)))
	if fallback == 0 {
		t.Error("no fallback although three successors are missing")
	}
	if !slices.Contains(tags, chain[4].Tag()) || !slices.Contains(tags, chain[8].Tag()) {
		t.Errorf("signers %v: want key 5 (%d) then key 9 (%d)", tags, chain[4].Tag(), chain[8].Tag())
	}
}

// TestSimulateKeyDeleted: the signing key's files vanish mid-life. With
// the next key already published long enough, it takes over at once;
// before that, the previous key signs again (fallback) rather than nothing.
func TestSimulateKeyDeleted(t *testing.T) {
	g := newGen(t, "del.example.")
	start := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	chain := defaultSim.chain(g, start, start.AddDate(1, 0, 0))
	at := chain[4].Timers.Activate.Add(-30 * time.Minute) // key 4 signs, key 5 is published and propagated
	ks, err := defaultSim.timeline(g, chain).At(at)
	if err != nil || ks.ZSK != chain[3] {
		t.Fatalf("before: %v %v", ks, err)
	}
	gone := slices.Delete(slices.Clone(chain), 3, 4)
	ks, err = defaultSim.timeline(g, gone).At(at)
	if err != nil {
		t.Fatalf("after deleting the signing key: %v", err)
	}
	if ks.ZSK != chain[4] || ks.Fallback {
		t.Errorf("at %s signs with %d (fallback %v), want the published successor %d", at, ks.Tag(), ks.Fallback, chain[4].Tag())
	}
	early := chain[3].Timers.Activate.Add(10 * 24 * time.Hour) // key 5 not published yet
	ks, err = defaultSim.timeline(g, gone).At(early)
	if err != nil || ks.ZSK != chain[2] || !ks.Fallback {
		t.Errorf("at %s: want key 3 (%d) as fallback, got %v %v", early, chain[2].Tag(), ks, err)
	}
}

// TestSimulateBundleRunsOut: an offline bundle covering a year; past its
// end there is no valid key set, and the error says so.
func TestSimulateBundleRunsOut(t *testing.T) {
	g := newGen(t, "out.example.")
	start := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	chain := defaultSim.chain(g, start, start.AddDate(2, 0, 0))
	slot := g.slot(start.Add(-time.Hour), start.AddDate(1, 0, 0), chain...)
	tl := g.timeline(chain, slot)
	simulate(t, tl, defaultSim, start, start.AddDate(1, 0, 0).Add(-time.Second), rand.New(rand.NewSource(3)))
	if _, err := tl.At(start.AddDate(1, 0, 0).Add(time.Second)); err == nil {
		t.Fatal("a key set after the bundle ran out")
	}
}
