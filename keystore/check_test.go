package keystore

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// ldnsBundle reads the good ldns-classic bundle's slot.
func ldnsBundle(t *testing.T) *Slot {
	t.Helper()
	b, err := ReadBundle(td("ldns-classic", "bundle.zone"), "example.net.")
	if err != nil {
		t.Fatal(err)
	}
	return &b.Slots[0]
}

func ldnsAnchor(t *testing.T) *Anchor {
	t.Helper()
	a, err := ReadAnchor(td("ldns-classic", "ksk.ds"), "example.net.")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// collidingKey generates P-256 keys until one has key tag tag (about 65k tries).
func collidingKey(t *testing.T, tag uint16) *dns.DNSKEY {
	t.Helper()
	var (
		once  sync.Once
		found *dns.DNSKEY
		done  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				k := &dns.DNSKEY{Hdr: dns.RR_Header{Name: "example.net.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600}, Flags: 256, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
				if _, err := k.Generate(256); err != nil {
					t.Error(err)
					return
				}
				if k.KeyTag() == tag {
					once.Do(func() { found = k; close(done) })
					return
				}
			}
		}()
	}
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		close(done)
	}
	wg.Wait()
	if found == nil {
		t.Fatalf("no key with tag %d generated", tag)
	}
	return found
}

func TestCheckSlotGood(t *testing.T) {
	zsk := ldnsZSK(t)
	anchor := ldnsAnchor(t)
	tests := []struct {
		name   string
		zsks   []*dns.DNSKEY
		anchor *Anchor
		when   time.Time
	}{
		{"ZSK from keys dir, DS anchor", []*dns.DNSKEY{zsk}, anchor, fixtureTime},
		{"no anchor", []*dns.DNSKEY{zsk}, nil, fixtureTime},
		{"ZSK only in the bundle", nil, anchor, fixtureTime},
		{"first second of validity", []*dns.DNSKEY{zsk}, anchor, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{"last second of validity", []*dns.DNSKEY{zsk}, anchor, time.Date(2027, 11, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := CheckSlot(ldnsBundle(t), "example.net", tc.zsks, tc.anchor, tc.when)
			if err != nil {
				t.Fatal(err)
			}
			if len(set) != 2 || set[0].KeyTag() != 44013 || set[1].KeyTag() != 41401 {
				t.Fatalf("set %v", set)
			}
			for _, k := range set {
				if k.Hdr.Name != "example.net." || k.Hdr.Ttl != 3600 || k.Hdr.Class != dns.ClassINET {
					t.Errorf("header %v", k.Hdr)
				}
			}
		})
	}
}

func TestCheckSlotDNSKEYAnchor(t *testing.T) {
	a, err := ReadAnchor(td("ldns-classic", "ksk-offline", "Kexample.net.+013+41401.key"), "example.net.")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckSlot(ldnsBundle(t), "example.net.", nil, a, fixtureTime); err != nil {
		t.Fatal(err)
	}
}

func TestCheckSlotErrors(t *testing.T) {
	zsk := ldnsZSK(t)
	anchor := ldnsAnchor(t)
	other, err := GenerateKey("example.net.", dns.ECDSAP256SHA256, false, fixtureTime)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(s *Slot)
		zsks    []*dns.DNSKEY
		when    time.Time
		wantErr string
	}{
		{name: "no RRSIG", edit: func(s *Slot) { s.RRSIGs = nil }, wantErr: "no RRSIG over DNSKEY: sign the DNSKEY RRset with the KSK"},
		{name: "signing KSK not in the set", edit: func(s *Slot) { s.DNSKEY = s.DNSKEY[:1] },
			wantErr: "RRSIG over DNSKEY by key 41401 (algorithm 13) was made by a key that is not in the DNSKEY set (tags ZSK 44013)"},
		{name: "not yet valid", when: time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC),
			wantErr: "RRSIG by 41401 is not valid before 2026-11-01T00:00:00Z"},
		{name: "expired", when: time.Date(2027, 11, 1, 0, 0, 1, 0, time.UTC),
			wantErr: "RRSIG by 41401 expired at 2027-11-01T00:00:00Z"},
		{name: "extra ZSK in the keys dir", zsks: []*dns.DNSKEY{zsk, other.DNSKEY},
			wantErr: "ZSK " + fmt.Sprint(other.Tag()) + " from the keys directory is not in the bundle: re-sign the DNSKEY set including ZSK " + fmt.Sprint(other.Tag())},
		{name: "CDS without RRSIG", edit: func(s *Slot) { s.CDS = []*dns.CDS{{DS: *anchor.DS[0]}} },
			wantErr: "CDS records without an RRSIG over CDS"},
		{name: "CDS RRSIG without CDS", edit: func(s *Slot) {
			c := *s.RRSIGs[0]
			c.TypeCovered = dns.TypeCDS
			s.RRSIGs = append(s.RRSIGs, &c)
		}, wantErr: "RRSIG over CDS by 41401 but no CDS records"},
		{name: "CDS RRSIG does not verify", edit: func(s *Slot) {
			s.CDS = []*dns.CDS{{DS: *anchor.DS[0]}}
			c := *s.RRSIGs[0]
			c.TypeCovered = dns.TypeCDS
			s.RRSIGs = append(s.RRSIGs, &c)
		}, wantErr: "RRSIG over CDS by 41401 does not verify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := ldnsBundle(t)
			if tc.edit != nil {
				tc.edit(s)
			}
			when := tc.when
			if when.IsZero() {
				when = fixtureTime
			}
			_, err := CheckSlot(s, "example.net.", tc.zsks, anchor, when)
			wantErr(t, err, tc.wantErr)
		})
	}
}

