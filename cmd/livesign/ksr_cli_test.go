package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
)

// dirSnapshot returns the contents of every file in dir.
func dirSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		out[e.Name()] = string(mustRead(t, filepath.Join(dir, e.Name())))
	}
	return out
}

// copyDir copies the files of src into a new temp dir, .private files mode 0600.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(e.Name(), ".private") {
			mode = 0o600
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), mustRead(t, filepath.Join(src, e.Name())), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestPlanSignKSRServe runs the whole livesign ceremony: plan -> KSR ->
// sign-ksr -> SKR, then loads it the way the plugin does and checks that
// exactly the planned ZSK signs at instants all across the plan.
func TestPlanSignKSRServe(t *testing.T) {
	fixedClock(t)
	for _, format := range []string{"bind", "knot"} {
		t.Run(format, func(t *testing.T) {
			root := t.TempDir()
			kskDir, zskDir := filepath.Join(root, "ksk"), filepath.Join(root, "zsk")
			ksr, skr := filepath.Join(root, "z.ksr"), filepath.Join(root, "z.skr")
			mustRun(t, "keygen", "-zone", "example.org", "-ksk", "-dir", kskDir)
			out := mustRun(t, "plan", "-zone", "example.org", "-keys", zskDir, "-until", "+180d", "-out", ksr, "-format", format)
			if !strings.Contains(out, "generated") || !strings.Contains(out, "(wrote)") {
				t.Errorf("plan output:\n%s", out)
			}
			header := regexp.MustCompile(`^;; KeySigningRequest 1\.0 \d{14} \(`)
			if format == "knot" {
				header = regexp.MustCompile(`^;; KeySigningRequest 1\.0 \d{10} \(\d{4}-\d\d-\d\dT[0-9:]+Z\) =+\n`)
			}
			if text := string(mustRead(t, ksr)); !header.MatchString(text) {
				t.Errorf("KSR header not in %s layout:\n%.200s", format, text)
			}

			// Idempotent: the same run again changes no file.
			keysBefore, ksrBefore := dirSnapshot(t, zskDir), string(mustRead(t, ksr))
			out = mustRun(t, "plan", "-zone", "example.org", "-keys", zskDir, "-until", "+180d", "-out", ksr, "-format", format)
			if strings.Contains(out, "generated") || strings.Contains(out, "updated") || !strings.Contains(out, "(unchanged)") {
				t.Errorf("second plan output:\n%s", out)
			}
			if keysAfter := dirSnapshot(t, zskDir); len(keysAfter) != len(keysBefore) {
				t.Errorf("second plan changed the keys: %d files, before %d", len(keysAfter), len(keysBefore))
			} else {
				for name, data := range keysBefore {
					if keysAfter[name] != data {
						t.Errorf("second plan rewrote %s", name)
					}
				}
			}
			if string(mustRead(t, ksr)) != ksrBefore {
				t.Error("second plan rewrote the KSR")
			}

			mustRun(t, "sign-ksr", "-ksk", kskDir, "-ksr", ksr, "-out", skr)
			zsks, err := keystore.ReadKeys(zskDir, keystore.Selection{Zone: "example.org", Private: keystore.PrivateRequired})
			if err != nil {
				t.Fatal(err)
			}
			b, err := keystore.ReadBundle(skr, "example.org")
			if err != nil {
				t.Fatal(err)
			}
			tl, err := timeline.New(timeline.Inputs{Zone: "example.org.", ZSKs: zsks, Bundle: b})
			if err != nil {
				t.Fatal(err)
			}
			if err := tl.Check(testNow); err != nil {
				t.Fatal(err)
			}
			for at := testNow; at.Before(testNow.Add(180 * 24 * time.Hour)); at = at.Add(5 * time.Hour) {
				ks, err := tl.At(at)
				if err != nil {
					t.Fatalf("at %v: %v", at, err)
				}
				var active []uint16
				for _, k := range zsks {
					if k.ActiveAt(at) {
						active = append(active, k.Tag())
					}
				}
				if len(active) != 1 || ks.Tag() != active[0] || ks.Fallback {
					t.Fatalf("at %v: ZSK %d signs (fallback %v), the timers make %v active", at, ks.Tag(), ks.Fallback, active)
				}
			}
			code, stdout, stderr := livesign(t, "check", "-keys", zskDir, "-bundle", skr, "-at", "+30d")
			if code != 0 || !strings.Contains(stdout, "OK") {
				t.Errorf("check: exit %d\n%s\n%s", code, stdout, stderr)
			}
		})
	}
}

