package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livesign/livesign/keystore"
)

// TestCheckKSKRoll: a KSK roll with livesign's tools alone (keygen timers,
// plan, sign-ksr with both KSKs) and the parent's current DS as the trust
// anchor: check lists every KSK that signs a slot, says when the parent
// must have the new KSK's DS and prints it, and passes; with both DS in the
// anchor there is nothing due.
func TestCheckKSKRoll(t *testing.T) {
	fixedClock(t)
	dir := t.TempDir()
	zsk, ksr := filepath.Join(dir, "zsk"), filepath.Join(dir, "z.ksr")
	mustRun(t, "plan", "-zone", "example.org", "-keys", zsk, "-until", "+60d", "-out", ksr)
	ksk := filepath.Join(dir, "ksk")
	mustRun(t, "keygen", "-zone", "example.org", "-ksk", "-publish", "-1h", "-activate", "-1h", "-inactive", "+20d", "-delete", "+30d", "-dir", ksk)
	old, _ := filepath.Glob(filepath.Join(ksk, "*.key"))
	mustRun(t, "keygen", "-zone", "example.org", "-ksk", "-publish", "+10d", "-activate", "+10d", "-dir", ksk)
	keys, err := keystore.ReadKeys(ksk, keystore.Selection{Zone: "example.org", Role: keystore.KSKRole})
	if err != nil || len(keys) != 2 {
		t.Fatalf("KSKs: %v %v", keys, err)
	}
	var oldKSK, newKSK *keystore.Key
	for _, k := range keys {
		if k.Base+".key" == old[0] {
			oldKSK = k
		} else {
			newKSK = k
		}
	}
	skr := filepath.Join(dir, "z.skr")
	mustRun(t, "sign-ksr", "-ksk", ksk, "-ksr", ksr, "-out", skr)
	anchor := filepath.Join(dir, "old.ds")
	if err := os.WriteFile(anchor, []byte(mustRun(t, "ds", oldKSK.Base+".key")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "check", "-keys", zsk, "-bundle", skr, "-trust-anchor", anchor, "-warn-coverage", "1d")
	newTag, oldTag := tagString(newKSK), tagString(oldKSK)
	bothListed := false
	for _, l := range strings.Split(out, "\n") {
		bothListed = bothListed || strings.Contains(l, "by "+oldTag) && strings.Contains(l, "by "+newTag)
	}
	if !bothListed {
		t.Errorf("no slot lists both KSKs %s and %s:\n%s", oldTag, newTag, out)
	}
	for _, want := range []string{
		"parent DS: from 2026-12-21T00:00:00Z the DNSKEY sets are signed only by KSK " + newTag,
		"DS\t" + newTag + " 13 2 ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	// The picture marks the DS deadline and draws a lane per KSK.
	doc := parseSVG(t, drawSVG(t, 0, "check", "-keys", zsk, "-bundle", skr, "-trust-anchor", anchor, "-warn-coverage", "1d"))
	for _, want := range []string{"parent DS for KSK " + newTag + " due 2026-12-21 00:00", "KSK " + oldTag, "KSK " + newTag} {
		if !doc.hasText(want) {
			t.Errorf("picture lacks the text %q: %q", want, doc.texts)
		}
	}
	both := mustRun(t, "ds", oldKSK.Base+".key") + mustRun(t, "ds", newKSK.Base+".key")
	if err := os.WriteFile(anchor, []byte(both), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, "check", "-keys", zsk, "-bundle", skr, "-trust-anchor", anchor, "-warn-coverage", "1d"); strings.Contains(out, "parent DS:") {
		t.Errorf("a DS is due though the anchor names both KSKs:\n%s", out)
	}
}

func tagString(k *keystore.Key) string { return fmt.Sprint(k.Tag()) }