func TestCheckSlotTagCollision(t *testing.T) {
	twin := collidingKey(t, 41401)
	_, err := CheckSlot(ldnsBundle(t), "example.net.", []*dns.DNSKEY{ldnsZSK(t), twin}, ldnsAnchor(t), fixtureTime)
	wantErr(t, err, "key tag 41401 is used by 2 keys (ZSK flags 256 algorithm 13; KSK flags 257 algorithm 13): validators may try the wrong key; generate a new ZSK")
}

func TestCheckSlotZSKSignedOnly(t *testing.T) {
	dir := copyFixture(t, td("ldns-classic", "zsk"))
	zsk, err := ReadKey(dir + "/Kexample.net.+013+44013")
	if err != nil {
		t.Fatal(err)
	}
	ksk := ldnsBundle(t).DNSKEY[1]
	s, err := SignDNSKEYs("example.net.", []*Key{zsk}, []*dns.DNSKEY{ksk}, 3600, fixtureTime.Add(-time.Hour), fixtureTime.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	_, err = CheckSlot(s, "example.net.", nil, nil, fixtureTime)
	wantErr(t, err, "no RRSIG over DNSKEY by a KSK (flags 257, tags KSK 41401, ZSK 44013)")
	_, err = CheckSlot(s, "example.net.", nil, ldnsAnchor(t), fixtureTime)
	wantErr(t, err, "no RRSIG over DNSKEY by a KSK")
}

// TestCheckSlotKSKRoll: during a KSK roll a slot signed by the anchored KSK
// and a new one checks out; a slot signed by the new KSK alone checks out
// too but says, with an *UnanchoredError, that the anchor lacks its DS.
func TestCheckSlotKSKRoll(t *testing.T) {
	old, err := GenerateKey("roll.example.", dns.ECDSAP256SHA256, true, fixtureTime)
	if err != nil {
		t.Fatal(err)
	}
	next, err := GenerateKey("roll.example.", dns.ECDSAP256SHA256, true, fixtureTime)
	if err != nil {
		t.Fatal(err)
	}
	zsk, err := GenerateKey("roll.example.", dns.ECDSAP256SHA256, false, fixtureTime)
	if err != nil {
		t.Fatal(err)
	}
	anchor := &Anchor{File: "old.ds", DS: []*dns.DS{old.DNSKEY.ToDS(dns.SHA256)}}
	both, err := SignDNSKEYs("roll.example.", []*Key{old, next}, []*dns.DNSKEY{zsk.DNSKEY}, 3600, fixtureTime.Add(-time.Hour), fixtureTime.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckSlot(both, "roll.example.", nil, anchor, fixtureTime); err != nil {
		t.Errorf("double-signed slot: %v", err)
	}
	only, err := SignDNSKEYs("roll.example.", []*Key{next}, []*dns.DNSKEY{zsk.DNSKEY, old.DNSKEY}, 3600, fixtureTime.Add(-time.Hour), fixtureTime.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	set, err := CheckSlot(only, "roll.example.", nil, anchor, fixtureTime)
	var ue *UnanchoredError
	if !errors.As(err, &ue) || len(ue.KSKs) != 1 || ue.KSKs[0].KeyTag() != next.Tag() || len(set) != 3 {
		t.Fatalf("slot signed by the new KSK alone: %v (set %d keys)", err, len(set))
	}
	wantErr(t, err, fmt.Sprintf("signed only by KSK %d, which the trust anchor in old.ds (DS for %d) does not name", next.Tag(), old.Tag()))
	// A tampered signature is still refused, anchored or not.
	only.RRSIGs[0].Signature = both.RRSIGs[0].Signature
	if _, err := CheckSlot(only, "roll.example.", nil, anchor, fixtureTime); err == nil || errors.As(err, &ue) {
		t.Errorf("tampered slot: %v", err)
	}
}

// TestCheckSlotOrphanRRSIG: an RRSIG over DNSKEY (or CDS) by a key the set
// lacks, next to a good one by the set's KSK, is ignored and not served:
// BIND 9.20 dnssec-ksr sign makes one at a KSK's Inactive instant, after the
// KSK's DNSKEY left the set at its Delete instant. Alone it is refused.
func TestCheckSlotOrphanRRSIG(t *testing.T) {
	gone, err := GenerateKey("example.net.", dns.ECDSAP256SHA256, true, fixtureTime)
	if err != nil {
		t.Fatal(err)
	}
	s := ldnsBundle(t)
	extra, err := SignDNSKEYs("example.net.", []*Key{gone}, s.DNSKEY, 3600, fixtureTime.Add(-time.Hour), fixtureTime.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	orphan := extra.RRSIGs[0]
	s.RRSIGs = append(s.RRSIGs, orphan)
	set, err := CheckSlot(s, "example.net.", nil, ldnsAnchor(t), fixtureTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(set) != 2 || !Orphan(orphan, set) || Orphan(s.RRSIGs[0], set) {
		t.Fatalf("set %v", set)
	}
	served := s.ServedSigs()
	if len(served) != 1 || served[0] != s.RRSIGs[0] {
		t.Errorf("served RRSIGs %v, want only the KSK's", served)
	}
	if _, exp, ok := s.Validity(); !ok || exp.Equal(fixtureTime.Add(time.Hour)) {
		t.Errorf("validity ends %s: the orphan's expiration counts", exp)
	}
	s.RRSIGs = []*dns.RRSIG{orphan}
	_, err = CheckSlot(s, "example.net.", nil, ldnsAnchor(t), fixtureTime)
	wantErr(t, err, fmt.Sprintf("RRSIG over DNSKEY by key %d (algorithm 13) was made by a key that is not in the DNSKEY set", gone.Tag()))
}
