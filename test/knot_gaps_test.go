package test

// End-to-end tests of the gaps Knot's keymgr sign-ksr can leave in an SKR:
// keymgr 3.2 signs each KSR record for its policy's rrsig-lifetime (14d by
// default) and adds no re-signed record in between unless the policy sets
// rrsig-refresh (or zone-max-ttl). livesign plan -format knot therefore
// writes a record at least every 7 days, and livesign check reports any
// stretch without a valid DNSKEY signature as an error.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
	"github.com/livesign/livesign/keystore"
)

// knotGapZone is spelled in mixed case on purpose: keymgr and livesign
// must both fold it.
const knotGapZone = "Knot.Example.NET"

// knotGapSetup writes a minimal keymgr 3.2 configuration (only what
// offline-KSK work needs: offline-ksk, manual; Knot's defaults for the rest,
// so no rrsig-refresh and no zone-max-ttl) with extra policy lines, makes an
// ED25519 KSK in its KASP database and returns keymgr, the directory, the
// configuration file and the KSK's DS as a trust-anchor file.
func knotGapSetup(t *testing.T, extra string) (keymgr, dir, conf, anchor string) {
	t.Helper()
	keymgr = validators.Keymgr(t)
	dir = t.TempDir()
	db := filepath.Join(dir, "kasp")
	if err := os.Mkdir(db, 0o700); err != nil {
		t.Fatal(err)
	}
	conf = filepath.Join(dir, "knot.conf")
	skrWrite(t, conf, `database:
    storage: "`+db+`"
policy:
  - id: offline
    algorithm: ed25519
    offline-ksk: on
    manual: on
    ksk-lifetime: 0
`+extra+`zone:
  - domain: `+strings.ToLower(dns.Fqdn(knotGapZone))+`
    dnssec-signing: on
    dnssec-policy: offline
`)
	run(t, dir, keymgr, "-c", conf, dns.Fqdn(knotGapZone), "generate", "ksk=yes", "algorithm=ed25519")
	anchor = filepath.Join(dir, "ksk.ds")
	skrWrite(t, anchor, keymgrDS(t, keymgr, dir, conf, knotGapZone))
	return keymgr, dir, conf, anchor
}

// knotGapSign runs livesign plan -format knot (with extra flags) for 134
// days and keymgr sign-ksr on its KSR; it returns the KSR as read back and
// the SKR file.
func knotGapSign(t *testing.T, keymgr, dir, conf string, planFlags ...string) (*keystore.KSR, string) {
	t.Helper()
	args := append([]string{"plan", "-zone", knotGapZone, "-keys", "zsk", "-until", "+134d", "-out", "zone.ksr", "-format", "knot", "-algorithm", "ED25519"}, planFlags...)
	run(t, dir, livesignCLI(t), args...)
	ksr, err := keystore.ReadKSR(filepath.Join(dir, "zone.ksr"), knotGapZone)
	if err != nil {
		t.Fatal(err)
	}
	skr := run(t, dir, keymgr, "-c", conf, dns.Fqdn(knotGapZone), "sign-ksr", "zone.ksr")
	if n := len(skrKnotSKRHeader.FindAllString(skr, -1)); n < len(ksr.Slots) {
		t.Fatalf("keymgr sign-ksr made %d slots for %d KSR records:\n%.600s", n, len(ksr.Slots), skr)
	}
	file := filepath.Join(dir, "zone.skr")
	skrWrite(t, file, skr)
	return ksr, file
}

