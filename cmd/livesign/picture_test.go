package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.svg and ../../docs/timeline.svg from what the code draws now")

// The 90-day SKR with one ZSK roll of the README (testdata/timeline90d,
// made by keygen, plan and sign-ksr), checked at a fixed instant.
const pic90At = "20270110000000"

// pic90Args are the check arguments that draw the README's picture, with
// the ZSKs copied to zsk (git does not keep the .private files' mode).
func pic90Args(zsk string) []string {
	f := filepath.Join("testdata", "timeline90d")
	return []string{"check", "-keys", zsk, "-bundle", filepath.Join(f, "example.org.skr"), "-trust-anchor", filepath.Join(f, "example.org.ds"), "-at", pic90At}
}

// drawSVG runs check with args plus -svg and returns the SVG.
func drawSVG(t *testing.T, wantCode int, args ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "t.svg")
	if code, stdout, stderr := livesign(t, append(args, "-svg", out)...); code != wantCode {
		t.Fatalf("check exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, wantCode, stdout, stderr)
	}
	return mustRead(t, out)
}

// svgDoc is what the XML decoder found in an SVG: every element's name,
// the text of <text> elements and the ids of the lanes.
type svgDoc struct {
	elements map[string]int
	texts    []string
	lanes    []string
}

// parseSVG decodes data with encoding/xml, failing on anything that is not
// well-formed.
func parseSVG(t *testing.T, data []byte) svgDoc {
	t.Helper()
	doc := svgDoc{elements: map[string]int{}}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var stack []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, data)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			stack = append(stack, tok.Name.Local)
			doc.elements[tok.Name.Local]++
			for _, a := range tok.Attr {
				if tok.Name.Local == "g" && a.Name.Local == "id" && strings.HasPrefix(a.Value, "lane-") {
					doc.lanes = append(doc.lanes, strings.TrimPrefix(a.Value, "lane-"))
				}
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 && stack[len(stack)-1] == "text" {
				doc.texts = append(doc.texts, string(tok))
			}
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed elements %v", stack)
	}
	return doc
}

func (d svgDoc) hasText(s string) bool {
	for _, t := range d.texts {
		if t == s {
			return true
		}
	}
	return false
}

// TestSVGParse: the picture of check -svg is well-formed XML with a lane
// per key, the slots and the signing ZSK, key tags and roles as text, the
// time axis, the legend and the markers, for an SKR of livesign, of BIND
// 9.20, of Knot, a single signed bundle and the online-KSK mode.
func TestSVGParse(t *testing.T) {
	fixedClock(t)
	zsk90 := copyDir(t, filepath.Join("testdata", "timeline90d", "zsk"))
	bindZSK := copyDir(t, td("bind920", "zsk"))
	ldnsZSK := copyDir(t, td("ldns-classic", "zsk"))
	online := t.TempDir()
	okeys, oksk := filepath.Join(online, "zsk"), filepath.Join(online, "ksk")
	mustRun(t, "keygen", "-zone", "example.org", "-ksk", "-dir", oksk, "-publish", "-1d", "-activate", "-1d")
	mustRun(t, "plan", "-zone", "example.org", "-keys", okeys, "-until", "+60d", "-zsk-lifetime", "30d", "-out", filepath.Join(online, "z.ksr"))
	tests := []struct {
		name  string
		code  int
		args  []string
		lanes []string // lane ids, in order (a prefix of each)
		texts []string
	}{
		{"livesign SKR", 0, pic90Args(zsk90), []string{"ksk-7462-13", "zsk-43620-13", "zsk-10141-13", "slots", "signing-13"},
			[]string{"KSK 7462", "ZSK 43620", "ZSK 10141", "43620", "10141", "DNSKEY set", "signing ZSK", "alg 13 ECDSAP256SHA256", "2027-02-01", "now 2027-01-10 00:00",
				"sign the next KSR 2027-04-01 00:00 (coverage ends 2027-04-15 00:00)", "active", "signing ZSK", "DNSKEY RRSIG validity"}},
		{"BIND 9.20 SKR", 0, []string{"check", "-keys", bindZSK, "-bundle", td("bind920", "example.org.skr"), "-trust-anchor", td("bind920", "ksk.ds"), "-at", "2026-12-01T00:00:00Z"},
			[]string{"ksk-29929-13", "zsk-31067-13", "zsk-17577-13", "zsk-7181-13"}, []string{"KSK 29929", "ZSK 17577", "17577", "7181", "2027-01", "2027-05"}},
		{"Knot SKR without keys", 0, []string{"check", "-bundle", td("knot", "example.com.skr"), "-trust-anchor", td("knot", "ksk.ds"), "-at", "20261201000000"},
			[]string{"ksk-36385-13", "zsk-13785-13"}, []string{"KSK 36385", "ZSK 23546", "DNSKEY set"}},
		{"single bundle", 0, []string{"check", "-keys", ldnsZSK, "-bundle", td("ldns-classic", "bundle.zone"), "-at", "2026-12-01T00:00:00Z"},
			[]string{"ksk-41401-13", "zsk-44013-13", "slots", "signing-13"}, []string{"ZSK 44013", "44013", "re-sign the bundle 2027-10-18 00:00 (coverage ends 2027-11-01 00:00)"}},
		{"online KSK", 0, []string{"check", "-ksk", oksk, "-keys", okeys, "-zone", "example.org", "-at", "+1h"},
			[]string{"ksk-", "zsk-", "zsk-", "zsk-", "slots", "signing-13"}, []string{"signed by the online KSK", "signing ZSK"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := parseSVG(t, drawSVG(t, tc.code, tc.args...))
			for _, el := range []string{"svg", "rect", "text", "line", "title", "g"} {
				if doc.elements[el] == 0 {
					t.Errorf("no <%s> element", el)
				}
			}
			if len(doc.lanes) < len(tc.lanes) {
				t.Fatalf("lanes %v, want at least %v", doc.lanes, tc.lanes)
			}
			for i, want := range tc.lanes {
				if !strings.HasPrefix(doc.lanes[i], want) {
					t.Errorf("lane %d is %q, want %q (lanes %v)", i, doc.lanes[i], want, doc.lanes)
				}
			}
			for _, want := range tc.texts {
				if !doc.hasText(want) {
					t.Errorf("no <text> %q in %q", want, doc.texts)
				}
			}
		})
	}
}

