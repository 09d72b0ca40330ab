package keystore

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// bindKSK reads the BIND 9.20 fixture's offline KSK (tag 29929).
func bindKSK(t *testing.T) *Key {
	t.Helper()
	dir := copyFixture(t, td("bind920", "ksk-offline"))
	k, err := ReadKey(filepath.Join(dir, "Kexample.org.+013+29929"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newKSK generates a KSK for zone published and active from 2026-10-01.
func newKSK(t *testing.T, zone string) *Key {
	t.Helper()
	at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	k, err := GenerateKey(zone, dns.ECDSAP256SHA256, true, at)
	if err != nil {
		t.Fatal(err)
	}
	k.Timers.Publish, k.Timers.Activate = at, at
	return k
}

// TestSignKSRLikeBIND signs BIND's own KSR with BIND's KSK and checks that
// the SKR is what dnssec-ksr sign wrote, byte for byte once the (random)
// ECDSA signature values are taken from BIND's file.
func TestSignKSRLikeBIND(t *testing.T) {
	ksr, err := ReadKSR(td("bind920", "example.org.ksr"), "example.org")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadBundle(td("bind920", "example.org.skr"), "example.org")
	if err != nil {
		t.Fatal(err)
	}
	ksk := bindKSK(t)
	got, err := SignKSR(ksr, []*Key{ksk}, SignPolicy{End: time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC), Generated: want.Generated})
	if err != nil {
		t.Fatal(err)
	}
	compareSKR(t, got, want, LayoutBIND, td("bind920", "example.org.skr"), ksk)
}

// TestSignKSRLikeKnot signs Knot's KSR and checks slot times, record order
// and RRSIG times against keymgr sign-ksr's output (Knot's KSK is not in the
// fixtures, so another one signs; Knot's SKR has no CDS/CDNSKEY there).
func TestSignKSRLikeKnot(t *testing.T) {
	ksr, err := ReadKSR(td("knot", "example.com.ksr"), "")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadBundle(td("knot", "example.com.skr"), "example.com")
	if err != nil {
		t.Fatal(err)
	}
	ksk := newKSK(t, "example.com")
	got, err := SignKSR(ksr, []*Key{ksk}, SignPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Slots) != len(want.Slots) {
		t.Fatalf("%d slots, keymgr made %d", len(got.Slots), len(want.Slots))
	}
	for i := range got.Slots {
		g, w := &got.Slots[i], &want.Slots[i]
		if !g.Start.Equal(w.Start) {
			t.Fatalf("slot %d at %v, keymgr's at %v", i+1, g.Start, w.Start)
		}
		gs, ws := sigsOver(g.RRSIGs, dns.TypeDNSKEY)[0], sigsOver(w.RRSIGs, dns.TypeDNSKEY)[0]
		if gs.Inception != ws.Inception || gs.Expiration != ws.Expiration {
			t.Errorf("slot %d: RRSIG %s..%s, keymgr's %s..%s", i+1, dns.TimeToString(gs.Inception), dns.TimeToString(gs.Expiration), dns.TimeToString(ws.Inception), dns.TimeToString(ws.Expiration))
		}
		if len(g.DNSKEY) != len(w.DNSKEY) {
			t.Fatalf("slot %d: %d DNSKEYs, keymgr's %d", i+1, len(g.DNSKEY), len(w.DNSKEY))
		}
		for j := range g.DNSKEY {
			if (g.DNSKEY[j].Flags&dns.SEP == 0) != (w.DNSKEY[j].Flags&dns.SEP == 0) || (g.DNSKEY[j].Flags&dns.SEP == 0 && !sameKey(g.DNSKEY[j], w.DNSKEY[j])) {
				t.Errorf("slot %d: DNSKEY %d is %d, keymgr's %d", i+1, j, g.DNSKEY[j].KeyTag(), w.DNSKEY[j].KeyTag())
			}
		}
		if _, err := CheckSlot(g, "example.com", nil, &Anchor{Keys: []*dns.DNSKEY{ksk.DNSKEY}}, g.Start); err != nil {
			t.Errorf("slot %d: %v", i+1, err)
		}
	}
	var buf bytes.Buffer
	if err := WriteSKR(&buf, got, LayoutKnot, "example.com"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), ";; SignedKeyResponse 1.0 1793491200 (2026-11-01T00:00:00Z) =========\n") {
		t.Errorf("Knot layout header missing:\n%.200s", buf.String())
	}
}

// compareSKR checks got against a tool's SKR: same slots, and the same text
// once got carries the tool's signature values.
func compareSKR(t *testing.T, got, want *Bundle, layout Layout, file string, ksk *Key) {
	t.Helper()
	if len(got.Slots) != len(want.Slots) {
		t.Fatalf("%d slots, the tool made %d", len(got.Slots), len(want.Slots))
	}
	for i := range got.Slots {
		g, w := &got.Slots[i], &want.Slots[i]
		if _, err := CheckSlot(g, ksk.DNSKEY.Hdr.Name, nil, &Anchor{Keys: []*dns.DNSKEY{ksk.DNSKEY}}, g.Start); err != nil {
			t.Errorf("slot %d: %v", i+1, err)
		}
		if len(g.RRSIGs) != len(w.RRSIGs) {
			t.Fatalf("slot %d: %d RRSIGs, the tool made %d", i+1, len(g.RRSIGs), len(w.RRSIGs))
		}
		for j := range g.RRSIGs {
			g.RRSIGs[j].Signature = w.RRSIGs[j].Signature
		}
	}
	var buf bytes.Buffer
	if err := WriteSKR(&buf, got, layout, ksk.DNSKEY.Hdr.Name); err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := withoutFooter(buf.String()), withoutFooter(string(orig)); g != w {
		t.Errorf("SKR differs from the tool's: %s", firstDiff(g, w))
	}
}

func TestSignKSRErrors(t *testing.T) {
	ksk := newKSK(t, "example.com")
	ksr, err := ReadKSR(td("knot", "example.com.ksr"), "")
	if err != nil {
		t.Fatal(err)
	}
	zsk := func(mut func(k *dns.DNSKEY)) *KSR {
		c := *ksr
		c.Slots = append([]KSRSlot{}, ksr.Slots...)
		k := dns.Copy(c.Slots[0].DNSKEY[0]).(*dns.DNSKEY)
		mut(k)
		c.Slots[0].DNSKEY = []*dns.DNSKEY{k}
		return &c
	}
	rsa1024, err := GenerateKey("example.com", dns.RSASHA256, false, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	small := dns.Copy(rsa1024.DNSKEY).(*dns.DNSKEY)
	if _, err := small.Generate(1024); err != nil {
		t.Fatal(err)
	}
	late := newKSK(t, "example.com")
	late.Timers.Activate = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	late.Timers.Publish = late.Timers.Activate
	otherZone := newKSK(t, "example.net")
	noPriv := *ksk
	noPriv.Signer = nil
	tests := []struct {
		name string
		ksr  *KSR
		ksks []*Key
		p    SignPolicy
		want string
	}{
		{"no KSK", ksr, nil, SignPolicy{}, "no KSK to sign"},
		{"KSK without private key", ksr, []*Key{&noPriv}, SignPolicy{}, "has no private key"},
		{"ZSK as KSK", ksr, []*Key{rsa1024}, SignPolicy{}, "not a KSK"},
		{"KSK of another zone", ksr, []*Key{otherZone}, SignPolicy{}, "is for example.net., the KSR for example.com."},
		{"SEP key in KSR", zsk(func(k *dns.DNSKEY) { k.Flags = 257 }), []*Key{ksk}, SignPolicy{}, "a KSR holds only ZSKs"},
		{"RSASHA1", zsk(func(k *dns.DNSKEY) { k.Algorithm = dns.RSASHA1 }), []*Key{ksk}, SignPolicy{}, "RSASHA1 (5) is deprecated"},
		{"unknown algorithm", zsk(func(k *dns.DNSKEY) { k.Algorithm = 99 }), []*Key{ksk}, SignPolicy{}, "algorithm 99 is unknown"},
		{"RSA 1024", zsk(func(k *dns.DNSKEY) { *k = *small }), []*Key{ksk}, SignPolicy{}, "RSA keys below 2048 bits are refused"},
		{"algorithm differs from KSK", zsk(func(k *dns.DNSKEY) { *k = *rsa1024.DNSKEY }), []*Key{ksk}, SignPolicy{}, "but the KSK has ECDSAP256SHA256 (13)"},
		{"malformed key", zsk(func(k *dns.DNSKEY) { k.PublicKey = "AAAA" }), []*Key{ksk}, SignPolicy{}, "public key is malformed"},
		{"tag collision", zsk(func(k *dns.DNSKEY) { *k = *collidingZSK(t, ksk.DNSKEY) }), []*Key{ksk}, SignPolicy{}, "is used by 2 keys"},
		{"KSK active too late", ksr, []*Key{late}, SignPolicy{}, "no KSK is active then"},
		{"refresh >= validity", ksr, []*Key{ksk}, SignPolicy{Validity: 5 * 24 * time.Hour}, "must exceed the refresh"},
		{"refresh below TTL", ksr, []*Key{ksk}, SignPolicy{Refresh: time.Minute}, "shorter than the DNSKEY TTL"},
		{"end before last slot", ksr, []*Key{ksk}, SignPolicy{End: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}, "is before the last KSR slot"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := SignKSR(tc.ksr, tc.ksks, tc.p)
			wantErr(t, err, tc.want)
		})
	}
}

// collidingZSK generates P-256 ZSKs until one has the key tag of k.
func collidingZSK(t *testing.T, k *dns.DNSKEY) *dns.DNSKEY {
	t.Helper()
	for i := 0; i < 1<<20; i++ {
		z := &dns.DNSKEY{Hdr: dns.RR_Header{Name: k.Hdr.Name, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600}, Flags: 256, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
		if _, err := z.Generate(256); err != nil {
			t.Fatal(err)
		}
		if z.KeyTag() == k.KeyTag() {
			return z
		}
	}
	t.Fatal("no colliding key found")
	return nil
}
