package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// algrollChecks are the livesign check instants of the tool-made algorithm
// rolls (see testdata/algroll/README.md for the plan).
var algrollChecks = []string{"2027-01-01T00:00:00Z", "2027-02-03T00:00:00Z", "2027-02-05T00:00:00Z", "2027-02-20T00:00:00Z", "2027-03-01T00:00:00Z", "2027-03-15T00:00:00Z", "2027-03-31T12:00:00Z"}

// TestBINDAlgrollInterop runs BIND 9.20's algorithm roll of
// testdata/algroll/bind920 (its policy.conf, the commands of its README) and
// loads the SKR as the plugin does.
func TestBINDAlgrollInterop(t *testing.T) {
	bin := bind920(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "policy.conf"), mustRead(t, td("algroll", "bind920", "policy.conf")), 0o644)
	os.Mkdir(filepath.Join(dir, "ksk"), 0o700)
	os.Mkdir(filepath.Join(dir, "zsk"), 0o700)
	ksr, keygen := filepath.Join(bin, "dnssec-ksr"), filepath.Join(bin, "dnssec-keygen")
	tool(t, dir, ksr, "-l", "policy.conf", "-k", "old", "-K", "zsk", "-i", "20270101000000", "-e", "20270301000000", "keygen", "example.org")
	tool(t, dir, ksr, "-l", "policy.conf", "-k", "new", "-K", "zsk", "-i", "20270201000000", "-e", "20270401000000", "keygen", "example.org")
	old := strings.TrimSpace(tool(t, dir, keygen, "-l", "policy.conf", "-k", "old", "-f", "KSK", "-K", "ksk", "-P", "20261201000000", "-A", "20261201000000", "-I", "20270301000000", "-D", "20270301000000", "example.org"))
	nw := strings.TrimSpace(tool(t, dir, keygen, "-l", "policy.conf", "-k", "new", "-f", "KSK", "-K", "ksk", "-P", "20270205000000", "-A", "20270205000000", "example.org"))
	tool(t, dir, filepath.Join(bin, "dnssec-settime"), "-K", "ksk", "-D", "sync", "20270206000000", old)
	tool(t, dir, filepath.Join(bin, "dnssec-settime"), "-K", "ksk", "-P", "sync", "20270206000000", nw)
	var req strings.Builder
	for _, p := range [][3]string{{"old", "20270101000000", "20270204235959"}, {"roll", "20270205000000", "20270228235959"}, {"new", "20270301000000", "20270401000000"}} {
		req.WriteString(tool(t, dir, ksr, "-l", "policy.conf", "-k", p[0], "-K", "zsk", "-i", p[1], "-e", p[2], "request", "example.org"))
	}
	os.WriteFile(filepath.Join(dir, "example.org.ksr"), []byte(req.String()), 0o644)
	skr := tool(t, dir, ksr, "-l", "policy.conf", "-k", "roll", "-K", "ksk", "-f", "example.org.ksr", "-i", "20270101000000", "-e", "20270401000000", "sign", "example.org")
	os.WriteFile(filepath.Join(dir, "example.org.skr"), []byte(skr), 0o644)
	ds := tool(t, dir, filepath.Join(bin, "dnssec-dsfromkey"), "-2", filepath.Join("ksk", old+".key")) +
		tool(t, dir, filepath.Join(bin, "dnssec-dsfromkey"), "-2", filepath.Join("ksk", nw+".key"))
	os.WriteFile(filepath.Join(dir, "ksk.ds"), []byte(ds), 0o644)
	algrollServe(t, "example.org", filepath.Join(dir, "zsk"), filepath.Join(dir, "example.org.skr"), filepath.Join(dir, "ksk.ds"),
		time.Date(2027, 2, 3, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC), algrollChecks)
}

// TestKnotAlgrollInterop runs Knot 3.2's algorithm roll of
// testdata/algroll/knot (its configurations, the commands of its README),
// exports the ZSKs from the KASP database and loads the SKR as the plugin
// does.
func TestKnotAlgrollInterop(t *testing.T) {
	keymgr := needTool(t, "keymgr")
	dir := t.TempDir()
	for _, side := range []string{"zsk", "ksk"} {
		os.Mkdir(filepath.Join(dir, "kasp-"+side+"-side"), 0o700)
		conf := string(mustRead(t, td("algroll", "knot", side+"-side.conf")))
		conf = strings.Replace(conf, `"./kasp-`, `"`+dir+`/kasp-`, 1)
		if side == "zsk" {
			conf = strings.Replace(conf, "algorithm: ed25519", "algorithm: ecdsap256sha256", 1)
		}
		os.WriteFile(filepath.Join(dir, side+"-side.conf"), []byte(conf), 0o644)
	}
	z := func(args ...string) string {
		return tool(t, dir, keymgr, append([]string{"-c", "zsk-side.conf", "example.com."}, args...)...)
	}
	k := func(args ...string) string {
		return tool(t, dir, keymgr, append([]string{"-c", "ksk-side.conf", "example.com."}, args...)...)
	}
	z("pregenerate", "20270101000000", "20270201000000")
	var last string
	for _, line := range strings.Split(z("list", "-e"), "\n") {
		if strings.Contains(line, " algorithm=13 ") && strings.HasSuffix(strings.TrimSpace(line), "remove=0") {
			last = strings.Fields(line)[0]
		}
	}
	if last == "" {
		t.Fatalf("pregenerate left no open-ended ECDSA ZSK:\n%s", z("list", "-e"))
	}
	z("set", last, "post_active=20270301000000")
	z("generate", "algorithm=ed25519", "ksk=no", "zsk=yes", "pre_active=20270201000000", "publish=20270205000000", "active=20270205000000")
	conf := filepath.Join(dir, "zsk-side.conf")
	os.WriteFile(conf, []byte(strings.Replace(string(mustRead(t, conf)), "algorithm: ecdsap256sha256", "algorithm: ed25519", 1)), 0o644)
	z("pregenerate", "20270205000000", "20270401000000")
	k("generate", "algorithm=ecdsap256sha256", "ksk=yes", "zsk=no", "publish=20261201000000", "active=20261201000000", "post_active=20270301000000", "remove=20270301010500")
	k("generate", "algorithm=ed25519", "ksk=yes", "zsk=no", "publish=20270205000000", "ready=20270206000000", "active=20270301000000")
	os.WriteFile(filepath.Join(dir, "example.com.ksr"), []byte(z("generate-ksr", "20270101000000", "20270401000000")), 0o644)
	skr := filepath.Join(dir, "example.com.skr")
	os.WriteFile(skr, []byte(k("sign-ksr", "example.com.ksr")), 0o644)
	if out := z("validate-skr", "example.com.skr"); strings.Contains(out, "error") {
		t.Fatalf("keymgr validate-skr: %s", out)
	}
	z("import-skr", "example.com.skr")
	os.WriteFile(filepath.Join(dir, "ksk.ds"), []byte(k("ds")), 0o644)
	zskDir := filepath.Join(dir, "zsk")
	knotExportZSKs(t, keymgr, conf, filepath.Join(dir, "kasp-zsk-side", "keys", "keys"), "example.com", zskDir)
	algrollServe(t, "example.com", zskDir, skr, filepath.Join(dir, "ksk.ds"),
		time.Date(2027, 2, 3, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 3, 0, 0, 0, 0, time.UTC), algrollChecks)
}