// TestSVGGolden compares the picture of fixed timelines with
// testdata/golden (go test -run SVGGolden -update rewrites them).
func TestSVGGolden(t *testing.T) {
	fixedClock(t)
	tests := []struct {
		name string
		args []string
	}{
		{"timeline90d", pic90Args(copyDir(t, filepath.Join("testdata", "timeline90d", "zsk")))},
		{"bind920", []string{"check", "-keys", copyDir(t, td("bind920", "zsk")), "-bundle", td("bind920", "example.org.skr"), "-trust-anchor", td("bind920", "ksk.ds"), "-at", "2026-12-01T00:00:00Z"}},
		{"knot", []string{"check", "-bundle", td("knot", "example.com.skr"), "-trust-anchor", td("knot", "ksk.ds"), "-at", "20261201000000"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := drawSVG(t, 0, tc.args...)
			if again := drawSVG(t, 0, tc.args...); !bytes.Equal(got, again) {
				t.Fatal("two runs draw different pictures")
			}
			golden := filepath.Join("testdata", "golden", tc.name+".svg")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := mustRead(t, golden); !bytes.Equal(got, want) {
				t.Errorf("%s differs from what check draws now (go test -run SVGGolden -update to accept):\n%s", golden, got)
			}
		})
	}
}