// TestKnotPlanSignKSRNoGaps: livesign plan -format knot (default -resign
// 7d) -> keymgr sign-ksr under Knot's default policy (rrsig-lifetime 14d,
// no rrsig-refresh) -> an SKR that livesign check passes now and at every
// day of the planned period.
func TestKnotPlanSignKSRNoGaps(t *testing.T) {
	keymgr, dir, conf, anchor := knotGapSetup(t, "")
	ksr, skr := knotGapSign(t, keymgr, dir, conf)
	for i := 1; i < len(ksr.Slots); i++ {
		if step := ksr.Slots[i].Start.Sub(ksr.Slots[i-1].Start); step > 7*24*time.Hour {
			t.Errorf("KSR records %d and %d are %s apart, more than 7d", i, i+1, step)
		}
	}
	bin := livesignCLI(t)
	out := run(t, dir, bin, "check", "-keys", "zsk", "-bundle", skr, "-trust-anchor", anchor)
	if !strings.Contains(out, "OK") || strings.Contains(out, "gap:") {
		t.Fatalf("check:\n%s", out)
	}
	start := ksr.Slots[0].Start
	for d := 0; d <= 134; d++ {
		at := start.Add(time.Duration(d) * 24 * time.Hour).Format(time.RFC3339)
		code, out := skrRunCode(t, dir, bin, "check", "-keys", "zsk", "-bundle", skr, "-trust-anchor", anchor, "-at", at)
		if code != 0 || !strings.Contains(out, "OK") || strings.Contains(out, "gap:") {
			t.Fatalf("check -at %s (day %d): exit %d\n%s", at, d, code, out)
		}
	}
}

// TestKnotSKRGapDetected: SKRs with gaps made by the real keymgr are
// refused by livesign check (exit 1), which names the slot, the gap's start
// and end, and the fix: a policy whose rrsig-lifetime (5d) is shorter than
// the spacing of the KSR records (7d); and Knot's default policy with a KSR
// that has records only at the key events (-resign 0, the old behaviour).
func TestKnotSKRGapDetected(t *testing.T) {
	tests := []struct {
		name      string
		policy    string
		planFlags []string
		life      time.Duration // keymgr's rrsig-lifetime
	}{
		{"rrsig-lifetime shorter than the record spacing", "    rrsig-lifetime: 5d\n", nil, 5 * 24 * time.Hour},
		{"records at key events only", "", []string{"-resign", "0"}, 14 * 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keymgr, dir, conf, anchor := knotGapSetup(t, tc.policy)
			ksr, skr := knotGapSign(t, keymgr, dir, conf, tc.planFlags...)
			// Slot 1 is keymgr's signature of the first KSR record, valid for
			// life from it; slot 2 is the second record.
			gapStart, gapEnd := ksr.Slots[0].Start.Add(tc.life), ksr.Slots[1].Start
			if !gapStart.Before(gapEnd) {
				t.Fatalf("no gap to test: first record %s, second %s, lifetime %s", ksr.Slots[0].Start, gapEnd, tc.life)
			}
			code, out := skrRunCode(t, dir, livesignCLI(t), "check", "-keys", "zsk", "-bundle", skr, "-trust-anchor", anchor)
			stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
			for _, want := range []string{
				"(until " + stamp(gapStart) + ")\n", // coverage: about life, see below
				"gap: " + stamp(gapStart) + " to " + stamp(gapEnd),
				"livesign: check: the SKR has a gap from " + stamp(gapStart) + " to " + stamp(gapEnd),
				"slot 1 (" + stamp(ksr.Slots[0].Start) + ") is in force then",
				"the next valid ones are slot 2's (start " + stamp(gapEnd) + ")",
				"set the policy's rrsig-lifetime longer than the spacing of the KSR records",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("check output lacks %q", want)
				}
			}
			days := int(tc.life / (24 * time.Hour))
			if !regexp.MustCompile(fmt.Sprintf(`(?m)^coverage: (%dd 0h|%dd 23h) \(until `, days, days-1)).MatchString(out) {
				t.Errorf("check output: coverage is not about %dd", days)
			}
			if code != 1 || strings.Contains(out, "\nOK\n") {
				t.Errorf("check: exit %d, want 1", code)
			}
			if t.Failed() {
				t.Logf("check output:\n%s", out)
			}
			// Inside the gap, the expired signature itself is reported too.
			at := stamp(gapStart.Add(time.Hour))
			if code, out := skrRunCode(t, dir, livesignCLI(t), "check", "-keys", "zsk", "-bundle", skr, "-trust-anchor", anchor, "-at", at); code != 1 || !strings.Contains(out, "expired at "+stamp(gapStart)) {
				t.Errorf("check -at %s: exit %d\n%s", at, code, out)
			}
		})
	}
}
