package livesign

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/file"
	"github.com/livesign/livesign/config"
	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// bind920Plugin serves example.org with BIND 9.20's ZSK files and SKR
// (testdata/bind920), at now.
func bind920Plugin(t *testing.T, now time.Time) *Livesign {
	t.Helper()
	cfg := config.Default("example.org.")
	cfg.Keys = copyKeys(t, "testdata/bind920/zsk")
	cfg.Bundle = "testdata/bind920/example.org.skr"
	cfg.TrustAnchor = "testdata/bind920/ksk.ds"
	l, err := New([]config.Config{cfg}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile("testdata/zone.db")
	if err != nil {
		t.Fatal(err)
	}
	z, err := file.Parse(strings.NewReader(strings.ReplaceAll(string(db), "example.net.", "example.org.")), "example.org.", "db", 0)
	if err != nil {
		t.Fatal(err)
	}
	l.Next = file.File{Zones: file.Zones{Z: map[string]*file.Zone{"example.org.": z}, Names: []string{"example.org."}}}
	return l
}

// TestSKRSlotsServed: with BIND's SKR the DNSKEY, CDS and CDNSKEY RRsets of
// the slot in force are served with the KSK's RRSIGs, and the ZSK the
// timers make active signs; across the SKR the slots and signers change.
func TestSKRSlotsServed(t *testing.T) {
	ksk, err := keystore.ReadPublicKey("testdata/bind920/ksk-offline/Kexample.org.+013+29929.key")
	if err != nil {
		t.Fatal(err)
	}
	signers := map[uint16]bool{}
	for _, at := range []time.Time{
		time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 1, 15, 12, 0, 0, 0, time.UTC),
		time.Date(2027, 3, 3, 0, 0, 0, 0, time.UTC),
	} {
		l := bind920Plugin(t, at)
		ks, err := l.zones[0].Keys(at)
		if err != nil {
			t.Fatalf("%s: %v", at, err)
		}
		signers[ks.Tag()] = true
		for _, qt := range []uint16{dns.TypeDNSKEY, dns.TypeCDS, dns.TypeCDNSKEY} {
			m := query(t, l, "example.org.", qt, queryOpt{do: true})
			var set []dns.RR
			var sig *dns.RRSIG
			for _, rr := range m.Answer {
				if s, ok := rr.(*dns.RRSIG); ok {
					sig = s
				} else {
					set = append(set, rr)
				}
			}
			if len(set) == 0 || sig == nil {
				t.Fatalf("%s %s: want the RRset and its RRSIG, got\n%s", at, dns.TypeToString[qt], m)
			}
			if err := sig.Verify(ksk.DNSKEY, set); err != nil || !sig.ValidityPeriod(at) {
				t.Errorf("%s %s: RRSIG by the KSK does not verify at that time: %v", at, dns.TypeToString[qt], err)
			}
		}
		m := query(t, l, "www.example.org.", dns.TypeA, queryOpt{do: true})
		verifySectionsAt(t, m, "example.org.", ks.DNSKEY, at)
		for _, rr := range m.Answer {
			if s, ok := rr.(*dns.RRSIG); ok && s.KeyTag != ks.Tag() {
				t.Errorf("%s: answer signed by %d, the timeline says %d", at, s.KeyTag, ks.Tag())
			}
		}
	}
	if len(signers) < 3 {
		t.Errorf("signing ZSKs across four months of BIND's SKR: %v, want at least 3", signers)
	}
}

// TestSKRDisagreesWithKeyFiles: a ZSK whose timers publish it in slots that
// lack it (new keys the offline side has not signed yet) does not stop the
// zone: the SKR is served as signed, that key never signs, and Notes names
// the key and the slot.
func TestSKRDisagreesWithKeyFiles(t *testing.T) {
	cfg := config.Default("example.org.")
	cfg.Keys = copyKeys(t, "testdata/bind920/zsk")
	cfg.Bundle = "testdata/bind920/example.org.skr"
	cfg.TrustAnchor = "testdata/bind920/ksk.ds"
	extra, err := keystore.GenerateKey("example.org.", dns.ECDSAP256SHA256, false, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keystore.WriteKey(cfg.Keys, extra); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	l, err := New([]config.Config{cfg}, func() time.Time { return now })
	if err != nil {
		t.Fatalf("an SKR that lacks a new ZSK of the key files was refused: %v", err)
	}
	tl := l.zones[0].Timeline
	for at := now; at.Before(tl.End(now)); at = at.Add(12 * time.Hour) {
		ks, err := tl.At(at)
		if err != nil {
			t.Fatalf("At(%s): %v", at, err)
		}
		if ks.Tag() == extra.Tag() {
			t.Fatalf("At(%s): signs with ZSK %d, which no slot of the SKR publishes", at, extra.Tag())
		}
	}
	notes := strings.Join(tl.Notes(now), "\n")
	for _, want := range []string{"slot", "ZSK " + itoa(extra.Tag()), filepath.Base(extra.Base), "lacks it"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q do not mention %q", notes, want)
		}
	}
}

func itoa(n uint16) string { return strconv.Itoa(int(n)) }
