package test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/livesign/livesign/keystore"
)

// TestEndToEndSKRAutoPlan: the README's offline-KSK flow with rollovers. An
// SKR signed for 90 days, then the server runs with auto-plan over 180 days:
// auto-plan makes successor ZSKs the SKR does not hold yet (one is published
// by its timers before the SKR ends). The server starts, validates, and
// writes the KSR for the offline side; livesign check still passes.
func TestEndToEndSKRAutoPlan(t *testing.T) {
	const zone = "autoskr.test"
	bin, dir := livesignCLI(t), t.TempDir()
	run(t, dir, bin, "keygen", "-zone", zone, "-ksk", "-dir", "ksk")
	run(t, dir, bin, "plan", "-zone", zone, "-keys", "zsk", "-until", "+90d", "-out", zone+".ksr")
	run(t, dir, bin, "sign-ksr", "-ksk", "ksk", "-ksr", zone+".ksr", "-out", zone+".skr")
	anchor := run(t, dir, bin, "ds", firstGlob(t, filepath.Join(dir, "ksk", "K*.key")))
	before, _ := filepath.Glob(filepath.Join(dir, "zsk", "K*.key"))
	kf := keyFiles{keys: filepath.Join(dir, "zsk"), bundle: filepath.Join(dir, zone+".skr"), anchor: anchor}
	ksr := filepath.Join(dir, "next.ksr")
	server := startServer(t, zone, kf, "", "auto-plan 180d "+ksr)
	skrValidate(t, zone, server, anchor)

	after, _ := filepath.Glob(filepath.Join(dir, "zsk", "K*.key"))
	if len(after) <= len(before) {
		t.Errorf("auto-plan made no successor ZSKs: %d key files before, %d after", len(before), len(after))
	}
	k, err := keystore.ReadKSR(ksr, zone)
	if err != nil {
		t.Fatalf("auto-plan wrote no readable KSR: %v", err)
	}
	tags := map[uint16]bool{}
	for _, s := range k.Slots {
		for _, key := range s.DNSKEY {
			tags[key.KeyTag()] = true
		}
	}
	if len(tags) < len(after) {
		t.Errorf("the KSR holds %d keys, the keys directory %d", len(tags), len(after))
	}
	out := run(t, dir, bin, "check", "-keys", "zsk", "-bundle", zone+".skr", "-trust-anchor", writeFile(t, dir, "anchor.ds", anchor), "-warn-coverage", "1d")
	if !strings.Contains(out, "lacks it") {
		t.Errorf("livesign check does not tell that the new ZSKs await a new SKR:\n%s", out)
	}
}
