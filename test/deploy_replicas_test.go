package test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// sigText is an RRSIG's RDATA, signature included: ECDSA signatures are deterministic
// (RFC 6979), so replicas sharing a key make the same bytes.
func sigText(s *dns.RRSIG) string {
	return fmt.Sprintf("%s %d %d %d %d %d %d %s %s", dns.TypeToString[s.TypeCovered], s.Algorithm, s.Labels, s.OrigTtl,
		s.KeyTag, s.Inception, s.Expiration, s.SignerName, s.Signature)
}

// processView is what one replica serves at a sampled instant.
type processView struct {
	dnskeys []string // DNSKEY RRs, sorted
	sigs    []string // RRSIGs over www A, the apex MX and DNSKEY
	zsk     uint16   // the key tag signing www A
}

func sampleProcess(server string) (processView, error) {
	var v processView
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"example.net.", dns.TypeDNSKEY}, {"www.example.net.", dns.TypeA}, {"example.net.", dns.TypeMX}} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		m.SetEdns0(1232, true)
		r, err := dns.Exchange(m, server)
		if err != nil {
			return v, err
		}
		found := false
		for _, rr := range r.Answer {
			switch rr := rr.(type) {
			case *dns.DNSKEY:
				v.dnskeys = append(v.dnskeys, rr.String())
			case *dns.RRSIG:
				v.sigs = append(v.sigs, sigText(rr))
				found = true
				if rr.TypeCovered == dns.TypeA {
					v.zsk = rr.KeyTag
				}
			}
		}
		if !found {
			return v, fmt.Errorf("%s %s: no RRSIG in %v", q.name, dns.TypeToString[q.qtype], r)
		}
	}
	slices.Sort(v.dnskeys)
	return v, nil
}

// TestDeployReplicasAgree runs three CoreDNS processes (the static cmd/coredns binary, as in
// the image) on three loopback ports, sharing one keys directory and one SKR from livesign plan
// + sign-ksr with ZSKs rolling every 12 s. At every sampled instant over 32 s (two rolls and
// more) they serve the same DNSKEY set and byte-identical RRSIGs over the same RRsets: same
// key tag, inception and expiration, and the same (deterministic ECDSA) signature.
func TestDeployReplicasAgree(t *testing.T) {
	t.Parallel()
	bin := staticCoreDNS(t)
	cli, dir := livesignCLI(t), t.TempDir()
	run(t, dir, cli, "keygen", "-zone", "example.net", "-ksk", "-dir", "ksk")
	run(t, dir, cli, "plan", "-zone", "example.net", "-keys", "keys", "-until", "+90s", "-out", "zone.ksr",
		"-zsk-lifetime", "12s", "-dnskey-ttl", "2s", "-max-zone-ttl", "2s", "-propagation-delay", "1s",
		"-publish-safety", "1s", "-retire-safety", "1s", "-signature-validity", "10m", "-signature-refresh", "2m")
	run(t, dir, cli, "sign-ksr", "-ksk", "ksk", "-ksr", "zone.ksr", "-out", "zone.skr", "-validity", "10m", "-refresh", "5m")
	ksks, _ := filepath.Glob(filepath.Join(dir, "ksk", "*.key"))
	if len(ksks) != 1 {
		t.Fatalf("KSKs: %v", ksks)
	}
	anchor := filepath.Join(dir, "anchor.ds")
	if err := os.WriteFile(anchor, []byte(run(t, dir, cli, "ds", ksks[0])), 0o644); err != nil {
		t.Fatal(err)
	}
	db := shortTTLZone(t)

	var procs []*coreDNSProcess
	for i := range 3 {
		procDir := filepath.Join(dir, fmt.Sprintf("replica%d", i+1))
		os.Mkdir(procDir, 0o755)
		procs = append(procs, startCoreDNSProcess(t, bin, procDir, "example.net", func(port int) string {
			return fmt.Sprintf(`example.net:%d {
    bind 127.0.0.1
    file %s
    livesign example.net {
        keys %s
        bundle %s
        trust-anchor %s
        %s
    }
}
`, port, db, filepath.Join(dir, "keys"), filepath.Join(dir, "zone.skr"), anchor, strings.Join(rollTiming, "\n        "))
		}))
	}

	var tags []uint16
	samples := 0
	for end := time.Now().Add(32 * time.Second); time.Now().Before(end); {
		var views []processView
		sampleMidSecond(t, func() {
			views = nil
			for i, p := range procs {
				v, err := sampleProcess(p.Addr)
				if err != nil {
					t.Fatalf("replica %d: %v\n%s", i+1, err, p.Log())
				}
				views = append(views, v)
			}
		})
		samples++
		for i := 1; i < len(views); i++ {
			if !slices.Equal(views[i].dnskeys, views[0].dnskeys) {
				t.Errorf("%s: replica %d serves DNSKEY set\n%s\nreplica 1\n%s", time.Now().Format("15:04:05.000"), i+1,
					strings.Join(views[i].dnskeys, "\n"), strings.Join(views[0].dnskeys, "\n"))
			}
			if !slices.Equal(views[i].sigs, views[0].sigs) {
				t.Errorf("%s: replica %d RRSIGs %q, replica 1 %q", time.Now().Format("15:04:05.000"), i+1, views[i].sigs, views[0].sigs)
			}
		}
		if len(tags) == 0 || tags[len(tags)-1] != views[0].zsk {
			tags = append(tags, views[0].zsk)
		}
	}
	// One full check that what they agree on is also valid.
	signedAnswer(t, procs[2].Addr, "example.net.", "www.example.net.", dns.TypeA)
	if len(tags) < 3 {
		t.Errorf("over 32 s the replicas signed with ZSKs %v: want at least 3 (two rolls)", tags)
	}
	t.Logf("%d samples, signing ZSKs in turn: %v", samples, tags)
}
