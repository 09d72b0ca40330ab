package test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// replicaView is what one server says at a sampled instant.
type replicaView struct {
	dnskeys []uint16
	sig     string // key tag, inception, expiration of the RRSIG over www A
}

func sampleReplica(t *testing.T, server string) (replicaView, error) {
	var v replicaView
	for _, qt := range []uint16{dns.TypeDNSKEY, dns.TypeA} {
		q := new(dns.Msg)
		q.SetQuestion(map[uint16]string{dns.TypeDNSKEY: "example.net.", dns.TypeA: "www.example.net."}[qt], qt)
		q.SetEdns0(1232, true)
		r, err := dns.Exchange(q, server)
		if err != nil {
			return v, err
		}
		for _, rr := range r.Answer {
			switch rr := rr.(type) {
			case *dns.DNSKEY:
				v.dnskeys = append(v.dnskeys, rr.KeyTag())
			case *dns.RRSIG:
				if rr.TypeCovered == dns.TypeA {
					v.sig = fmt.Sprintf("%d %d %d", rr.KeyTag, rr.Inception, rr.Expiration)
				}
			}
		}
	}
	slices.Sort(v.dnskeys)
	return v, nil
}

// TestEndToEndReplicasAgree: three servers share one keys directory and
// one online KSK, with auto-plan on all three and ZSKs rolling every 12 s.
// They never talk, yet at every sampled instant they serve the same DNSKEY
// set and sign with the same key and the same validity window; a restarted
// replica resumes where the timeline is.
func TestEndToEndReplicasAgree(t *testing.T) {
	t.Parallel()
	bin, dir := livesignCLI(t), t.TempDir()
	run(t, dir, bin, "keygen", "-zone", "example.net", "-ksk", "-dir", "ksk")
	ksks, _ := filepath.Glob(filepath.Join(dir, "ksk", "*.key"))
	kf := keyFiles{keys: filepath.Join(dir, "keys"), anchor: run(t, dir, bin, "ds", ksks[0]), db: shortTTLZone(t)}
	block := strings.Join(append([]string{"ksk " + filepath.Join(dir, "ksk"), "auto-plan 5m"}, rollTiming...), "\n        ")
	servers := []string{startServer(t, "example.net", kf, "", block), startServer(t, "example.net", kf, "", block), startServer(t, "example.net", kf, "", block)}

	var seen []string
	samples := 0
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); {
		var views []replicaView
		sampleMidSecond(t, func() {
			views = nil
			for _, s := range servers {
				v, err := sampleReplica(t, s)
				if err != nil {
					t.Fatal(err)
				}
				views = append(views, v)
			}
		})
		samples++
		for i := 1; i < len(views); i++ {
			if !slices.Equal(views[i].dnskeys, views[0].dnskeys) || views[i].sig != views[0].sig {
				t.Errorf("%s: replica %d serves DNSKEY %v signed %q, replica 1 serves %v signed %q",
					time.Now().Format("15:04:05.000"), i+1, views[i].dnskeys, views[i].sig, views[0].dnskeys, views[0].sig)
			}
		}
		if len(seen) == 0 || seen[len(seen)-1] != views[0].sig {
			seen = append(seen, views[0].sig)
		}
	}
	tags := map[string]bool{}
	for _, s := range seen {
		tags[strings.Fields(s)[0]] = true
	}
	if len(tags) < 3 {
		t.Errorf("over 30 s the replicas signed with %d ZSKs (%v), want at least 3 (two rolls)", len(tags), seen)
	}
	t.Logf("%d samples, signatures in turn: %v", samples, seen)

	// A fourth replica started now, mid-roll, agrees at once.
	late := startServer(t, "example.net", kf, "", block)
	var a, b replicaView
	sampleMidSecond(t, func() {
		var err error
		if a, err = sampleReplica(t, servers[0]); err != nil {
			t.Fatal(err)
		}
		if b, err = sampleReplica(t, late); err != nil {
			t.Fatal(err)
		}
	})
	if !slices.Equal(a.dnskeys, b.dnskeys) || a.sig != b.sig {
		t.Errorf("restarted replica serves %v %q, the others %v %q", b.dnskeys, b.sig, a.dnskeys, a.sig)
	}
}
