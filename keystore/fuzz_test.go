package keystore

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The fuzz targets below cover every keystore parser: SKRs in BIND's and
// Knot's layout, single signed DNSKEY RRsets, KSRs, .key, .private and
// .state files, and trust anchors. Each checks that the parser never
// panics, that every error names the input, and, where keystore has a
// writer, that parse -> write -> parse gives the same content. Their seeds
// are the fixtures in ../testdata (f.Add) and the corpus in
// testdata/fuzz/FuzzXxx, both replayed by plain `go test`; scripts/fuzz.sh
// runs each target for a while.

// addSeeds adds the content of each fixture file (under ../testdata) with
// the extra arguments args.
func addSeeds(f *testing.F, files []string, args ...any) {
	f.Helper()
	for _, p := range files {
		b, err := os.ReadFile(td(p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]any{b}, args...)...)
	}
}

// presentationZone skips the test unless zone ("" aside) is a domain name
// as the zone parser writes it: livesign's zone names come from the
// Corefile in presentation format, and keystore compares them with record
// owners as text.
func presentationZone(t *testing.T, zone string) {
	if zone == "" {
		return
	}
	rr, err := dns.NewRR(dns.Fqdn(zone) + " 0 IN TXT x")
	if err != nil || rr == nil || !strings.EqualFold(strings.SplitN(rr.String(), "\t", 2)[0], dns.Fqdn(zone)) {
		t.Skip("not a zone name in presentation format")
	}
}

// checkErr fails unless err names file.
func checkErr(t *testing.T, err error, file string) {
	t.Helper()
	if msg := err.Error(); msg == "" || !strings.Contains(msg, file) {
		t.Fatalf("error %q does not name the input %s", msg, file)
	}
}

// wire is rr in uncompressed wire format with a lower-case owner: equal for
// records that differ only in presentation (base64 or hex case, line
// breaks, owner case).
func wire(t *testing.T, rr dns.RR) string {
	t.Helper()
	rr = dns.Copy(rr)
	rr.Header().Name = strings.ToLower(rr.Header().Name)
	buf := make([]byte, dns.Len(rr)+512)
	n, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		t.Fatalf("packing %v: %v", rr, err)
	}
	return hex.EncodeToString(buf[:n])
}

// slotRecords lists the records of a slot in wire form, sorted.
func slotRecords(t *testing.T, s *Slot) []string {
	var out []string
	for _, rr := range asRRs(s.DNSKEY) {
		out = append(out, "DNSKEY "+wire(t, rr))
	}
	for _, rr := range asRRs(s.CDNSKEY) {
		out = append(out, "CDNSKEY "+wire(t, rr))
	}
	for _, rr := range asRRs(s.CDS) {
		out = append(out, "CDS "+wire(t, rr))
	}
	for _, rr := range asRRs(s.RRSIGs) {
		out = append(out, "RRSIG "+wire(t, rr))
	}
	sort.Strings(out)
	return out
}

// sameSlots fails unless a and b hold the same slots: start times and records.
func sameSlots(t *testing.T, what string, a, b *Bundle) {
	t.Helper()
	if len(a.Slots) != len(b.Slots) {
		t.Fatalf("%s: %d slots, then %d", what, len(a.Slots), len(b.Slots))
	}
	for i := range a.Slots {
		x, y := &a.Slots[i], &b.Slots[i]
		if !x.Start.Equal(y.Start) {
			t.Fatalf("%s: slot %d starts at %s, then at %s", what, i+1, x.Start, y.Start)
		}
		rx, ry := slotRecords(t, x), slotRecords(t, y)
		if strings.Join(rx, "\n") != strings.Join(ry, "\n") {
			t.Fatalf("%s: slot %d records differ:\n%s\nthen\n%s", what, i+1, strings.Join(rx, "\n"), strings.Join(ry, "\n"))
		}
	}
}

// representable reports whether every slot time can be written in layout:
// BIND's 14-digit times hold the years 0 to 9999, Knot's Unix seconds
// nothing before 1970 (and fewer than 14 digits, which every time up to the
// year 9999 has).
func representable(times []time.Time, layout Layout) bool {
	for _, t := range times {
		if t.Year() < 0 || t.Year() > 9999 || layout == LayoutKnot && t.Unix() < 0 {
			return false
		}
	}
	return true
}

