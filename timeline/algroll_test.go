package timeline

import (
	"slices"
	"testing"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// TestOnlineAlgorithmRoll runs an online-KSK algorithm roll from
// ECDSAP256SHA256 to ED25519 the way auto-plan drives it (DecideChains,
// PlanChains) and checks the timeline minute by minute against RFC 6781
// §4.1.4: an algorithm's DNSKEYs are served only after it has signed every
// RRset for PreSign; once its DNSKEYs are gone it signs dnskey-ttl +
// propagation-delay longer; every algorithm of the served set signs (RFC
// 4035 §2.2); both KSKs sign the set and the CDS names the new KSK while
// both algorithms are in it.
func TestOnlineAlgorithmRoll(t *testing.T) {
	const zone = "roll.example."
	p := keystore.DefaultPolicy()
	p.ZSKLifetime = 10 * 24 * time.Hour
	keys, kskDir := t.TempDir(), t.TempDir()
	start := testNow
	kskA, err := keystore.GenerateKey(zone, dns.ECDSAP256SHA256, true, start.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	write := func(k *keystore.Key) {
		t.Helper()
		if _, err := keystore.WriteKey(kskDir, k); err != nil {
			t.Fatal(err)
		}
	}
	write(kskA)
	plan := func(now time.Time, want uint8, ksks []*keystore.Key) {
		t.Helper()
		zsks, err := keystore.ReadKeys(keys, keystore.Selection{Zone: zone, Role: keystore.ZSKRole})
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := keystore.DecideChains(keystore.ChainInputs{Zone: zone, Want: want, KSKs: ksks, Online: true, ZSKs: zsks}, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := keystore.PlanChains(keys, zone, c, p, now, now.Add(60*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	plan(start, 0, []*keystore.Key{kskA})

	// Day 5: a KSK of the new algorithm and the algorithm directive.
	rollAt := start.Add(5 * 24 * time.Hour)
	kskB, err := keystore.GenerateKey(zone, dns.ED25519, true, rollAt)
	if err != nil {
		t.Fatal(err)
	}
	write(kskB)
	plan(rollAt, dns.ED25519, []*keystore.Key{kskA, kskB})
	// Day 20: the parent has the new DS; the old KSK gets Inactive and
	// Delete timers a day later.
	retireAt := start.Add(21 * 24 * time.Hour)
	kskA.Timers.Inactive, kskA.Timers.Delete = retireAt, retireAt
	write(kskA)
	plan(start.Add(20*24*time.Hour), dns.ED25519, []*keystore.Key{kskA, kskB})

	zsks, err := keystore.ReadKeys(keys, keystore.Selection{Zone: zone, Role: keystore.ZSKRole, Private: keystore.PrivateRequired})
	if err != nil {
		t.Fatal(err)
	}
	tl, err := New(Inputs{Zone: zone, ZSKs: zsks, KSKs: []*keystore.Key{kskA, kskB}, Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	signingSince := map[uint8]time.Time{} // since when each algorithm signs without a break
	servedUntil := map[uint8]time.Time{}  // the last instant each algorithm's DNSKEYs were served
	var both, onlyB bool
	for at := start; at.Before(start.Add(40 * 24 * time.Hour)); at = at.Add(10 * time.Minute) {
		ks, err := tl.At(at)
		if err != nil {
			t.Fatalf("%s: %v", Stamp(at), err)
		}
		signs := map[uint8]bool{}
		for _, z := range ks.ZSKs {
			signs[z.DNSKEY.Algorithm] = true
		}
		for _, a := range []uint8{dns.ECDSAP256SHA256, dns.ED25519} {
			if !signs[a] {
				delete(signingSince, a)
				if u, ok := servedUntil[a]; ok && at.Before(u.Add(p.DNSKEYTTL+p.PropagationDelay)) {
					t.Fatalf("%s: algorithm %d stopped signing %s after its DNSKEYs left the set, want at least %s", Stamp(at), a, at.Sub(u), p.DNSKEYTTL+p.PropagationDelay)
				}
			} else if _, ok := signingSince[a]; !ok {
				signingSince[a] = at
			}
		}
		served := map[uint8]bool{}
		for _, rr := range ks.DNSKEY {
			a := rr.(*dns.DNSKEY).Algorithm
			served[a] = true
			servedUntil[a] = at
			if !signs[a] {
				t.Fatalf("%s: algorithm %d in the DNSKEY set but not signing (RFC 4035 §2.2)", Stamp(at), a)
			}
			if since := signingSince[a]; at != start && at.Sub(since) < p.PreSign() && since != start {
				t.Fatalf("%s: algorithm %d served after signing only %s, want PreSign %s", Stamp(at), a, at.Sub(since), p.PreSign())
			}
		}
		sigAlgs := map[uint8]bool{}
		for _, s := range ks.DNSKEYSigs {
			sigAlgs[s.(*dns.RRSIG).Algorithm] = true
		}
		for a := range served {
			if !sigAlgs[a] {
				t.Fatalf("%s: no RRSIG of algorithm %d over the DNSKEY set", Stamp(at), a)
			}
		}
		var cds []uint16
		for _, rr := range ks.CDS {
			cds = append(cds, rr.(*dns.CDS).KeyTag)
		}
		if served[dns.ED25519] != slices.Contains(cds, kskB.Tag()) {
			t.Fatalf("%s: CDS %v, ED25519 served %v", Stamp(at), cds, served[dns.ED25519])
		}
		both = both || (served[dns.ECDSAP256SHA256] && served[dns.ED25519])
		onlyB = onlyB || (both && served[dns.ED25519] && !served[dns.ECDSAP256SHA256] && !signs[dns.ECDSAP256SHA256])
		if at.After(retireAt) && served[dns.ECDSAP256SHA256] {
			t.Fatalf("%s: the old algorithm served after its KSK's Delete %s", Stamp(at), Stamp(retireAt))
		}
	}
	if !both || !onlyB {
		t.Errorf("the roll did not go through: both algorithms served %v, new alone after %v", both, onlyB)
	}
}
