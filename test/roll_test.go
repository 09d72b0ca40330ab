package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
)

// rollTiming shrinks the rollover directives to seconds: a ZSK signs for
// 12 s, so four complete rolls take under a minute.
var rollTiming = []string{
	"zsk-lifetime 12s", "dnskey-ttl 2s", "max-zone-ttl 2s", "propagation-delay 1s",
	"publish-safety 1s", "retire-safety 1s", "signature-validity 10m", "signature-refresh 2m", "reload 1s",
}

// shortTTLZone rewrites the test zone with TTLs of 2 s (max-zone-ttl).
func shortTTLZone(t *testing.T) string {
	b, err := os.ReadFile("../testdata/zone.db")
	if err != nil {
		t.Fatal(err)
	}
	z := strings.Replace(string(b), "$TTL 300", "$TTL 2", 1)
	z = strings.Replace(z, "864000 300", "864000 2", 1)
	path := filepath.Join(t.TempDir(), "zone.db")
	if err := os.WriteFile(path, []byte(z), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// watchRolls queries a validating caching unbound in front of server
// several times a second for d: every answer must validate (AD, no
// SERVFAIL). It returns the ZSK tags seen signing, asked of the server.
func watchRolls(t *testing.T, u *validators.Unbound, server string, d time.Duration) []uint16 {
	t.Helper()
	queries := []struct {
		name  string
		qtype uint16
	}{{"www.example.net.", dns.TypeA}, {"nope.example.net.", dns.TypeA}, {"www.example.net.", dns.TypeMX}, {"host.wild.example.net.", dns.TypeA}}
	var tags []uint16
	n, bad := 0, 0
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		for _, q := range queries {
			m := u.Query(t, q.name, q.qtype)
			n++
			if m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData {
				bad++
				if bad <= 3 {
					t.Errorf("%s %s %s: rcode %s AD=%v\n%s\n%s", time.Now().Format("15:04:05.000"), q.name, dns.TypeToString[q.qtype],
						dns.RcodeToString[m.Rcode], m.AuthenticatedData, m, u.Log())
				}
			}
		}
		q := new(dns.Msg)
		q.SetQuestion("www.example.net.", dns.TypeA)
		q.SetEdns0(1232, true)
		if r, err := dns.Exchange(q, server); err == nil {
			for _, rr := range r.Answer {
				if s, ok := rr.(*dns.RRSIG); ok && (len(tags) == 0 || tags[len(tags)-1] != s.KeyTag) {
					tags = append(tags, s.KeyTag)
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d answers failed validation", bad, n)
	}
	t.Logf("%d answers through unbound, signing ZSKs in turn: %v", n, tags)
	return tags
}

// TestEndToEndRollOnlineKSK: ZSKs generated on the fly (online KSK +
// auto-plan) roll every 12 s under a validating cache, and not one answer
// fails.
func TestEndToEndRollOnlineKSK(t *testing.T) {
	t.Parallel()
	bin, dir := livesignCLI(t), t.TempDir()
	run(t, dir, bin, "keygen", "-zone", "example.net", "-ksk", "-dir", "ksk")
	ksks, _ := filepath.Glob(filepath.Join(dir, "ksk", "*.key"))
	anchor := run(t, dir, bin, "ds", ksks[0])
	kf := keyFiles{keys: filepath.Join(dir, "keys"), anchor: anchor, db: shortTTLZone(t)}
	block := strings.Join(append([]string{"ksk " + filepath.Join(dir, "ksk"), "auto-plan 5m"}, rollTiming...), "\n        ")
	server := startServer(t, "example.net", kf, "", block)
	u := validators.StartUnbound(t, "example.net.", server, anchor)
	if tags := watchRolls(t, u, server, 55*time.Second); len(tags) < 5 {
		t.Errorf("signing ZSKs %v: want at least 5 (four complete rolls)", tags)
	}
}

// TestEndToEndRollSKR: the same with an offline KSK, the ZSKs planned
// ahead by livesign plan and their DNSKEY sets signed by livesign sign-ksr.
func TestEndToEndRollSKR(t *testing.T) {
	t.Parallel()
	bin, dir := livesignCLI(t), t.TempDir()
	run(t, dir, bin, "keygen", "-zone", "example.net", "-ksk", "-dir", "ksk")
	run(t, dir, bin, "plan", "-zone", "example.net", "-keys", "keys", "-until", "+80s", "-out", "zone.ksr",
		"-zsk-lifetime", "12s", "-dnskey-ttl", "2s", "-max-zone-ttl", "2s", "-propagation-delay", "1s",
		"-publish-safety", "1s", "-retire-safety", "1s", "-signature-validity", "10m", "-signature-refresh", "2m")
	run(t, dir, bin, "sign-ksr", "-ksk", "ksk", "-ksr", "zone.ksr", "-out", "zone.skr", "-validity", "10m", "-refresh", "5m")
	ksks, _ := filepath.Glob(filepath.Join(dir, "ksk", "*.key"))
	anchor := run(t, dir, bin, "ds", ksks[0])
	kf := keyFiles{keys: filepath.Join(dir, "keys"), bundle: filepath.Join(dir, "zone.skr"), anchor: anchor, db: shortTTLZone(t)}
	server := startServer(t, "example.net", kf, "", strings.Join(rollTiming, "\n        "))
	u := validators.StartUnbound(t, "example.net.", server, anchor)
	if tags := watchRolls(t, u, server, 55*time.Second); len(tags) < 5 {
		t.Errorf("signing ZSKs %v: want at least 5 (four complete rolls)", tags)
	}
}
