package test

// End-to-end tests of the offline-KSK ceremony with Key Signing Requests and
// Signed Key Responses (issue 6 §4): every KSR, SKR and key is generated at
// test time with the real tools (livesign's CLI, BIND 9.20 dnssec-ksr, Knot
// keymgr), served by CoreDNS in-process with livesign, and validated by
// unbound (AD and rcode), delv ("fully validated") and kresd (AD).

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
)

// skrBINDPolicy is the dnssec-policy both BIND 9.20 sides use: ZSK timing
// that matches livesign's defaults (dnskey-ttl 1h, propagation-delay 5m,
// max-zone-ttl 1d, publish/retire safety 1h, zsk-lifetime 30d).
const skrBINDPolicy = `dnssec-policy "ls" {
    offline-ksk yes;
    keys {
        ksk lifetime unlimited algorithm ecdsap256sha256;
        zsk lifetime 30d algorithm ecdsap256sha256;
    };
    dnskey-ttl 3600;
    max-zone-ttl 86400;
    zone-propagation-delay 300;
    publish-safety 3600;
    retire-safety 3600;
    signatures-validity-dnskey 14d;
    signatures-refresh 5d;
};
`

// skrStamp formats t as BIND's 14-digit UTC time.
func skrStamp(t time.Time) string { return t.UTC().Format("20060102150405") }

func skrRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// skrReplace puts data at path the way an operator should: write a
// temporary file next to it, then rename it over the old one.
func skrReplace(t *testing.T, path, data string) {
	t.Helper()
	tmp := path + ".new"
	skrWrite(t, tmp, data)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// skrBINDSetup writes policy.conf into dir and makes the ksk and zsk
// directories (0700, like an operator's).
func skrBINDSetup(t *testing.T) (bin, dir string) {
	t.Helper()
	bin = validators.BIND920(t)
	dir = t.TempDir()
	skrWrite(t, filepath.Join(dir, "policy.conf"), skrBINDPolicy)
	for _, d := range []string{"ksk", "zsk"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return bin, dir
}

// skrBINDKSK makes the offline KSK with BIND 9.20's dnssec-keygen in dir/ksk,
// published and active since two hours ago (a KSK whose Publish/Activate is
// later than a slot yields slots without RRSIG, DESIGN.md §2), and returns its
// DS (SHA-256) from dnssec-dsfromkey.
func skrBINDKSK(t *testing.T, bin, dir, zone string) string {
	t.Helper()
	run(t, dir, filepath.Join(bin, "dnssec-keygen"), "-l", "policy.conf", "-k", "ls", "-f", "KSK", "-K", "ksk", "-P", "-2h", "-A", "-2h", zone)
	keys, _ := filepath.Glob(filepath.Join(dir, "ksk", "K*.key"))
	if len(keys) != 1 {
		t.Fatalf("want one KSK, found %v", keys)
	}
	return run(t, dir, filepath.Join(bin, "dnssec-dsfromkey"), "-2", keys[0])
}

// skrBINDZSKSide runs BIND 9.20's ZSK side in dir/zsk: dnssec-ksr keygen
// pre-generates the ZSKs from an hour ago to 40 days ahead, dnssec-ksr
// request writes the KSR. It returns the KSR path and the -i/-e times.
func skrBINDZSKSide(t *testing.T, bin, dir, zone string) (ksr, i, e string) {
	t.Helper()
	now := time.Now()
	i, e = skrStamp(now.Add(-time.Hour)), skrStamp(now.Add(40*24*time.Hour))
	ksrTool := filepath.Join(bin, "dnssec-ksr")
	run(t, dir, ksrTool, "-l", "policy.conf", "-k", "ls", "-K", "zsk", "-i", i, "-e", e, "keygen", zone)
	ksr = filepath.Join(dir, zone+".ksr")
	skrWrite(t, ksr, run(t, dir, ksrTool, "-l", "policy.conf", "-k", "ls", "-K", "zsk", "-i", i, "-e", e, "request", zone))
	privs, _ := filepath.Glob(filepath.Join(dir, "zsk", "*.private"))
	if len(privs) < 2 {
		t.Fatalf("dnssec-ksr keygen made %d ZSKs, want a rollover's worth (>= 2)", len(privs))
	}
	for _, p := range privs {
		os.Chmod(p, 0o600) // livesign refuses group/world-readable private keys
	}
	return ksr, i, e
}

var (
	skrBINDKSRHeader = regexp.MustCompile(`(?m)^;; KeySigningRequest 1\.0 (\d{14}) \(`)
	skrBINDSKRHeader = regexp.MustCompile(`(?m)^;; SignedKeyResponse 1\.0 \d{14} \(`)
	skrKnotSKRHeader = regexp.MustCompile(`(?m)^;; SignedKeyResponse 1\.0 \d{10} \(\d{4}-\d\d-\d\dT[0-9:]+Z\) =+$`)
)

// skrCheck runs livesign check on what the server loads; it must pass.
func skrCheck(t *testing.T, kf keyFiles) {
	t.Helper()
	anchor := filepath.Join(t.TempDir(), "anchor.ds")
	skrWrite(t, anchor, kf.anchor)
	if code, out := skrRunCode(t, "", livesignCLI(t), "check", "-keys", kf.keys, "-bundle", kf.bundle, "-trust-anchor", anchor); code != 0 || !strings.Contains(out, "OK") {
		t.Errorf("livesign check: exit %d\n%s", code, out)
	}
}

// TestEndToEndSKRLivesign: the ceremony with livesign alone: keygen -ksk on
// the offline side, plan -> KSR on the server, sign-ksr -> SKR offline, ds
// for the parent; livesign serves the SKR.
func TestEndToEndSKRLivesign(t *testing.T) {
	const zone = "lsskr.test"
	bin, dir := livesignCLI(t), t.TempDir()
	run(t, dir, bin, "keygen", "-zone", zone, "-ksk", "-dir", "ksk")
	run(t, dir, bin, "plan", "-zone", zone, "-keys", "zsk", "-until", "+90d", "-out", zone+".ksr")
	run(t, dir, bin, "sign-ksr", "-ksk", "ksk", "-ksr", zone+".ksr", "-out", zone+".skr")
	anchor := run(t, dir, bin, "ds", firstGlob(t, filepath.Join(dir, "ksk", "K*.key")))
	kf := keyFiles{keys: filepath.Join(dir, "zsk"), bundle: filepath.Join(dir, zone+".skr"), anchor: anchor}
	if !skrBINDSKRHeader.MatchString(skrRead(t, kf.bundle)) {
		t.Fatalf("sign-ksr's SKR is not in BIND's layout:\n%.300s", skrRead(t, kf.bundle))
	}
	skrCheck(t, kf)
	skrValidate(t, zone, startServer(t, zone, kf), anchor)
}

// TestEndToEndSKRBIND920: BIND 9.20 on both sides. ZSK side: dnssec-ksr
// keygen + request; KSK side: dnssec-keygen + dnssec-ksr sign. livesign
// serves with BIND's ZSK key files (.key/.private/.state) and BIND's SKR.
func TestEndToEndSKRBIND920(t *testing.T) {
	const zone = "bindskr.test"
	bin, dir := skrBINDSetup(t)
	anchor := skrBINDKSK(t, bin, dir, zone)
	ksr, i, e := skrBINDZSKSide(t, bin, dir, zone)
	skr := run(t, dir, filepath.Join(bin, "dnssec-ksr"), "-l", "policy.conf", "-k", "ls", "-K", "ksk", "-f", ksr, "-i", i, "-e", e, "sign", zone)
	if n := len(skrBINDSKRHeader.FindAllString(skr, -1)); n < 2 {
		t.Fatalf("dnssec-ksr sign made %d slots:\n%s", n, skr)
	}
	kf := keyFiles{keys: filepath.Join(dir, "zsk"), bundle: filepath.Join(dir, zone+".skr"), anchor: anchor}
	skrWrite(t, kf.bundle, skr)
	skrCheck(t, kf)
	skrValidate(t, zone, startServer(t, zone, kf), anchor)
}

// TestEndToEndSKRPlanBIND: livesign plan -> KSR -> BIND 9.20 dnssec-ksr sign
// -> SKR -> livesign serves it.
func TestEndToEndSKRPlanBIND(t *testing.T) {
	const zone = "planbind.test"
	bin, dir := skrBINDSetup(t)
	anchor := skrBINDKSK(t, bin, dir, zone)
	run(t, dir, livesignCLI(t), "plan", "-zone", zone, "-keys", "zsk", "-until", "+90d", "-out", zone+".ksr")
	heads := skrBINDKSRHeader.FindAllStringSubmatch(skrRead(t, filepath.Join(dir, zone+".ksr")), -1)
	if len(heads) < 2 {
		t.Fatalf("livesign plan wrote %d KSR slots in BIND layout", len(heads))
	}
	first, last := heads[0][1], heads[len(heads)-1][1]
	skr := run(t, dir, filepath.Join(bin, "dnssec-ksr"), "-l", "policy.conf", "-k", "ls", "-K", "ksk", "-f", zone+".ksr", "-i", first, "-e", last, "sign", zone)
	kf := keyFiles{keys: filepath.Join(dir, "zsk"), bundle: filepath.Join(dir, zone+".skr"), anchor: anchor}
	skrWrite(t, kf.bundle, skr)
	skrCheck(t, kf)
	skrValidate(t, zone, startServer(t, zone, kf), anchor)
}

// TestEndToEndSKRPlanKnot: the KSK lives in Knot's KASP database (keymgr
// generate); livesign plan -format knot -> KSR -> keymgr sign-ksr -> SKR ->
// livesign serves it; the trust anchor is keymgr's own DS.
func TestEndToEndSKRPlanKnot(t *testing.T) {
	const zone = "planknot.test"
	keymgr := validators.Keymgr(t)
	dir := t.TempDir()
	conf := validators.KnotConfig(t, dir, zone)
	run(t, dir, keymgr, "-c", conf, zone+".", "generate", "ksk=yes", "algorithm=ecdsap256sha256")
	anchor := keymgrDS(t, keymgr, dir, conf, zone)
	run(t, dir, livesignCLI(t), "plan", "-zone", zone, "-keys", "zsk", "-until", "+90d", "-out", zone+".ksr", "-format", "knot")
	skr := run(t, dir, keymgr, "-c", conf, zone+".", "sign-ksr", zone+".ksr")
	if n := len(skrKnotSKRHeader.FindAllString(skr, -1)); n < 2 {
		t.Fatalf("keymgr sign-ksr made %d slots in Knot layout:\n%.600s", n, skr)
	}
	kf := keyFiles{keys: filepath.Join(dir, "zsk"), bundle: filepath.Join(dir, zone+".skr"), anchor: anchor}
	skrWrite(t, kf.bundle, skr)
	skrCheck(t, kf)
	skrValidate(t, zone, startServer(t, zone, kf), anchor)
}

// TestEndToEndSKRSignKSR: livesign sign-ksr is the offline side for the
// other tools' KSRs.
func TestEndToEndSKRSignKSR(t *testing.T) {
	// Knot's ZSK side (keymgr pregenerate + generate-ksr) -> livesign
	// sign-ksr -> SKR in Knot's layout, which keymgr validate-skr and
	// import-skr accept.
	t.Run("knot", func(t *testing.T) {
		const zone = "knotksr.test"
		keymgr := validators.Keymgr(t)
		dir := t.TempDir()
		conf := validators.KnotConfig(t, dir, zone)
		bin := livesignCLI(t)
		run(t, dir, bin, "keygen", "-zone", zone, "-ksk", "-dir", "ksk")
		run(t, dir, keymgr, "-c", conf, zone+".", "pregenerate", "+90d")
		skrWrite(t, filepath.Join(dir, zone+".ksr"), run(t, dir, keymgr, "-c", conf, zone+".", "generate-ksr", "+0", "+90d"))
		run(t, dir, bin, "sign-ksr", "-ksk", "ksk", "-ksr", zone+".ksr", "-out", zone+".skr")
		skr := skrRead(t, filepath.Join(dir, zone+".skr"))
		if !skrKnotSKRHeader.MatchString(skr) || skrBINDSKRHeader.MatchString(skr) {
			t.Fatalf("livesign's answer to a Knot KSR is not in Knot's layout:\n%.400s", skr)
		}
		// keymgr 3.2 validate-skr exits 0 even when it finds a bad signature: read its output too.
		if code, out := skrRunCode(t, dir, keymgr, "-c", conf, zone+".", "validate-skr", zone+".skr"); code != 0 || !strings.Contains(out, "OK") || strings.Contains(out, "error") || strings.Contains(out, "invalid") {
			t.Fatalf("keymgr validate-skr: exit %d\n%s", code, out)
		}
		if code, out := skrRunCode(t, dir, keymgr, "-c", conf, zone+".", "import-skr", zone+".skr"); code != 0 || !strings.Contains(out, "OK") || strings.Contains(out, "error") || strings.Contains(out, "invalid") {
			t.Fatalf("keymgr import-skr: exit %d\n%s", code, out)
		}
		// What keymgr imported is livesign's signature over Knot's ZSK.
		kskTag := regexp.MustCompile(`\+013\+0*(\d+)\.key$`).FindStringSubmatch(firstGlob(t, filepath.Join(dir, "ksk", "K*.key")))[1]
		if out := run(t, dir, keymgr, "-c", conf, zone+".", "show-offline", "+1d"); !strings.Contains(out, "RRSIG") || !strings.Contains(out, " "+kskTag+" "+zone+".") {
			t.Errorf("keymgr show-offline after import-skr lacks the RRSIG by KSK %s:\n%s", kskTag, out)
		}
	})

	// BIND 9.20's ZSK side (dnssec-ksr keygen + request) -> livesign
	// sign-ksr -> SKR in BIND's layout. BIND 9.20 has no offline SKR parser:
	// dnssec-ksr has no verify command, and the SKR is read only by
	// `rndc skr -import` into a running named with an offline-ksk policy,
	// which the test tools (BIND 9.20's utilities from bookworm-backports,
	// no named) do not include. So BIND's zone-file parser checks it
	// (named-checkzone 9.20 loads every slot's DNSKEY, CDNSKEY, CDS and
	// RRSIG records), and livesign serves it with BIND's ZSK files to the
	// validators.
	t.Run("bind", func(t *testing.T) {
		const zone = "bindksr.test"
		bin, dir := skrBINDSetup(t)
		anchor := skrBINDKSK(t, bin, dir, zone)
		ksr, _, e := skrBINDZSKSide(t, bin, dir, zone)
		kf := keyFiles{keys: filepath.Join(dir, "zsk"), bundle: filepath.Join(dir, zone+".skr"), anchor: anchor}
		run(t, dir, livesignCLI(t), "sign-ksr", "-ksk", "ksk", "-ksr", ksr, "-out", kf.bundle, "-end", e)
		skr := skrRead(t, kf.bundle)
		if !skrBINDSKRHeader.MatchString(skr) {
			t.Fatalf("livesign's answer to a BIND KSR is not in BIND's layout:\n%.400s", skr)
		}
		slots := skrSlots(skr)
		if len(slots) < 2 {
			t.Fatalf("%d slots in\n%s", len(slots), skr)
		}
		for n, slot := range slots {
			f := filepath.Join(dir, "slot.zone")
			skrWrite(t, f, "$TTL 3600\n"+zone+". IN SOA ns1."+zone+". hostmaster."+zone+". 1 3600 600 864000 300\n"+zone+". IN NS ns1."+zone+".\nns1."+zone+". IN A 192.0.2.1\n"+slot)
			code, out := skrRunCode(t, dir, filepath.Join(bin, "named-checkzone"), "-i", "none", "-D", "-o", "-", zone, f)
			if code != 0 {
				t.Fatalf("named-checkzone refuses slot %d of livesign's SKR: exit %d\n%s\n%s", n+1, code, out, slot)
			}
			for _, want := range []string{"IN DNSKEY\t257 3 13 ", "IN DNSKEY\t256 3 13 ", "IN RRSIG\tDNSKEY 13 2 3600 ", "IN CDS\t", "IN CDNSKEY\t", "IN RRSIG\tCDS ", "IN RRSIG\tCDNSKEY "} {
				if !strings.Contains(out, want) {
					t.Errorf("named-checkzone's dump of slot %d lacks %q:\n%s", n+1, want, out)
				}
			}
		}
		skrCheck(t, kf)
		skrValidate(t, zone, startServer(t, zone, kf), anchor)
	})
}

// skrSlots splits an SKR's text into its slots' RR lines (the footer, a
// header line without records, is dropped).
func skrSlots(skr string) []string {
	var slots []string
	for _, part := range strings.Split(skr, ";; SignedKeyResponse 1.0 ")[1:] {
		if _, rest, ok := strings.Cut(part, "\n"); ok && strings.TrimSpace(rest) != "" {
			slots = append(slots, rest)
		}
	}
	return slots
}

// skrDNSKEYSigs returns the signatures (base64) of the RRSIGs over DNSKEY in an SKR.
func skrDNSKEYSigs(t *testing.T, skr string) map[string]bool {
	t.Helper()
	sigs := map[string]bool{}
	zp := dns.NewZoneParser(strings.NewReader(skr), "", "skr")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if s, isSig := rr.(*dns.RRSIG); isSig && s.TypeCovered == dns.TypeDNSKEY {
			sigs[s.Signature] = true
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return sigs
}

// TestEndToEndSKRHotReload replaces the SKR under a server polling it every
// 200ms: garbage, an SKR signed by a foreign KSK and an expired SKR are each
// rejected (counted in coredns_livesign_reloads_total{result="rejected"})
// while the old SKR keeps serving validated answers; a newer SKR from the
// same KSK is served within a few reload periods and validates.
//
// Everything comes from the tools: the KSKs from dnssec-keygen with timers
// 40 days back, the ZSKs and KSR from livesign plan -now -20d (so the key
// history reaches into the past without a ZSK switch near now), the SKRs
// from livesign sign-ksr. The expired SKR is sign-ksr's answer to the KSR's
// first key event alone, signed up to -end -15d with -validity 2d: its last
// RRSIG expired 13 days ago.
func TestEndToEndSKRHotReload(t *testing.T) {
	const zone = "hotskr.test"
	for _, tool := range []string{"dnssec-keygen"} {
		validators.Require(t, tool)
	}
	bin, dir := livesignCLI(t), t.TempDir()
	for _, d := range []string{"ksk", "foreign"} {
		os.Mkdir(filepath.Join(dir, d), 0o700)
		run(t, dir, "dnssec-keygen", "-q", "-f", "KSK", "-a", "ECDSAP256SHA256", "-K", d, "-P", "-40d", "-A", "-40d", zone)
	}
	anchor := run(t, dir, bin, "ds", firstGlob(t, filepath.Join(dir, "ksk", "K*.key")))
	run(t, dir, bin, "plan", "-zone", zone, "-keys", "zsk", "-now", "-20d", "-until", "+80d", "-out", "h.ksr")
	ksr := skrRead(t, filepath.Join(dir, "h.ksr"))
	if heads := skrBINDKSRHeader.FindAllStringIndex(ksr, -1); len(heads) < 2 {
		t.Fatalf("KSR with %d slots", len(heads))
	} else {
		footer := ksr[strings.LastIndex(strings.TrimRight(ksr, "\n"), "\n")+1:]
		skrWrite(t, filepath.Join(dir, "first.ksr"), ksr[:heads[1][0]]+footer)
	}
	run(t, dir, bin, "sign-ksr", "-ksk", "ksk", "-ksr", "h.ksr", "-out", "serving.skr")
	run(t, dir, bin, "sign-ksr", "-ksk", "ksk", "-ksr", "h.ksr", "-out", "newer.skr", "-validity", "20d", "-refresh", "6d")
	run(t, dir, bin, "sign-ksr", "-ksk", "foreign", "-ksr", "h.ksr", "-out", "foreign.skr")
	run(t, dir, bin, "sign-ksr", "-ksk", "ksk", "-ksr", "first.ksr", "-out", "expired.skr", "-end", "-15d", "-validity", "2d", "-refresh", "1d")

	kf := keyFiles{keys: filepath.Join(dir, "zsk"), bundle: filepath.Join(dir, zone+".skr"), anchor: anchor}
	skrWrite(t, kf.bundle, skrRead(t, filepath.Join(dir, "serving.skr")))
	skrCheck(t, kf)
	server := startServer(t, zone, kf, "", "reload 200ms")
	u := validators.StartUnbound(t, zone+".", server, anchor)
	if m := u.Query(t, "www."+zone+".", dns.TypeA); !m.AuthenticatedData {
		t.Fatalf("the first SKR does not validate\n%s", m)
	}
	orig := dnskeySig(t, server, zone+".")

	anchorFile := filepath.Join(dir, "anchor.ds")
	skrWrite(t, anchorFile, anchor)
	bads := []struct{ name, file, reason string }{
		{"garbage", "", ""},
		{"foreign KSK", "foreign.skr", "which the trust anchor in"},
		{"expired", "expired.skr", "expired"},
	}
	for _, b := range bads {
		data := "this is not an SKR\n"
		if b.file != "" {
			data = skrRead(t, filepath.Join(dir, b.file))
			// livesign check names the reason the server rejects it for.
			if code, out := skrRunCode(t, dir, bin, "check", "-keys", kf.keys, "-bundle", b.file, "-trust-anchor", anchorFile); code == 0 || !strings.Contains(out, b.reason) {
				t.Errorf("%s: livesign check exit %d, want non-zero saying %q:\n%s", b.name, code, b.reason, out)
			}
		}
		rejected := reloadCount(t, zone+".", "rejected")
		skrReplace(t, kf.bundle, data)
		deadline := time.Now().Add(3 * time.Second)
		for reloadCount(t, zone+".", "rejected") == rejected {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not rejected within 3s (reload 200ms)", b.name)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got := dnskeySig(t, server, zone+"."); got != orig {
			t.Errorf("%s: replaced the good SKR: serving %s", b.name, got)
		}
		u.Flush(t)
		for _, q := range []struct {
			name  string
			qtype uint16
		}{{"www." + zone + ".", dns.TypeA}, {zone + ".", dns.TypeDNSKEY}, {"nope." + zone + ".", dns.TypeA}} {
			if m := u.Query(t, q.name, q.qtype); m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData {
				t.Errorf("%s: %s %s no longer validates\n%s", b.name, q.name, dns.TypeToString[q.qtype], m)
			}
		}
	}

	// The newer SKR (same KSK, 20-day RRSIGs) is served within a few periods.
	loaded := reloadCount(t, zone+".", "loaded")
	newer := skrRead(t, filepath.Join(dir, "newer.skr"))
	start := time.Now()
	skrReplace(t, kf.bundle, newer)
	var got string
	for got = dnskeySig(t, server, zone+"."); got == orig; got = dnskeySig(t, server, zone+".") {
		if time.Since(start) > 2*time.Second {
			t.Fatal("the newer SKR was not served within 2s (reload 200ms)")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("newer SKR served %v after the rename", time.Since(start).Round(10*time.Millisecond))
	if s, err := dns.NewRR(got); err != nil || !skrDNSKEYSigs(t, newer)[s.(*dns.RRSIG).Signature] {
		t.Errorf("served DNSKEY RRSIG is not one of the newer SKR's: %s (%v)", got, err)
	} else if s := s.(*dns.RRSIG); s.Expiration-s.Inception != uint32((20*24*time.Hour+time.Hour)/time.Second) {
		t.Errorf("served DNSKEY RRSIG %s..%s is not a 20-day one", dns.TimeToString(s.Inception), dns.TimeToString(s.Expiration))
	}
	if l := reloadCount(t, zone+".", "loaded"); l != loaded+1 {
		t.Errorf("reloads_total{result=loaded} went from %v to %v, want +1", loaded, l)
	}
	u.Flush(t)
	if m := u.Query(t, "www."+zone+".", dns.TypeA); !m.AuthenticatedData {
		t.Errorf("after the reload: not validated\n%s", m)
	}
	if ok, out := validators.Delv(t, server, zone+".", anchor, zone+".", dns.TypeDNSKEY); !ok {
		t.Errorf("delv DNSKEY after the reload: not validated\n%s", out)
	}
	k := validators.StartKresd(t, zone+".", server, anchor)
	if m := k.Query(t, zone+".", dns.TypeDNSKEY); !m.AuthenticatedData {
		t.Errorf("kresd DNSKEY after the reload: no AD\n%s\n%s", m, k.LogFor(m.Id))
	}
}