// TestPlanCorefile takes the rollover durations from the Corefile's livesign
// block; flags win over it.
func TestPlanCorefile(t *testing.T) {
	fixedClock(t)
	root := t.TempDir()
	corefile := filepath.Join(root, "Corefile")
	os.WriteFile(corefile, []byte(`# test
example.net {
    file db.example.net
    livesign example.net {
        keys zsk-net
    }
}
example.org:53 {
    log
    forward . 127.0.0.1 {
        max_fails 1
    }
    livesign {
        keys `+filepath.Join(root, "zsk")+`
        bundle example.org.skr
        zsk-lifetime 10d   # short
        publish-safety 2h
    }
}
`), 0o644)
	ksr := filepath.Join(root, "z.ksr")
	out := mustRun(t, "plan", "-zone", "example.org", "-corefile", corefile, "-until", "+25d", "-out", ksr, "-retire-safety", "3h")
	// 10d lifetime: keys at +0, +10d, +20d; Ipub = 5m + 1h + 2h; Iret = 5m + 1d + 3h.
	for _, want := range []string{
		"2026-12-11T00:00:00Z  2026-12-12T03:05:00Z",                       // first key inactive, deleted
		"2026-12-10T20:55:00Z  2026-12-11T00:00:00Z  2026-12-21T00:00:00Z", // second key
		"Ipub 3h5m0s, Iret 27h5m0s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "generated"); n != 3 {
		t.Errorf("%d keys generated, want 3:\n%s", n, out)
	}
}

func TestPlanErrors(t *testing.T) {
	fixedClock(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "z.ksr")
	corefile := filepath.Join(dir, "Corefile")
	os.WriteFile(corefile, []byte("example.com {\n  livesign {\n    keys k\n  }\n}\n"), 0o644)
	gap := filepath.Join(dir, "gap")
	mustRun(t, "keygen", "-zone", "example.org", "-zsk", "-dir", gap)
	mustRun(t, "plan", "-zone", "example.org", "-keys", gap, "-until", "+1d", "-out", out)
	// A second key that activates in 20 days: a gap after the first one's 30 days? No: an overlap.
	k, err := keystore.GenerateKey("example.org", 13, false, testNow)
	if err != nil {
		t.Fatal(err)
	}
	k.Timers.Publish, k.Timers.Activate, k.Timers.Inactive = testNow, testNow.Add(20*24*time.Hour), testNow.Add(40*24*time.Hour)
	if _, err := keystore.WriteKey(gap, k); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing flags", []string{"plan", "-zone", "example.org"}, "-zone, -until and -out are required"},
		{"no keys dir", []string{"plan", "-zone", "example.org", "-until", "+1d", "-out", out}, "-keys is required"},
		{"bad zone", []string{"plan", "-zone", "a..b", "-keys", dir, "-until", "+1d", "-out", out}, "is not a domain name"},
		{"bad format", []string{"plan", "-zone", "example.org", "-keys", dir, "-until", "+1d", "-out", out, "-format", "nsd"}, "layout \"nsd\" is not supported"},
		{"bad until", []string{"plan", "-zone", "example.org", "-keys", dir, "-until", "soon", "-out", out}, "-until: time \"soon\""},
		{"until in the past", []string{"plan", "-zone", "example.org", "-keys", dir, "-until", "-1d", "-out", out}, "is not after its start"},
		{"lifetime below Ipub", []string{"plan", "-zone", "example.org", "-keys", dir, "-until", "+1d", "-out", out, "-zsk-lifetime", "2h"}, "zsk-lifetime 2h0m0s must exceed"},
		{"bad duration", []string{"plan", "-zone", "example.org", "-keys", dir, "-until", "+1d", "-out", out, "-dnskey-ttl", "1x"}, "-dnskey-ttl: \"1x\": want a positive duration"},
		{"no block in Corefile", []string{"plan", "-zone", "example.org", "-corefile", corefile, "-until", "+1d", "-out", out}, "no livesign block for example.org."},
		{"overlapping keys", []string{"plan", "-zone", "example.org", "-keys", gap, "-until", "+60d", "-out", out}, "active periods must follow each other"},
		{"retire-old, one algorithm", []string{"plan", "-zone", "example.org", "-keys", dir, "-until", "+1d", "-out", out, "-retire-old", "+1d"}, "have one algorithm: there is no old one to retire"},
		{"retire-old, bad time", []string{"plan", "-zone", "example.org", "-keys", dir, "-until", "+1d", "-out", out, "-retire-old", "soon"}, "-retire-old: time \"soon\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := livesign(t, tc.args...)
			if code != 1 || !strings.Contains(stderr, tc.want) || !strings.HasPrefix(stderr, "livesign: ") {
				t.Errorf("exit %d, stderr:\n%s\nwant %q", code, stderr, tc.want)
			}
		})
	}
}