func FuzzSKR(f *testing.F) {
	addSeeds(f, []string{"bind920/example.org.skr", "bad/truncated.skr"}, "example.org")
	addSeeds(f, []string{"knot/example.com.skr"}, "example.com")
	const file = "fuzz.skr"
	f.Fuzz(func(t *testing.T, data []byte, zone string) {
		presentationZone(t, zone)
		b, err := ParseBundle(bytes.NewReader(data), file, zone)
		if err != nil {
			checkErr(t, err, file)
			return
		}
		if !b.SKR {
			return // a single RRset: FuzzSingleBundle's
		}
		var times []time.Time
		for _, s := range b.Slots {
			times = append(times, s.Start)
		}
		written := 0
		for _, layout := range []Layout{LayoutBIND, LayoutKnot} {
			if !representable(times, layout) {
				continue
			}
			written++
			var out bytes.Buffer
			if err := WriteSKR(&out, b, layout, zone); err != nil {
				t.Fatalf("WriteSKR %s: %v", layout, err)
			}
			again, err := ParseBundle(bytes.NewReader(out.Bytes()), "rewritten.skr", zone)
			if err != nil {
				t.Fatalf("the SKR written in %s layout does not parse: %v\n%s", layout, err, out.Bytes())
			}
			sameSlots(t, layout.String()+" rewrite", b, again)
		}
		if written == 0 {
			t.Fatalf("slot times %v fit neither layout, yet they were read from one", times)
		}
	})
}

func FuzzSingleBundle(f *testing.F) {
	addSeeds(f, []string{"ldns-classic/bundle.zone", "ldns-classic/ksk-offline/dnskey.zone.signed",
		"bad/tampered-rrsig.zone", "bad/expired.zone", "bad/missing-zsk.zone", "bad/garbage.bundle", "bad/empty.bundle"}, "example.net")
	const file = "fuzz.zone"
	f.Fuzz(func(t *testing.T, data []byte, zone string) {
		presentationZone(t, zone)
		b, err := ParseBundle(bytes.NewReader(data), file, zone)
		if err != nil {
			checkErr(t, err, file)
			return
		}
		if b.SKR {
			return // FuzzSKR's
		}
		if len(b.Slots) != 1 {
			t.Fatalf("a single-RRset bundle with %d slots", len(b.Slots))
		}
		// FormatSlot is the writer of `livesign bundle`.
		text := FormatSlot(&b.Slots[0])
		again, err := ParseBundle(bytes.NewReader(text), "rewritten.zone", zone)
		if err != nil {
			t.Fatalf("the bundle FormatSlot wrote does not parse: %v\n%s", err, text)
		}
		if again.SKR {
			t.Fatalf("the bundle FormatSlot wrote reads as an SKR:\n%s", text)
		}
		sameSlots(t, "FormatSlot rewrite", b, again)
	})
}

func FuzzKSR(f *testing.F) {
	addSeeds(f, []string{"bind920/example.org.ksr"}, "example.org")
	addSeeds(f, []string{"knot/example.com.ksr"}, "")
	const file = "fuzz.ksr"
	f.Fuzz(func(t *testing.T, data []byte, zone string) {
		presentationZone(t, zone)
		k, err := ParseKSR(bytes.NewReader(data), file, zone)
		if err != nil {
			checkErr(t, err, file)
			return
		}
		var out bytes.Buffer
		if err := WriteKSR(&out, k); err != nil {
			t.Fatalf("WriteKSR: %v", err)
		}
		again, err := ParseKSR(bytes.NewReader(out.Bytes()), "rewritten.ksr", k.Zone)
		if err != nil {
			t.Fatalf("the KSR written in %s layout does not parse: %v\n%s", k.Layout, err, out.Bytes())
		}
		if !SameKSR(k, again) {
			t.Fatalf("the KSR written in %s layout reads differently:\n%s", k.Layout, out.Bytes())
		}
	})
}

// keyFiles lists the fixture .key, .private or .state files (ext).
func keyFiles(f *testing.F, ext string) []string {
	var out []string
	for _, d := range []string{"ldns-classic/zsk", "ldns-classic/ksk-offline", "bind920/zsk", "bind920/ksk-offline"} {
		m, _ := filepath.Glob(filepath.Join(td(d), "*"+ext))
		for _, p := range m {
			out = append(out, filepath.Join(d, filepath.Base(p)))
		}
	}
	if len(out) == 0 {
		f.Fatalf("no %s fixtures", ext)
	}
	return out
}

