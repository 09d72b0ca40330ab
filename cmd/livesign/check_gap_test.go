package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livesign/livesign/keystore"
)

// gapCeremony plans 90 days of ZSKs for example.org from testNow with a
// KSR in Knot's layout (-resign as given, "" = default) and signs it with a
// new KSK the way livesign sign-ksr does. It returns the ZSK directory, the
// KSR and the signed bundle.
func gapCeremony(t *testing.T, resign string) (zskDir string, ksr *keystore.KSR, b *keystore.Bundle) {
	t.Helper()
	root := t.TempDir()
	kskDir, ksrFile := filepath.Join(root, "ksk"), filepath.Join(root, "z.ksr")
	zskDir = filepath.Join(root, "zsk")
	mustRun(t, "keygen", "-zone", "example.org", "-ksk", "-dir", kskDir)
	args := []string{"plan", "-zone", "example.org", "-keys", zskDir, "-until", "+90d", "-out", ksrFile, "-format", "knot"}
	if resign != "" {
		args = append(args, "-resign", resign)
	}
	mustRun(t, args...)
	ksr, err := keystore.ReadKSR(ksrFile, "example.org")
	if err != nil {
		t.Fatal(err)
	}
	ksks, err := keystore.ReadKeys(kskDir, keystore.Selection{Zone: "example.org", Private: keystore.PrivateRequired})
	if err != nil {
		t.Fatal(err)
	}
	b, err = keystore.SignKSR(ksr, ksks, keystore.SignPolicy{Generated: testNow})
	if err != nil {
		t.Fatal(err)
	}
	return zskDir, ksr, b
}

// writeSKR writes b as a Knot-layout SKR into dir.
func writeSKR(t *testing.T, dir, name string, b *keystore.Bundle) string {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := keystore.WriteSKR(f, b, keystore.LayoutKnot, "example.org"); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// TestCheckGap: an SKR whose slots are signed only at the KSR records (as
// keymgr sign-ksr 3.2 does without rrsig-refresh) has stretches without a
// valid DNSKEY signature; livesign check reports the first one as an error
// naming the slot, the gap's start and end and what to do, and lists them
// all; the full SKR passes.
func TestCheckGap(t *testing.T) {
	fixedClock(t)
	zskDir, ksr, full := gapCeremony(t, "0")
	inKSR := map[time.Time]bool{}
	for _, s := range ksr.Slots {
		inKSR[s.Start] = true
	}
	gapped := &keystore.Bundle{SKR: true, Generated: full.Generated}
	for _, s := range full.Slots {
		if inKSR[s.Start] {
			gapped.Slots = append(gapped.Slots, s)
		}
	}
	if len(gapped.Slots) == len(full.Slots) {
		t.Fatalf("sign-ksr added no re-signed slot to the %d KSR records", len(ksr.Slots))
	}
	dir := t.TempDir()
	fullFile, gapFile := writeSKR(t, dir, "full.skr", full), writeSKR(t, dir, "gap.skr", gapped)
	// Slot 1 starts at testNow and is signed for 14 days; slot 2 starts when
	// the second ZSK is published, Ipub (2h05m) before its activation 30
	// days later.
	const gapStart, gapEnd = "2026-12-15T00:00:00Z", "2026-12-30T21:55:00Z"
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
		not    string // in neither output
	}{
		{"full SKR", []string{"check", "-keys", zskDir, "-bundle", fullFile}, 0,
			[]string{"coverage: 134d 0h (until 2027-04-14T00:00:00Z)", "OK"}, nil, "gap:"},
		{"full SKR every day", nil, 0, nil, nil, ""},
		{"gap ahead", []string{"check", "-keys", zskDir, "-bundle", gapFile}, 1,
			[]string{"coverage: 14d 0h (until " + gapStart + ")", "gap: " + gapStart + " to " + gapEnd + " (15d 21h) without a valid DNSKEY signature, after slot 1", "gap: 2027-01-15T01:05:00Z to 2027-01-29T21:55:00Z (14d 20h)", "gap: 2027-03-16T01:05:00Z to 2027-03-31T00:00:00Z (14d 22h) without a valid DNSKEY signature, after slot 7"},
			[]string{"livesign: check: the SKR has a gap from " + gapStart + " to " + gapEnd + " (15d 21h) with no valid DNSKEY signature: slot 1 (2026-12-01T00:00:00Z) is in force then but its DNSKEY RRSIGs are valid only from 2026-11-30T22:30:00Z to " + gapStart,
				"the next valid ones are slot 2's (start " + gapEnd + ")", "set the policy's rrsig-lifetime longer than the spacing of the KSR records", "livesign plan -format knot and a shorter -resign"}, "OK"},
		{"inside the gap", []string{"check", "-keys", zskDir, "-bundle", gapFile, "-at", "2026-12-20T00:00:00Z"}, 1,
			[]string{"coverage: -5d 0h (until " + gapStart + ")", "gap: " + gapStart + " to " + gapEnd},
			[]string{"RRSIG by", "expired at " + gapStart, "the SKR has a gap from " + gapStart + " to " + gapEnd}, "OK"},
		{"in the last slot, after the gaps", []string{"check", "-keys", zskDir, "-bundle", gapFile, "-at", "2027-04-01T00:00:00Z", "-warn-coverage", "1d"}, 0,
			[]string{"OK"}, nil, "gap:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.args == nil {
				// The full SKR passes at every day of the plan.
				for d := 0; d < 90; d++ {
					at := testNow.Add(time.Duration(d) * 24 * time.Hour).Format(time.RFC3339)
					if code, stdout, stderr := livesign(t, "check", "-keys", zskDir, "-bundle", fullFile, "-at", at); code != 0 || strings.Contains(stdout, "gap:") {
						t.Fatalf("check -at %s: exit %d\n%s\n%s", at, code, stdout, stderr)
					}
				}
				return
			}
			code, stdout, stderr := livesign(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			for _, want := range tc.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if tc.not != "" && (strings.Contains(stdout, tc.not) || strings.Contains(stderr, tc.not)) {
				t.Errorf("output has %q:\nstdout:\n%s\nstderr:\n%s", tc.not, stdout, stderr)
			}
		})
	}
}

