package test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
	"github.com/livesign/livesign/keystore"
)

// TestEndToEndAlgorithmRollOnlineKSK rolls a zone from ECDSAP256SHA256 to
// ED25519 in real time (intervals in seconds) with an online KSK, as an
// operator does it: a KSK of the new algorithm in the ksk directory and
// 'algorithm ED25519' start the roll; validating, caching unbounds see every
// answer secure throughout: one anchored at the old DS until the parent's DS
// changes, one at the new DS after; giving the old KSK Inactive and Delete
// timers ends it.
func TestEndToEndAlgorithmRollOnlineKSK(t *testing.T) {
	t.Parallel()
	bin, dir := livesignCLI(t), t.TempDir()
	run(t, dir, bin, "keygen", "-zone", "example.net", "-ksk", "-algorithm", "ECDSAP256SHA256", "-dir", "ksk")
	oldKSK, _ := filepath.Glob(filepath.Join(dir, "ksk", "*+013+*.key"))
	anchorOld := run(t, dir, bin, "ds", oldKSK[0])
	// The zone's ECDSA ZSKs, as auto-plan made them before the roll.
	run(t, dir, bin, "plan", "-zone", "example.net", "-keys", "keys", "-until", "+5m", "-out", "old.ksr", "-algorithm", "ECDSAP256SHA256",
		"-zsk-lifetime", "12s", "-dnskey-ttl", "2s", "-max-zone-ttl", "2s", "-propagation-delay", "1s",
		"-publish-safety", "1s", "-retire-safety", "1s", "-signature-validity", "10m", "-signature-refresh", "2m")
	run(t, dir, bin, "keygen", "-zone", "example.net", "-ksk", "-algorithm", "ED25519", "-dir", "ksk")
	newKSK, _ := filepath.Glob(filepath.Join(dir, "ksk", "*+015+*.key"))
	anchorNew := run(t, dir, bin, "ds", newKSK[0])

	// The operator lists the new DS in trust-anchor when it goes to the
	// parent: once the old KSK is gone, the new one alone signs the DNSKEY
	// set, and livesign refuses a set no anchored KSK signs.
	kf := keyFiles{keys: filepath.Join(dir, "keys"), anchor: anchorOld + "\n" + anchorNew, db: shortTTLZone(t)}
	block := strings.Join(append([]string{"ksk " + filepath.Join(dir, "ksk"), "auto-plan 5m", "algorithm ED25519"}, rollTiming...), "\n        ")
	server := startServer(t, "example.net", kf, "", block)
	old := validators.StartUnbound(t, "example.net.", server, anchorOld)
	watchRolls(t, old, server, 12*time.Second) // the new algorithm signs 4 s (PreSign), then is published
	keys, sigs, cds := apexAlgorithms(t, server)
	if !slices.Equal(keys, []uint8{dns.ECDSAP256SHA256, dns.ED25519}) || !slices.Equal(sigs, keys) {
		t.Fatalf("during the roll: DNSKEY algorithms %v, RRSIG algorithms over www A %v: want both", keys, sigs)
	}
	if !slices.Contains(cds, dns.ED25519) {
		t.Errorf("during the roll: CDS algorithms %v lack the new KSK's", cds)
	}

	// The parent now publishes the new DS: a resolver that fetches it
	// validates through the new KSK; one with the old DS cached still does.
	fresh := validators.StartUnbound(t, "example.net.", server, anchorNew)
	watchRolls(t, fresh, server, 4*time.Second)
	watchRolls(t, old, server, 2*time.Second)

	// The old DS has left the caches: the old KSK goes in 3 s.
	k, err := keystore.ReadKey(strings.TrimSuffix(oldKSK[0], ".key"))
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(3 * time.Second).UTC().Truncate(time.Second)
	k.Timers.Inactive, k.Timers.Delete = end, end
	if _, err := keystore.WriteKey(filepath.Join(dir, "ksk"), k); err != nil {
		t.Fatal(err)
	}
	watchRolls(t, fresh, server, 12*time.Second)
	keys, sigs, cds = apexAlgorithms(t, server)
	if !slices.Equal(keys, []uint8{dns.ED25519}) || !slices.Contains(sigs, dns.ED25519) || !slices.Equal(cds, []uint8{dns.ED25519}) {
		t.Errorf("after the roll: DNSKEY algorithms %v, RRSIG algorithms over www A %v, CDS algorithms %v: want ED25519 alone", keys, sigs, cds)
	}
}

// apexAlgorithms asks server for the DNSKEY and CDS sets and www's A RRset
// and returns the sorted algorithms of the DNSKEYs, of the RRSIGs over
// www A, and of the CDS records.
func apexAlgorithms(t *testing.T, server string) (keys, sigs, cds []uint8) {
	t.Helper()
	add := func(s []uint8, a uint8) []uint8 {
		if !slices.Contains(s, a) {
			s = append(s, a)
			slices.Sort(s)
		}
		return s
	}
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"example.net.", dns.TypeDNSKEY}, {"www.example.net.", dns.TypeA}, {"example.net.", dns.TypeCDS}} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		m.SetEdns0(4096, true)
		r, err := dns.Exchange(m, server)
		if err != nil {
			t.Fatal(err)
		}
		for _, rr := range r.Answer {
			switch rr := rr.(type) {
			case *dns.DNSKEY:
				keys = add(keys, rr.Algorithm)
			case *dns.CDS:
				cds = add(cds, rr.Algorithm)
			case *dns.RRSIG:
				if rr.TypeCovered == dns.TypeA {
					sigs = add(sigs, rr.Algorithm)
				}
			}
		}
	}
	return keys, sigs, cds
}
