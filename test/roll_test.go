package test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livesign/livesign/internal/validators"
)

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
