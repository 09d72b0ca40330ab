package main

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
)

// TestSVGInBrowser looks at the picture as a person would: Debian's
// headless chromium renders the SVG of the 90-day fixture to a PNG, which
// must not be blank, and has, where the layout model puts ZSK 43620's
// "active" bar at known dates, its colour, and white where no bar is. In
// CI (CI=true) a missing chromium fails the test.
func TestSVGInBrowser(t *testing.T) {
	chromium := needTool(t, "chromium")
	fixedClock(t)
	zsk := copyDir(t, filepath.Join("testdata", "timeline90d", "zsk"))
	at, _ := parseTime(pic90At, now())
	c := checkRun{keysDir: zsk, bundleFile: filepath.Join("testdata", "timeline90d", "example.org.skr"), anchorFile: filepath.Join("testdata", "timeline90d", "example.org.ds"),
		at: at, warn: 14 * 24 * time.Hour, in: timelineInputs()}
	in, err := c.run(io.Discard, io.Discard)
	if err != nil || in == nil {
		t.Fatalf("check: %v", err)
	}
	p := buildPicture(in)
	dir := t.TempDir()
	svg, shot := filepath.Join(dir, "t.svg"), filepath.Join(dir, "t.png")
	if err := os.WriteFile(svg, renderSVG(p, true), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+shot, fmt.Sprintf("--window-size=%d,%d", int(p.Width), int(p.Height)+1), "file://"+svg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", shot, err)
	}
	if b := img.Bounds(); b.Dx() < int(p.Width) || b.Dy() < int(p.Height) {
		t.Fatalf("screenshot %v smaller than the picture %vx%v", b, p.Width, p.Height)
	}
	colours := map[color.RGBA]bool{}
	for y := 0; y < img.Bounds().Dy(); y += 3 {
		for x := 0; x < img.Bounds().Dx(); x += 3 {
			colours[rgba(img, x, y)] = true
		}
	}
	if len(colours) < 8 {
		t.Fatalf("the screenshot is nearly blank: %d colours", len(colours))
	}

	lane := func(id string) lane {
		for _, l := range p.Lanes {
			if l.ID == id {
				return l
			}
		}
		t.Fatalf("no lane %s in the layout", id)
		return lane{}
	}
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	active := parseHex(barStyles[barActive].Fill)
	old, next := lane("zsk-43620-13"), lane("zsk-10141-13")
	for _, d := range []string{"2027-01-03", "2027-01-20", "2027-02-10"} {
		x, y := p.X(day(d).Add(12*time.Hour)), old.Y+laneH/2
		if got := rgba(img, int(x), int(y)); !near(got, active) {
			t.Errorf("ZSK 43620 on %s at (%v,%v): colour %v, want the active bar's %v", d, x, y, got, active)
		}
		if !day(d).Before(keyActivate(t, p, "zsk-10141-13")) {
			continue
		}
		if got := rgba(img, int(x), int(next.Y+laneH/2)); !near(got, color.RGBA{255, 255, 255, 255}) {
			t.Errorf("ZSK 10141 on %s (not published yet) at (%v,%v): colour %v, want the background", d, x, next.Y+laneH/2, got)
		}
	}
	x, y := p.X(day("2027-03-10")), next.Y+laneH/2
	if got := rgba(img, int(x), int(y)); !near(got, active) {
		t.Errorf("ZSK 10141 on 2027-03-10 at (%v,%v): colour %v, want active %v", x, y, got, active)
	}
}

// timelineInputs are the inputs check starts from, with its default policy flags.
func timelineInputs() (in timeline.Inputs) {
	in.Policy = keystore.DefaultPolicy()
	in.Policy.DNSKEYTTL, in.Policy.PropagationDelay = time.Hour, 5*time.Minute
	return in
}

// keyActivate is when the key of lane id starts its active bar.
func keyActivate(t *testing.T, p *picture, id string) time.Time {
	for _, l := range p.Lanes {
		for _, b := range l.Bars {
			if l.ID == id && b.Kind == barActive {
				return b.From
			}
		}
	}
	t.Fatalf("lane %s has no active bar", id)
	return time.Time{}
}

func rgba(img image.Image, x, y int) color.RGBA {
	r, g, b, a := img.At(img.Bounds().Min.X+x, img.Bounds().Min.Y+y).RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

// near tells whether two colours differ by at most 8 in each channel.
func near(a, b color.RGBA) bool {
	d := func(x, y uint8) bool { return x-y <= 8 || y-x <= 8 }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

// parseHex reads "#rrggbb".
func parseHex(s string) color.RGBA {
	var c color.RGBA
	fmt.Sscanf(s, "#%02x%02x%02x", &c.R, &c.G, &c.B)
	c.A = 255
	return c
}