// TestPlanResign: -format knot writes a KSR slot at least every 7 days (or
// -resign) between the key events, so that records signed for Knot's
// default 14-day rrsig-lifetime chain; -format bind keeps to the key events.
func TestPlanResign(t *testing.T) {
	fixedClock(t)
	events := func(k *keystore.KSR) int {
		n := 0
		for i, s := range k.Slots {
			if i == 0 || i == len(k.Slots)-1 || keysOf(s) != keysOf(k.Slots[i-1]) {
				n++
			}
		}
		return n
	}
	tests := []struct {
		name    string
		format  string
		resign  string
		maxStep time.Duration // 0: only key events
	}{
		{"knot default", "knot", "", 7 * 24 * time.Hour},
		{"knot 3d", "knot", "3d", 3 * 24 * time.Hour},
		{"knot key events only", "knot", "0", 0},
		{"bind default", "bind", "", 0},
		{"bind 5d asked", "bind", "5d", 5 * 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ksrFile := filepath.Join(dir, "z.ksr")
			args := []string{"plan", "-zone", "example.org", "-keys", filepath.Join(dir, "zsk"), "-until", "+120d", "-out", ksrFile, "-format", tc.format}
			if tc.resign != "" {
				args = append(args, "-resign", tc.resign)
			}
			out := mustRun(t, args...)
			wantOut := "at the key events only"
			if tc.maxStep > 0 {
				wantOut = "at the key events and at least every " + formatDuration(tc.maxStep)
			}
			if !strings.Contains(out, wantOut) {
				t.Errorf("plan output lacks %q:\n%s", wantOut, out)
			}
			k, err := keystore.ReadKSR(ksrFile, "example.org")
			if err != nil {
				t.Fatal(err)
			}
			longest := time.Duration(0)
			for i := 1; i < len(k.Slots); i++ {
				longest = max(longest, k.Slots[i].Start.Sub(k.Slots[i-1].Start))
			}
			switch {
			case tc.maxStep > 0 && longest > tc.maxStep:
				t.Errorf("KSR slots up to %s apart, want at most %s", longest, tc.maxStep)
			case tc.maxStep == 0 && len(k.Slots) != events(k):
				t.Errorf("%d KSR slots, want only the %d at key events", len(k.Slots), events(k))
			case tc.maxStep == 0 && longest < 20*24*time.Hour:
				t.Errorf("KSR slots at most %s apart: not only key events", longest)
			}
			// Running it again changes nothing.
			if out := mustRun(t, args...); !strings.Contains(out, "(unchanged)") {
				t.Errorf("second plan:\n%s", out)
			}
		})
	}
	dir := t.TempDir()
	for _, bad := range []struct{ resign, want string }{
		{"30m", "-resign 30m: give 0 (key events only) or at least 1h"},
		{"-1d", "-resign -1d: give 0 (key events only) or at least 1h"},
		{"often", "-resign: invalid duration \"often\""},
	} {
		code, _, stderr := livesign(t, "plan", "-zone", "example.org", "-keys", filepath.Join(dir, "zsk"), "-until", "+60d", "-out", filepath.Join(dir, "z.ksr"), "-format", "knot", "-resign", bad.resign)
		if code != 1 || !strings.Contains(stderr, bad.want) {
			t.Errorf("-resign %s: exit %d, stderr:\n%s\nwant %q", bad.resign, code, stderr, bad.want)
		}
	}
}

// keysOf identifies the DNSKEY set of a KSR slot.
func keysOf(s keystore.KSRSlot) string {
	var ids []string
	for _, k := range s.DNSKEY {
		ids = append(ids, k.String())
	}
	return strings.Join(ids, "\n")
}
