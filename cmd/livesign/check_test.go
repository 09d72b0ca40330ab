package main

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	fixedClock(t)
	bindZSK := copyDir(t, td("bind920", "zsk"))
	ldnsZSK := copyDir(t, td("ldns-classic", "zsk"))
	empty := t.TempDir()
	extraZSK := copyDir(t, td("bind920", "zsk"))
	mustRun(t, "keygen", "-zone", "example.org", "-zsk", "-dir", extraZSK)
	const at = "2026-12-01T00:00:00Z"
	bad := func(name string) []string {
		return []string{"check", "-keys", ldnsZSK, "-bundle", td("bad", name), "-trust-anchor", td("ldns-classic", "ksk.ds"), "-zone", "example.net", "-at", at}
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // substrings
		stderr string
	}{
		{"BIND 9.20 SKR with its ZSKs", []string{"check", "-keys", bindZSK, "-bundle", td("bind920", "example.org.skr"), "-trust-anchor", td("bind920", "ksk.ds"), "-at", at}, 0,
			[]string{"zone example.org., bundle", "(SKR, 31 slots), checked at 2026-12-01T00:00:00Z", "5 (in force)  2026-11-30T21:55:00Z  17577Z 29929K 31067Z", "17577, 7181 from 2026-12-31T00:00:00Z",
				"ZSK    CREATED", "signing at 2026-12-01T00:00:00Z: ZSK 17577", "coverage: 165d 0h (until 2027-05-15T00:00:00Z)", "OK"}, ""},
		{"Knot SKR without keys", []string{"check", "-bundle", td("knot", "example.com.skr"), "-trust-anchor", td("knot", "ksk.ds"), "-at", "20261201000000"}, 0,
			[]string{"(SKR, 38 slots)", "38            2027-05-01T00:00:00Z  23546Z 36385K", "coverage: 165d 0h", "OK"}, ""},
		{"classic bundle", []string{"check", "-keys", ldnsZSK, "-bundle", td("ldns-classic", "bundle.zone"), "-at", at}, 0,
			[]string{"single signed DNSKEY RRset", "warning: no -trust-anchor", "signing at 2026-12-01T00:00:00Z: ZSK 44013", "OK"}, ""},
		{"coverage below warn-coverage", []string{"check", "-keys", bindZSK, "-bundle", td("bind920", "example.org.skr"), "-at", "2027-05-05T00:00:00Z"}, 2,
			[]string{"coverage: 10d 0h"}, "livesign: check: warning: the bundle covers only 10d 0h (until 2027-05-15T00:00:00Z), less than -warn-coverage 14d: run livesign plan"},
		{"coverage over", []string{"check", "-keys", bindZSK, "-bundle", td("bind920", "example.org.skr"), "-at", "+200d"}, 1,
			nil, "the bundle's last signatures expired at 2027-05-15T00:00:00Z: sign a new SKR"},
		{"no ZSK in the keys directory", []string{"check", "-keys", empty, "-bundle", td("bind920", "example.org.skr"), "-at", at}, 1,
			nil, "no ZSK of example.org. in"},
		{"anchor of another zone", []string{"check", "-keys", ldnsZSK, "-bundle", td("ldns-classic", "bundle.zone"), "-at", at, "-trust-anchor", td("bind920", "ksk.ds")}, 1,
			nil, "the trust anchor must be the DS or DNSKEY of example.net.'s KSK"},
		{"ZSK timers disagree with the SKR", []string{"check", "-keys", extraZSK, "-bundle", td("bind920", "example.org.skr"), "-at", at}, 0,
			[]string{"note: ZSK ", "is published by its timers from 2026-12-01T00:00:00Z but the signed DNSKEY set of slot 5 (2026-11-30T21:55:00Z) lacks it", "OK"}, ""},
		{"tampered RRSIG", bad("tampered-rrsig.zone"), 1, nil, "does not verify over the DNSKEY set"},
		{"foreign KSK", bad("foreign-ksk.zone"), 1, nil, "which the trust anchor in"},
		{"expired", bad("expired.zone"), 1, nil, "expired at 2020-02-01T00:00:00Z"},
		{"missing ZSK", bad("missing-zsk.zone"), 1, nil, "ZSK 44013 from the keys directory is not in the bundle"},
		{"truncated SKR", bad("truncated.skr"), 1, nil, "truncated.skr"},
		{"garbage", bad("garbage.bundle"), 1, nil, "garbage.bundle"},
		{"empty", bad("empty.bundle"), 1, nil, "empty.bundle is empty"},
		{"bad -at", []string{"check", "-bundle", td("knot", "example.com.skr"), "-at", "tomorrow"}, 1, nil, "-at: time \"tomorrow\": give YYYYMMDDHHMMSS"},
		{"no -bundle", []string{"check"}, 1, nil, "-bundle is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := livesign(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			for _, want := range tc.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct{ in, want string }{
		{"20261201000000", "2026-12-01T00:00:00Z"},
		{"2026-12-01T01:00:00+01:00", "2026-12-01T00:00:00Z"},
		{"+1d", "2026-12-02T00:00:00Z"},
		{"-1h", "2026-11-30T23:00:00Z"},
		{"now", "2026-12-01T00:00:00Z"},
		{"2026-13-01", ""},
		{"20261301000000", ""},
	}
	for _, tc := range tests {
		got, err := parseTime(tc.in, testNow)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%q: no error", tc.in)
		case tc.want != "" && (err != nil || stamp(got) != tc.want):
			t.Errorf("%q: %v %v, want %s", tc.in, stamp(got), err, tc.want)
		}
	}
}