func FuzzKeyFile(f *testing.F) {
	addSeeds(f, keyFiles(f, ".key"))
	const file = "fuzz.key" // not a K<zone>+<alg>+<tag>.key name: no name check
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := parsePublicKey(data, file)
		if err != nil {
			checkErr(t, err, file)
			return
		}
		text := PublicKeyText(k)
		again, err := parsePublicKey([]byte(text), "rewritten.key")
		if err != nil {
			t.Fatalf("the .key file PublicKeyText wrote does not parse: %v\n%s", err, text)
		}
		if wire(t, k.DNSKEY) != wire(t, again.DNSKEY) || k.DNSKEY.Hdr.Class != again.DNSKEY.Hdr.Class {
			t.Fatalf("DNSKEY %v, then %v", k.DNSKEY, again.DNSKEY)
		}
		if k.Timers != again.Timers {
			t.Fatalf("timers %+v, then %+v\n%s", k.Timers, again.Timers, text)
		}
	})
}

// fuzzKey is the public half of the fixture ZSK 44013 of example.net, the
// key FuzzPrivateKeyFile's .private files belong to.
func fuzzKey(t testing.TB) *Key {
	k, err := ReadPublicKey(td("ldns-classic", "zsk", zskBase+".key"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func FuzzPrivateKeyFile(f *testing.F) {
	addSeeds(f, []string{"ldns-classic/zsk/" + zskBase + ".private"})
	f.Add([]byte(zskPrivate + "Created: 20261001000000\nPublish: 20261001000000\nActivate: 20261101000000\n"))
	pub := fuzzKey(f)
	const file = "fuzz.private"
	f.Fuzz(func(t *testing.T, data []byte) {
		k := &Key{DNSKEY: pub.DNSKEY}
		if err := k.parsePrivate(data, file); err != nil {
			checkErr(t, err, file)
			return
		}
		// The .private text WriteKey writes.
		var text strings.Builder
		text.WriteString(k.DNSKEY.PrivateKeyString(k.Signer))
		for _, fl := range timerFields {
			if tm := *fl.get(&k.Timers); !tm.IsZero() {
				fmt.Fprintf(&text, "%s: %s\n", fl.name, tm.UTC().Format(timestampLayout))
			}
		}
		again := &Key{DNSKEY: pub.DNSKEY}
		if err := again.parsePrivate([]byte(text.String()), "rewritten.private"); err != nil {
			t.Fatalf("the .private text written does not parse: %v\n%s", err, text.String())
		}
		if k.Timers != again.Timers {
			t.Fatalf("timers %+v, then %+v", k.Timers, again.Timers)
		}
	})
}

func FuzzStateFile(f *testing.F) {
	addSeeds(f, keyFiles(f, ".state"))
	const file = "fuzz.state"
	f.Fuzz(func(t *testing.T, data []byte) {
		tm, err := parseTimerLines(data, file, false, true)
		if err != nil {
			checkErr(t, err, file)
			return
		}
		for _, fl := range timerFields {
			if v := *fl.get(&tm); !v.IsZero() && v.Location() != time.UTC {
				t.Fatalf("%s timer %v is not in UTC", fl.name, v)
			}
		}
	})
}

func FuzzAnchor(f *testing.F) {
	addSeeds(f, []string{"ldns-classic/ksk.ds", "ldns-classic/ksk-offline/Kexample.net.+013+41401.key"}, "example.net")
	addSeeds(f, []string{"bind920/ksk.ds"}, "example.org")
	addSeeds(f, []string{"knot/ksk.ds"}, "example.com")
	const file = "fuzz.ds"
	f.Fuzz(func(t *testing.T, data []byte, zone string) {
		presentationZone(t, zone)
		a, err := parseAnchor(data, file, zone)
		if err != nil {
			checkErr(t, err, file)
			return
		}
		// What `livesign ds` writes: one record per line.
		var text strings.Builder
		var before []string
		for _, ds := range a.DS {
			text.WriteString(ds.String() + "\n")
			before = append(before, wire(t, ds))
		}
		for _, k := range a.Keys {
			text.WriteString(k.String() + "\n")
			before = append(before, wire(t, k))
		}
		again, err := parseAnchor([]byte(text.String()), "rewritten.ds", zone)
		if err != nil {
			t.Fatalf("the anchor written does not parse: %v\n%s", err, text.String())
		}
		var after []string
		for _, ds := range again.DS {
			after = append(after, wire(t, ds))
		}
		for _, k := range again.Keys {
			after = append(after, wire(t, k))
		}
		if strings.Join(before, " ") != strings.Join(after, " ") {
			t.Fatalf("anchor records differ after a rewrite:\n%s", text.String())
		}
	})
}