// TestSignKSRFixtures signs the BIND and Knot fixture KSRs and checks the
// slots against the SKRs those tools made from them.
func TestSignKSRFixtures(t *testing.T) {
	fixedClock(t)
	knotKSK := t.TempDir()
	mustRun(t, "keygen", "-zone", "example.com", "-ksk", "-dir", knotKSK) // Created 2026-12-01: give it an earlier start
	kp, err := keystore.ReadKeys(knotKSK, keystore.Selection{Zone: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := keystore.ReadKey(kp[0].Base)
	if err != nil {
		t.Fatal(err)
	}
	k.Timers.Created = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if _, err := keystore.WriteKey(knotKSK, k); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ksr, skr, ksk, end string
	}{
		{"BIND 9.20", td("bind920", "example.org.ksr"), td("bind920", "example.org.skr"), copyDir(t, td("bind920", "ksk-offline")), "20270501000000"},
		{"Knot 3.2", td("knot", "example.com.ksr"), td("knot", "example.com.skr"), knotKSK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.skr")
			args := []string{"sign-ksr", "-ksk", tc.ksk, "-ksr", tc.ksr, "-out", out}
			if tc.end != "" {
				args = append(args, "-end", tc.end)
			}
			code, _, stderr := livesign(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			heads := regexp.MustCompile(`(?m)^;; SignedKeyResponse 1\.0 (\d+) `)
			got, want := heads.FindAllStringSubmatch(string(mustRead(t, out)), -1), heads.FindAllStringSubmatch(string(mustRead(t, tc.skr)), -1)
			if len(got) != len(want) {
				t.Fatalf("%d slots, the tool made %d", len(got), len(want))
			}
			for i := range got {
				if got[i][1] != want[i][1] {
					t.Errorf("slot %d at %s, the tool's at %s", i+1, got[i][1], want[i][1])
				}
			}
		})
	}
}

func TestSignKSRErrors(t *testing.T) {
	fixedClock(t)
	dir := t.TempDir()
	ksk := copyDir(t, td("bind920", "ksk-offline"))
	out := filepath.Join(dir, "x.skr")
	trunc := filepath.Join(dir, "trunc.ksr")
	os.WriteFile(trunc, mustRead(t, td("bind920", "example.org.ksr"))[:400], 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing flags", []string{"sign-ksr", "-ksk", ksk}, "-ksk, -ksr and -out are required"},
		{"bad validity", []string{"sign-ksr", "-ksk", ksk, "-ksr", "x", "-out", out, "-validity", "0"}, "-validity \"0\": give a positive duration"},
		{"missing KSR", []string{"sign-ksr", "-ksk", ksk, "-ksr", filepath.Join(dir, "none.ksr"), "-out", out}, "no such file"},
		{"truncated KSR", []string{"sign-ksr", "-ksk", ksk, "-ksr", trunc, "-out", out}, "the KSR is truncated"},
		{"an SKR instead of a KSR", []string{"sign-ksr", "-ksk", ksk, "-ksr", td("bind920", "example.org.skr"), "-out", out}, "this is an SKR"},
		{"no KSK for the zone", []string{"sign-ksr", "-ksk", ksk, "-ksr", td("knot", "example.com.ksr"), "-out", out}, "no KSK of example.com. in"},
		{"refresh longer than validity", []string{"sign-ksr", "-ksk", ksk, "-ksr", td("bind920", "example.org.ksr"), "-out", out, "-refresh", "20d"}, "must exceed the refresh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := livesign(t, tc.args...)
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant %q", code, stderr, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an SKR was written")
			}
		})
	}
}

// osWriteFile writes s to path (mode 0644).
func osWriteFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }
