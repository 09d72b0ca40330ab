package test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
)

// TestEndToEndMultiSigner runs two livesign servers as the two providers of
// a multi-signer zone (RFC 8901 model 2), each with its own KSK and ZSK:
// provider A with an offline KSK (plan -foreign and sign-ksr -foreign put
// B's ZSK and KSK in A's SKR), provider B with an online KSK and
// foreign-keys holding A's public keys. Each DNSKEY set holds both
// providers' ZSKs, each CDS set both KSKs; delv validates each provider
// with its own DS and with both; and an answer from B validates against
// the DNSKEY set from A, as a resolver that mixes the two providers sees it.
func TestEndToEndMultiSigner(t *testing.T) {
	t.Parallel()
	bin, dir := livesignCLI(t), t.TempDir()
	mkdir := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// copyKeys copies the public .key files of from into to.
	copyKeys := func(from, to string) {
		names, _ := filepath.Glob(filepath.Join(from, "*.key"))
		if len(names) == 0 {
			t.Fatalf("no .key files in %s", from)
		}
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(to, filepath.Base(n)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	foreignA, foreignB := mkdir("foreign-a"), mkdir("foreign-b")

	// Provider B: an online KSK and a ZSK.
	run(t, dir, bin, "keygen", "-zone", "example.net", "-ksk", "-dir", "ksk-b")
	run(t, dir, bin, "keygen", "-zone", "example.net", "-zsk", "-dir", "keys-b")
	copyKeys(filepath.Join(dir, "ksk-b"), foreignA)
	copyKeys(filepath.Join(dir, "keys-b"), foreignA)

	// Provider A: ZSKs planned with B's ZSK in every KSR slot, the offline
	// KSK adding B's KSK to each slot and its CDS.
	run(t, dir, bin, "keygen", "-zone", "example.net", "-ksk", "-publish", "-1h", "-activate", "-1h", "-dir", "ksk-a")
	run(t, dir, bin, "plan", "-zone", "example.net", "-keys", "keys-a", "-until", "+30d", "-out", "a.ksr", "-foreign", foreignA)
	run(t, dir, bin, "sign-ksr", "-ksk", "ksk-a", "-ksr", "a.ksr", "-out", "a.skr", "-foreign", foreignA)
	copyKeys(filepath.Join(dir, "ksk-a"), foreignB)
	copyKeys(filepath.Join(dir, "keys-a"), foreignB)

	// check -foreign notes a key of the other provider that the SKR lacks.
	if out := run(t, dir, bin, "check", "-keys", "keys-a", "-bundle", "a.skr", "-foreign", foreignA); strings.Contains(out, "foreign-keys") {
		t.Errorf("check -foreign with every foreign key in the SKR notes one:\n%s", out)
	}
	run(t, dir, bin, "keygen", "-zone", "example.net", "-zsk", "-dir", "later-b")
	if out := run(t, dir, bin, "check", "-keys", "keys-a", "-bundle", "a.skr", "-foreign", "later-b"); !strings.Contains(out, "(foreign-keys) is not in") {
		t.Errorf("check -foreign with a ZSK the SKR lacks: no note:\n%s", out)
	}

	kskA, _ := filepath.Glob(filepath.Join(dir, "ksk-a", "*.key"))
	kskB, _ := filepath.Glob(filepath.Join(dir, "ksk-b", "*.key"))
	dsA, dsB := run(t, dir, bin, "ds", kskA[0]), run(t, dir, bin, "ds", kskB[0])
	both := dsA + "\n" + dsB

	serverA := startServer(t, "example.net", keyFiles{keys: filepath.Join(dir, "keys-a"), bundle: filepath.Join(dir, "a.skr"), anchor: both},
		"", "foreign-keys "+foreignA)
	serverB := startServer(t, "example.net", keyFiles{keys: filepath.Join(dir, "keys-b"), anchor: both},
		"", "ksk "+filepath.Join(dir, "ksk-b")+"\n        foreign-keys "+foreignB)

	tags := func(dir string) []uint16 {
		names, _ := filepath.Glob(filepath.Join(dir, "*.key"))
		var out []uint16
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(b), "\n") {
				if rr, err := dns.NewRR(line); err == nil && rr != nil {
					out = append(out, rr.(*dns.DNSKEY).KeyTag())
				}
			}
		}
		return out
	}
	// Both sets hold both KSKs, B's ZSK and the ZSK that signs at A (A's
	// keys directory also holds its planned successor, unpublished yet at
	// A; B publishes it early, which does no harm).
	ksks := append(tags(filepath.Join(dir, "ksk-a")), tags(filepath.Join(dir, "ksk-b"))...)
	slices.Sort(ksks)
	want := append(slices.Clone(ksks), tags(filepath.Join(dir, "keys-b"))...)
	for _, rr := range query(t, serverA, "www.example.net.", dns.TypeA).Answer {
		if s, ok := rr.(*dns.RRSIG); ok {
			want = append(want, s.KeyTag)
		}
	}

	sets := map[string]*dns.Msg{}
	for name, server := range map[string]string{"A": serverA, "B": serverB} {
		keys := query(t, server, "example.net.", dns.TypeDNSKEY)
		sets[name] = keys
		var got []uint16
		for _, rr := range keys.Answer {
			if k, ok := rr.(*dns.DNSKEY); ok {
				got = append(got, k.KeyTag())
			}
		}
		for _, tag := range want {
			if !slices.Contains(got, tag) {
				t.Errorf("provider %s: DNSKEY tags %v lack %d: want both KSKs and both providers' signing ZSKs %v", name, got, tag, want)
			}
		}
		var cds []uint16
		for _, rr := range query(t, server, "example.net.", dns.TypeCDS).Answer {
			if c, ok := rr.(*dns.CDS); ok {
				cds = append(cds, c.KeyTag)
			}
		}
		slices.Sort(cds)
		if !slices.Equal(cds, ksks) {
			t.Errorf("provider %s: CDS key tags %v, want both KSKs %v", name, cds, ksks)
		}
		for anchorName, anchor := range map[string]string{"its own DS": map[string]string{"A": dsA, "B": dsB}[name], "both DS": both} {
			for _, q := range []struct {
				name  string
				qtype uint16
			}{{"www.example.net.", dns.TypeA}, {"nonexistent.example.net.", dns.TypeA}, {"example.net.", dns.TypeCDS}} {
				if ok, out := validators.Delv(t, server, "example.net.", anchor, q.name, q.qtype); !ok {
					t.Errorf("provider %s, anchored at %s: delv %s %s does not validate:\n%s", name, anchorName, q.name, dns.TypeToString[q.qtype], out)
				}
			}
		}
	}

	// A resolver that got the DNSKEY set from A and the answer from B (or
	// the other way round) validates it: each set holds the other's ZSK.
	for _, c := range []struct{ keysFrom, answerFrom, server string }{{"A", "B", serverB}, {"B", "A", serverA}} {
		r := query(t, c.server, "www.example.net.", dns.TypeA)
		var rrset []dns.RR
		var sig *dns.RRSIG
		for _, rr := range r.Answer {
			if s, ok := rr.(*dns.RRSIG); ok {
				sig = s
			} else {
				rrset = append(rrset, rr)
			}
		}
		if sig == nil || len(rrset) == 0 {
			t.Fatalf("provider %s: www A answer without RRset or RRSIG: %v", c.answerFrom, r)
		}
		verified := false
		for _, rr := range sets[c.keysFrom].Answer {
			if k, ok := rr.(*dns.DNSKEY); ok && k.KeyTag() == sig.KeyTag && sig.Verify(k, rrset) == nil {
				verified = true
			}
		}
		if !verified {
			t.Errorf("www A from provider %s (RRSIG by key %d) does not verify with the DNSKEY set from provider %s", c.answerFrom, sig.KeyTag, c.keysFrom)
		}
	}
}
