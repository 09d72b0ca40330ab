// Package keytest makes keys and signed DNSKEY sets for tests: a zone's
// KSK, ZSKs with the timers a test sets, and bundle slots the KSK signed.
package keytest

import (
	"testing"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// Gen is a generated zone: a KSK and ZSKs whose timers the test sets, all
// of algorithm ECDSAP256SHA256 with distinct key tags.
type Gen struct {
	T    testing.TB
	Zone string
	KSK  *keystore.Key
	used map[uint16]bool
}

// New returns a Gen for zone with a fresh KSK.
func New(t testing.TB, zone string) *Gen {
	g := &Gen{T: t, Zone: zone, used: map[uint16]bool{}}
	g.KSK = g.Key(true, keystore.Timers{})
	return g
}

// Key makes a key whose tag no other key of g has.
func (g *Gen) Key(ksk bool, tm keystore.Timers) *keystore.Key {
	g.T.Helper()
	for {
		k, err := keystore.GenerateKey(g.Zone, dns.ECDSAP256SHA256, ksk, tm.Created)
		if err != nil {
			g.T.Fatal(err)
		}
		if g.used[k.Tag()] {
			continue
		}
		g.used[k.Tag()] = true
		k.Timers = tm
		return k
	}
}

// Slot signs a DNSKEY set of the KSK plus zsks with the KSK, TTL 3600,
// valid [from, to).
func (g *Gen) Slot(from, to time.Time, zsks ...*keystore.Key) keystore.Slot {
	g.T.Helper()
	var keys []*dns.DNSKEY
	for _, k := range zsks {
		keys = append(keys, k.DNSKEY)
	}
	s, err := keystore.SignDNSKEYs(g.Zone, []*keystore.Key{g.KSK}, keys, 3600, from, to)
	if err != nil {
		g.T.Fatal(err)
	}
	return *s
}

// Bundle returns an SKR-like bundle of slots.
func (g *Gen) Bundle(slots ...keystore.Slot) *keystore.Bundle {
	return &keystore.Bundle{File: "gen.bundle", Slots: slots}
}

// Anchor returns the DS of the KSK as a trust anchor.
func (g *Gen) Anchor() *keystore.Anchor {
	return &keystore.Anchor{File: "gen.ds", DS: []*dns.DS{g.KSK.DNSKEY.ToDS(dns.SHA256)}}
}
