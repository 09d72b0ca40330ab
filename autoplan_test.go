package livesign

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livesign/livesign/config"
	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// TestAutoPlanOnlineKSK: with an online KSK and auto-plan, an empty keys
// directory is fine: livesign generates the ZSKs for the horizon itself.
func TestAutoPlanOnlineKSK(t *testing.T) {
	g := newGen(t, "auto.example.")
	kskDir, keysDir := t.TempDir(), filepath.Join(t.TempDir(), "keys")
	if _, err := keystore.WriteKey(kskDir, g.KSK); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default("auto.example.")
	cfg.KSK, cfg.Keys, cfg.AutoPlan = kskDir, keysDir, 90*24*time.Hour
	now := t0
	l, err := New([]config.Config{cfg}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	// The online KSK publishes CDS and CDNSKEY for the parent, signed.
	ks, err := l.zones[0].Keys(now)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks.CDS) != 1 || len(ks.CDNSKEY) != 1 || len(ks.CDSSigs) != 1 || len(ks.CDNSKEYSig) != 1 {
		t.Fatalf("CDS %v CDNSKEY %v sigs %v %v: want one each", ks.CDS, ks.CDNSKEY, ks.CDSSigs, ks.CDNSKEYSig)
	}
	if err := ks.CDSSigs[0].(*dns.RRSIG).Verify(g.KSK.DNSKEY, ks.CDS); err != nil {
		t.Errorf("CDS RRSIG: %v", err)
	}
	if ds := g.KSK.DNSKEY.ToDS(dns.SHA256); !strings.EqualFold(ks.CDS[0].(*dns.CDS).Digest, ds.Digest) {
		t.Errorf("CDS %s is not the KSK's DS %s", ks.CDS[0], ds)
	}

	keys, err := keystore.ReadKeyDir(keysDir, cfg.Zone)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 3 {
		t.Fatalf("%d ZSKs for 90 days of 30-day lifetimes, want at least 3", len(keys))
	}
	for _, k := range keys {
		fi, err := os.Stat(k.Base + ".private")
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s.private: %v %v, want mode 0600", k.Base, fi.Mode(), err)
		}
		if k.Timers.Activate.IsZero() || k.Timers.Inactive.IsZero() || k.Timers.Delete.IsZero() {
			t.Errorf("ZSK %d without full timers: %+v", k.Tag(), k.Timers)
		}
	}
	if _, err := os.Stat(filepath.Join(keysDir, keystore.LockFile)); err != nil {
		t.Errorf("no lock file: %v", err)
	}
	// Every instant of the horizon has a signer, and the keys roll.
	tags := map[uint16]bool{}
	tl := l.zones[0].Timeline
	for at := now; at.Before(now.Add(90 * 24 * time.Hour)); at = at.Add(6 * time.Hour) {
		ks, err := tl.At(at)
		if err != nil {
			t.Fatalf("At(%s): %v", at, err)
		}
		tags[ks.Tag()] = true
	}
	if len(tags) < 3 {
		t.Errorf("%d signing ZSKs over 90 days, want 3", len(tags))
	}
	// Planning again changes nothing.
	before := dirState(t, keysDir)
	l.zones[0].nextPlan = time.Time{}
	l.zones[0].autoPlan(now)
	if after := dirState(t, keysDir); after != before {
		t.Errorf("a second auto-plan changed the keys directory:\n%s\n%s", before, after)
	}
}

// TestAutoPlanWritesKSR: with a bundle that covers less than the horizon,
// auto-plan writes the KSR the offline side must sign, holding the ZSK in
// use and its successors.
func TestAutoPlanWritesKSR(t *testing.T) {
	cfg := testConfig(t)
	cfg.AutoPlan = 400 * 24 * time.Hour // the fixture bundle ends 2027-11-01
	cfg.AutoPlanKSR = filepath.Join(t.TempDir(), "example.net.ksr")
	if _, err := New([]config.Config{cfg}, func() time.Time { return testNow }); err != nil {
		t.Fatal(err)
	}
	ksr, err := keystore.ReadKSR(cfg.AutoPlanKSR, cfg.Zone)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint16]bool{}
	for _, s := range ksr.Slots {
		for _, k := range s.DNSKEY {
			seen[k.KeyTag()] = true
		}
	}
	if !seen[44013] || len(seen) < 10 {
		t.Errorf("KSR keys %v: want ZSK 44013 and its successors for 400 days", seen)
	}
	if last := ksr.Slots[len(ksr.Slots)-1].Start; last.Before(testNow.Add(cfg.AutoPlan)) {
		t.Errorf("KSR ends %s, before the horizon", last)
	}

	// Within the horizon nothing is written.
	cfg.AutoPlan = 60 * 24 * time.Hour
	cfg.AutoPlanKSR = filepath.Join(t.TempDir(), "none.ksr")
	if _, err := New([]config.Config{cfg}, func() time.Time { return testNow }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cfg.AutoPlanKSR); !os.IsNotExist(err) {
		t.Errorf("KSR written although the bundle covers the horizon: %v", err)
	}
}

func dirState(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := ""
	for _, e := range entries {
		fi, _ := e.Info()
		s += e.Name() + " " + fi.ModTime().String() + "\n"
	}
	return s
}