// TestDocsTimeline: docs/timeline.svg, in the README, is what the fixture
// draws now (make docs, or go test -run DocsTimeline -update, redraws it).
func TestDocsTimeline(t *testing.T) {
	fixedClock(t)
	got := drawSVG(t, 0, pic90Args(copyDir(t, filepath.Join("testdata", "timeline90d", "zsk")))...)
	doc := filepath.Join("..", "..", "docs", "timeline.svg")
	if *update {
		if err := os.WriteFile(doc, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := mustRead(t, doc); !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run make docs", doc)
	}
}

// TestSVGEscaping: a zone name with XML's special characters is escaped in
// the title, the lane labels and the HTML page, and reads back as written.
func TestSVGEscaping(t *testing.T) {
	const zone = `a<b&c"d'e.example.`
	at := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	ksk, err := keystore.GenerateKey(zone, 13, true, at.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	zsk, err := keystore.GenerateKey(zone, 13, false, at.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tl, err := timeline.New(timeline.Inputs{Zone: zone, KSKs: []*keystore.Key{ksk}, ZSKs: []*keystore.Key{zsk}})
	if err != nil {
		t.Fatal(err)
	}
	p := buildPicture(&pictureInput{TL: tl, At: at, Source: `online KSK in <dir> & "more"`})
	p.Lanes[0].Sub = `</text><script>&amp;`
	doc := parseSVG(t, renderSVG(p, true))
	if !doc.hasText(p.Title) || !strings.Contains(p.Title, zone) {
		t.Errorf("title %q (with %q) not read back: %q", p.Title, zone, doc.texts)
	}
	if !doc.hasText(`</text><script>&amp;`) {
		t.Errorf("label not read back: %q", doc.texts)
	}
	page := string(renderHTML(p, "zone "+zone+" <b>&amp;</b>\n"))
	if !strings.Contains(page, "<pre id=\"report\">zone a&lt;b&amp;c&#34;d&#39;e.example. &lt;b&gt;&amp;amp;&lt;/b&gt;\n</pre>") {
		t.Errorf("report not escaped in the page:\n%s", page)
	}
	if strings.Contains(page, "<script>") {
		t.Error("a label reached the page unescaped")
	}
}

// TestTimeTicks: the axis picks round instants at a spacing that suits
// spans from hours to years.
func TestTimeTicks(t *testing.T) {
	d := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		name     string
		from, to string
		max      int
		want     []string
	}{
		{"hours", "2027-01-01T09:30:00Z", "2027-01-01T14:10:00Z", 10, []string{"01-01 10:00", "01-01 11:00", "01-01 12:00", "01-01 13:00", "01-01 14:00"}},
		{"half a day in 3h", "2027-01-01T01:00:00Z", "2027-01-02T00:00:00Z", 9, []string{"01-01 03:00", "01-01 06:00", "01-01 09:00", "01-01 12:00", "01-01 15:00", "01-01 18:00", "01-01 21:00", "01-02 00:00"}},
		{"days", "2027-01-01T12:00:00Z", "2027-01-05T00:00:00Z", 4, []string{"2027-01-02", "2027-01-03", "2027-01-04", "2027-01-05"}},
		{"weeks on Mondays", "2026-12-30T00:00:00Z", "2027-02-01T00:00:00Z", 6, []string{"2027-01-04", "2027-01-11", "2027-01-18", "2027-01-25", "2027-02-01"}},
		{"months", "2026-11-15T00:00:00Z", "2027-05-20T00:00:00Z", 10, []string{"2026-12", "2027-01", "2027-02", "2027-03", "2027-04", "2027-05"}},
		{"quarters", "2026-11-15T00:00:00Z", "2028-01-20T00:00:00Z", 6, []string{"2027-01", "2027-04", "2027-07", "2027-10", "2028-01"}},
		{"years", "2026-06-01T00:00:00Z", "2031-02-01T00:00:00Z", 8, []string{"2027", "2028", "2029", "2030", "2031"}},
		{"decades", "2026-06-01T00:00:00Z", "2061-02-01T00:00:00Z", 8, []string{"2030", "2035", "2040", "2045", "2050", "2055", "2060"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, tk := range timeTicks(d(tc.from), d(tc.to), tc.max) {
				got = append(got, tk.Label)
				if tk.At.Before(d(tc.from)) || tk.At.After(d(tc.to)) {
					t.Errorf("tick %s outside the span", tk.At)
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("ticks %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCheckHTMLAndOnline: -html wraps the picture and the report; -ksk
// checks the online-KSK mode, and refuses without -zone.
func TestCheckHTMLAndOnline(t *testing.T) {
	fixedClock(t)
	dir := t.TempDir()
	zsk, ksk := filepath.Join(dir, "zsk"), filepath.Join(dir, "ksk")
	mustRun(t, "keygen", "-zone", "example.org", "-ksk", "-dir", ksk, "-publish", "-1d", "-activate", "-1d")
	mustRun(t, "plan", "-zone", "example.org", "-keys", zsk, "-until", "+60d", "-out", filepath.Join(dir, "z.ksr"))
	page := filepath.Join(dir, "check.html")
	code, stdout, stderr := livesign(t, "check", "-ksk", ksk, "-keys", zsk, "-zone", "example.org", "-html", page)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"online KSK in " + ksk + " (1 KSKs)", "coverage: unlimited", "OK"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	// The tables' columns are as wide as the key tags, which are random here.
	for _, want := range []string{`(?m)^KSK +CREATED +PUBLISHED`, `(?m)^ZSK +CREATED +PUBLISHED`} {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("stdout lacks a line matching %s:\n%s", want, stdout)
		}
	}
	html := string(mustRead(t, page))
	for _, want := range []string{"<!DOCTYPE html>", "<svg xmlns=", "<pre id=\"report\">zone example.org., online KSK", "coverage: unlimited"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q:\n%s", want, html)
		}
	}
	if code, _, stderr := livesign(t, "check", "-ksk", ksk); code != 1 || !strings.Contains(stderr, "-ksk needs -zone") {
		t.Errorf("-ksk without -zone: exit %d, %s", code, stderr)
	}
	if code, _, stderr := livesign(t, "check", "-ksk", zsk, "-keys", zsk, "-zone", "example.org"); code != 1 || !strings.Contains(stderr, "no KSK (flags 257) of example.org. in") {
		t.Errorf("-ksk without KSKs: exit %d, %s", code, stderr)
	}
	if code, _, stderr := livesign(t, "check", "-ksk", ksk, "-keys", zsk, "-zone", "example.org", "-svg", filepath.Join(dir, "no", "such", "t.svg")); code != 1 || !strings.Contains(stderr, "check: -svg: open "+filepath.Join(dir, "no", "such", "t.svg")) {
		t.Errorf("-svg into a missing directory: exit %d, %s", code, stderr)
	}
}
