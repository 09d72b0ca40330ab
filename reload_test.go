package livesign

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/livesign/livesign/config"
	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
	dto "github.com/prometheus/client_model/go"
)

func gaugeValue(z string) float64 {
	var m dto.Metric
	if err := bundleCoverage.WithLabelValues(z).Write(&m); err != nil {
		panic(err)
	}
	return m.GetGauge().GetValue()
}

// resignedBundle signs the fixture's DNSKEY set again with the fixture KSK,
// valid [from, to).
func resignedBundle(t *testing.T, from, to time.Time) []byte {
	t.Helper()
	dir := copyKeys(t, "testdata/ldns-classic/ksk-offline")
	ksk, err := keystore.ReadKey(filepath.Join(dir, "Kexample.net.+013+41401"))
	if err != nil {
		t.Fatal(err)
	}
	zsk, err := keystore.ReadPublicKey("testdata/ldns-classic/zsk/Kexample.net.+013+44013.key")
	if err != nil {
		t.Fatal(err)
	}
	slot, err := keystore.SignDNSKEYs("example.net.", []*keystore.Key{ksk}, []*dns.DNSKEY{zsk.DNSKEY}, 3600, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return keystore.FormatSlot(slot)
}

func TestReload(t *testing.T) {
	cfg := testConfig(t)
	dir := t.TempDir()
	orig, err := os.ReadFile(cfg.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Bundle = filepath.Join(dir, "zone.bundle")
	if err := os.WriteFile(cfg.Bundle, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	now := testNow
	l, err := New([]config.Config{cfg}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	z := l.zones[0]
	sigOf := func() string {
		ks, err := z.Keys(now)
		if err != nil {
			t.Fatal(err)
		}
		return ks.DNSKEYSigs[0].String()
	}
	first := sigOf()
	rejected := func() float64 { return counterValue(reloads.WithLabelValues(z.Name, "rejected")) }
	loaded := func() float64 { return counterValue(reloads.WithLabelValues(z.Name, "loaded")) }

	l.poll()
	if loaded() != 0 || rejected() != 0 {
		t.Fatalf("unchanged files reloaded: loaded %v rejected %v", loaded(), rejected())
	}
	if got, want := gaugeValue(z.Name), time.Date(2027, 11, 1, 0, 0, 0, 0, time.UTC).Sub(now).Seconds(); got != want {
		t.Errorf("coverage gauge %v, want %v", got, want)
	}

	for _, bad := range []string{"garbage.bundle", "empty.bundle", "foreign-ksk.zone", "expired.zone", "tampered-rrsig.zone", "missing-zsk.zone", "truncated.skr"} {
		b, err := os.ReadFile(filepath.Join("testdata/bad", bad))
		if err != nil {
			t.Fatal(err)
		}
		before := rejected()
		if err := os.WriteFile(cfg.Bundle, b, 0o644); err != nil {
			t.Fatal(err)
		}
		l.poll()
		if rejected() != before+1 {
			t.Errorf("%s: not counted as rejected", bad)
		}
		if sigOf() != first {
			t.Errorf("%s replaced the good bundle", bad)
		}
		l.poll() // the same bad file again: no new rejection
		if rejected() != before+1 {
			t.Errorf("%s: rejected twice", bad)
		}
	}

	// A bundle installed before its start is refused, and taken once it
	// is valid: the same files are looked at again.
	early := resignedBundle(t, now.Add(time.Hour), now.Add(20*24*time.Hour))
	if err := os.WriteFile(cfg.Bundle, early, 0o644); err != nil {
		t.Fatal(err)
	}
	before := rejected()
	l.poll()
	if rejected() != before+1 || sigOf() != first {
		t.Fatalf("a bundle not valid yet was not refused")
	}
	now = now.Add(2 * time.Hour)
	l.poll()
	if loaded() != 1 || sigOf() == first {
		t.Fatalf("the early bundle was not loaded once valid (loaded %v)", loaded())
	}
	if z.nextEvent(now).Before(now) {
		t.Errorf("next event in the past")
	}

	fresh := resignedBundle(t, now.Add(-time.Hour), now.Add(30*24*time.Hour))
	if err := os.WriteFile(cfg.Bundle, fresh, 0o644); err != nil {
		t.Fatal(err)
	}
	second := sigOf()
	l.poll()
	if loaded() != 2 || sigOf() == second {
		t.Fatalf("a new valid bundle was not loaded (loaded %v)", loaded())
	}
	if got, want := gaugeValue(z.Name), (30 * 24 * time.Hour).Seconds(); got != want {
		t.Errorf("coverage after reload %v, want %v", got, want)
	}

	// A reload that changes the signing ZSK counts as a switch: a bundle
	// with only a new ZSK.
	switches := counterValue(keyEvents.WithLabelValues(z.Name))
	zsk, err := keystore.GenerateKey(z.Name, dns.ECDSAP256SHA256, false, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keystore.WriteKey(cfg.Keys, zsk); err != nil {
		t.Fatal(err)
	}
	ksk, err := keystore.ReadKey(filepath.Join(copyKeys(t, "testdata/ldns-classic/ksk-offline"), "Kexample.net.+013+41401"))
	if err != nil {
		t.Fatal(err)
	}
	slot, err := keystore.SignDNSKEYs("example.net.", []*keystore.Key{ksk}, []*dns.DNSKEY{zsk.DNSKEY}, 3600, now.Add(-time.Hour), now.Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.Bundle, keystore.FormatSlot(slot), 0o644); err != nil {
		t.Fatal(err)
	}
	l.poll()
	if ks, err := z.Keys(now); err != nil || ks.Tag() != zsk.Tag() {
		t.Fatalf("after the reload: %v %v, want ZSK %d signing", ks, err, zsk.Tag())
	}
	if got := counterValue(keyEvents.WithLabelValues(z.Name)); got != switches+1 {
		t.Errorf("zsk_switches_total %v after a reload switched the ZSK, want %v", got, switches+1)
	}
}
