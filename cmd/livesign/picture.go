package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/livesign/livesign/timeline"
	"github.com/miekg/dns"
)

// This file builds the layout model of check -svg: lanes, bars, markers and
// ticks placed in pixels, from the timeline check made. svg.go draws it.

// pictureInput is what check draws the timeline from: the timeline it
// checked and what it computed from it.
type pictureInput struct {
	TL          *timeline.Timeline
	At          time.Time     // the -at time: the "now" line
	Source      string        // "bundle FILE" or "online KSK in DIR"
	CoverageEnd time.Time     // end of the bundle's coverage seen from At; zero with an online KSK
	Warn        time.Duration // -warn-coverage
	DSDeadline  time.Time     // when the parent must have the DS of DSKSKs (zero: nothing due)
	DSKSKs      []*dns.DNSKEY
}

// barKind is what a bar shows; it picks the colour and the legend entry.
type barKind int

// The kinds of bars, in the order of the legend.
const (
	barPublished  barKind = iota // key in the DNSKEY set, not signing yet
	barActive                    // key signing (its timers, or the slots it signs)
	barInactive                  // key retired, still published
	barRemoved                   // key deleted
	barSlot                      // a slot in force (alternate shades)
	barSlotAlt                   //
	barValidity                  // a slot's DNSKEY RRSIG validity
	barGap                       // no valid DNSKEY signature, or no ZSK to sign with
	barSigning                   // the ZSK that signs (alternate shades per key)
	barSigningAlt                //
	barFallback                  // a ZSK signing past its Inactive time
	numBarKinds
)

// barStyle is how a kind of bar is drawn and named in the legend.
type barStyle struct {
	Fill, Text, Legend string // fill colour, colour of text on it, legend text ("": not in the legend)
}

// barStyles are the colours of the kinds of bars, indexed by barKind.
var barStyles = [numBarKinds]barStyle{
	barPublished:  {"#9ecae1", "#000000", "published"},
	barActive:     {"#31a354", "#ffffff", "active"},
	barInactive:   {"#fdae6b", "#000000", "inactive (retired)"},
	barRemoved:    {"#d9d9d9", "#000000", "removed"},
	barSlot:       {"#bcbddc", "#000000", "slot in force"},
	barSlotAlt:    {"#9e9ac8", "#000000", ""},
	barValidity:   {"#54278f", "#ffffff", "DNSKEY RRSIG validity"},
	barGap:        {"#e41a1c", "#ffffff", "no valid signature / no signer"},
	barSigning:    {"#08519c", "#ffffff", "signing ZSK"},
	barSigningAlt: {"#3f7fbf", "#ffffff", ""},
	barFallback:   {"#e7298a", "#ffffff", "signing past Inactive (fallback)"},
}

// markerKind is what a vertical marker line shows.
type markerKind int

// The kinds of markers.
const (
	markNow markerKind = iota // the -at time
	markKSR                   // sign the next KSR (end of coverage - warn-coverage)
	markDS                    // the parent's DS deadline for a new KSK
)

// markerColours are the line colours of the markers, indexed by markerKind.
var markerColours = []string{markNow: "#000000", markKSR: "#d95f02", markDS: "#7570b3"}

// picture is the layout model: everything svg.go draws, placed in pixels.
type picture struct {
	Title         string
	Width, Height float64
	From, To      time.Time // the period drawn
	PlotLeft      float64   // x of From
	PlotRight     float64   // x of To
	PlotTop       float64   // y of the first lane
	PlotBottom    float64   // y of the time axis
	Lanes         []lane
	Markers       []marker
	Ticks         []tick
	Legend        []legendItem
}

// legendItem is a colour swatch of the legend, at X, Y (its text's baseline).
type legendItem struct {
	Kind barKind
	X, Y float64
}

// lane is one row of the picture: a key, the slots or a signing algorithm.
type lane struct {
	ID         string // stable name, e.g. "ksk-29929-13", "slots", "signing-13"
	Label, Sub string // left of the lane: e.g. "KSK 29929" and "alg 13 ECDSAP256SHA256"
	Y, H       float64
	Bars       []bar
}

// bar is one stretch of time in a lane.
type bar struct {
	Kind       barKind
	From, To   time.Time
	X, Y, W, H float64
	Text       string // drawn inside when it fits
	Title      string // tooltip
}

// marker is a vertical line at an instant, labelled above the lanes.
type marker struct {
	Kind           markerKind
	At             time.Time
	X              float64
	Label          string
	LabelX, LabelY float64
	LabelEnd       bool // the label ends at LabelX (else it starts there)
}

// tick is a labelled instant of the time axis.
type tick struct {
	At    time.Time
	X     float64
	Label string
}

// Sizes of the layout, in pixels.
const (
	picWidth    = 1100.0
	labelWidth  = 200.0 // the column of lane labels
	rightMargin = 20.0
	laneH       = 22.0
	slotLaneH   = 36.0 // slots in force, and two rows of validity under them
	laneGap     = 6.0
	markerRowH  = 14.0
	charWidth   = 6.6 // of the 11px font, for fitting text
	tickSpacing = 95.0
)

// X returns the x of t, clamped to the plot.
func (p *picture) X(t time.Time) float64 {
	if !t.After(p.From) {
		return p.PlotLeft
	}
	if !t.Before(p.To) {
		return p.PlotRight
	}
	f := float64(t.Sub(p.From)) / float64(p.To.Sub(p.From))
	return round1(p.PlotLeft + f*(p.PlotRight-p.PlotLeft))
}

// round1 rounds to a tenth of a pixel, for stable output.
func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

// buildPicture lays out the timeline of in.
func buildPicture(in *pictureInput) *picture {
	tl := in.TL
	p := &picture{Width: picWidth, PlotLeft: labelWidth, PlotRight: picWidth - rightMargin}
	p.From, p.To = pictureSpan(in)
	source := in.Source
	if b := tl.Bundle(); b != nil {
		source = "bundle " + filepath.Base(b.File) + " (" + bundleKind(b) + ")"
	}
	p.Title = fmt.Sprintf("%s — %s — at %s", tl.Zone(), source, stamp(in.At))

	var lanes []lane
	lanes = append(lanes, keyLanes(tl, p.From, p.To)...)
	if b := tl.Bundle(); b != nil {
		lanes = append(lanes, slotLane(b, p.To))
	}
	start := p.From
	if b := tl.Bundle(); b != nil && len(b.Slots) > 0 && b.Slots[0].Start.After(start) {
		start = b.Slots[0].Start // not a gap: the bundle has not begun
	}
	segs := walk(tl, start, p.To)
	if tl.Bundle() == nil {
		lanes = append(lanes, onlineLane(segs))
	}
	if len(tl.ZSKs()) > 0 {
		lanes = append(lanes, signingLanes(segs)...)
	}
	if b := tl.Bundle(); b != nil && b.File != filepath.Base(b.File) {
		for i := range lanes { // the same picture from any directory
			for j := range lanes[i].Bars {
				lanes[i].Bars[j].Title = strings.ReplaceAll(lanes[i].Bars[j].Title, b.File, filepath.Base(b.File))
			}
		}
	}
	p.Markers = pictureMarkers(in)
	p.layout(lanes)
	return p
}

// pictureSpan returns the period to draw: what the bundle covers (its
// first slot to the end of its last signatures) or, with an online KSK,
// from At to the last key event after it (at least 30 days); widened to
// hold At and the markers, with a margin of 2% on either side.
func pictureSpan(in *pictureInput) (from, to time.Time) {
	from, to = in.At, in.At
	widen := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if t.Before(from) {
			from = t
		}
		if t.After(to) {
			to = t
		}
	}
	if b := in.TL.Bundle(); b != nil {
		for i := range b.Slots {
			widen(b.Slots[i].Start)
			if _, exp, ok := b.Slots[i].Validity(); ok {
				widen(exp)
			}
		}
		if !in.CoverageEnd.IsZero() {
			widen(in.CoverageEnd.Add(-in.Warn))
		}
	} else {
		last := in.At.Add(30 * 24 * time.Hour)
		for _, k := range append(append([]*keystore.Key{}, in.TL.KSKs()...), in.TL.ZSKs()...) {
			for _, t := range []time.Time{k.Timers.Publish, k.Timers.Activate, k.Timers.Inactive, k.Timers.Delete} {
				if t.After(last) && t.Before(in.At.Add(2*366*24*time.Hour)) {
					last = t
				}
			}
		}
		widen(last.Add(last.Sub(in.At) / 20)) // the last event's end of the story
	}
	widen(in.DSDeadline)
	margin := to.Sub(from) / 50
	if margin < time.Minute {
		margin = time.Minute
	}
	return from.Add(-margin).Truncate(time.Minute), to.Add(margin).Truncate(time.Minute).Add(time.Minute)
}

// keyLanes returns a lane per key: the KSKs, then the ZSKs, each by when
// it is first published. Keys with files are drawn by their timers; keys
// only in the bundle's slots by the slots that hold them (published) and,
// for a KSK, that it signs (active).
func keyLanes(tl *timeline.Timeline, from, to time.Time) []lane {
	type keyLane struct {
		ksk   bool
		k     *dns.DNSKEY
		first time.Time
		lane  lane
	}
	var out []keyLane
	seen := map[timeline.KeyRef]bool{}
	add := func(k *dns.DNSKEY, bars []bar, note string) {
		seen[timeline.RefOf(k)] = true
		role := "ZSK"
		if k.Flags&dns.SEP != 0 {
			role = "KSK"
		}
		l := lane{ID: fmt.Sprintf("%s-%d-%d", strings.ToLower(role), k.KeyTag(), k.Algorithm), Label: fmt.Sprintf("%s %d", role, k.KeyTag()), Sub: algLabel(k.Algorithm) + note, Bars: bars}
		first := to
		for _, b := range bars {
			if b.Kind != barRemoved && b.From.Before(first) {
				first = b.From
			}
		}
		out = append(out, keyLane{role == "KSK", k, first, l})
	}
	for _, k := range append(append([]*keystore.Key{}, tl.KSKs()...), tl.ZSKs()...) {
		if !seen[timeline.RefOf(k.DNSKEY)] {
			add(k.DNSKEY, timerBars(k, from, to), "")
		}
	}
	if b := tl.Bundle(); b != nil {
		for i := range b.Slots {
			for _, k := range b.Slots[i].DNSKEY {
				if !seen[timeline.RefOf(k)] {
					note := ""
					if k.Flags&dns.SEP == 0 {
						note = ", no key file"
					}
					add(k, slotKeyBars(b, k, to), note)
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b keyLane) int {
		switch {
		case a.ksk != b.ksk && a.ksk:
			return -1
		case a.ksk != b.ksk:
			return 1
		case !a.first.Equal(b.first):
			return a.first.Compare(b.first)
		case a.k.KeyTag() != b.k.KeyTag():
			return int(a.k.KeyTag()) - int(b.k.KeyTag())
		}
		return int(a.k.Algorithm) - int(b.k.Algorithm)
	})
	lanes := make([]lane, len(out))
	for i := range out {
		lanes[i] = out[i].lane
	}
	return lanes
}

// algLabel names an algorithm, e.g. "alg 13 ECDSAP256SHA256".
func algLabel(a uint8) string {
	if n, ok := dns.AlgorithmToString[a]; ok {
		return fmt.Sprintf("alg %d %s", a, n)
	}
	return fmt.Sprintf("alg %d", a)
}

// timerBars are the stretches of a key's timers within [from, to):
// published from Publish (else Created) to Activate, active to Inactive,
// inactive to Delete, removed after.
func timerBars(k *keystore.Key, from, to time.Time) []bar {
	far := to.Add(time.Hour)
	or := func(t, def time.Time) time.Time {
		if t.IsZero() {
			return def
		}
		return t
	}
	pub, act := or(k.PublishedSince(), from), or(k.ActiveSince(), from)
	ina := or(k.Timers.Inactive, far)
	del := or(k.Timers.Delete, far)
	what := func(s string, a, b time.Time) string {
		if b == far {
			return fmt.Sprintf("%s from %s", s, stamp(a))
		}
		return fmt.Sprintf("%s %s to %s", s, stamp(a), stamp(b))
	}
	var bars []bar
	addBar := func(kind barKind, a, b time.Time, title string) {
		if a.Before(from) {
			a = from
		}
		if b.After(to) {
			b = to
		}
		if a.Before(b) {
			bars = append(bars, bar{Kind: kind, From: a, To: b, Title: title})
		}
	}
	addBar(barPublished, pub, earliest(act, ina, del), what("published", pub, act))
	addBar(barActive, act, earliest(ina, del), what("active", act, ina))
	addBar(barInactive, ina, del, what("inactive", ina, del))
	addBar(barRemoved, del, far, what("removed", del, far))
	return bars
}

// earliest returns the earliest of ts.
func earliest(ts ...time.Time) time.Time {
	out := ts[0]
	for _, t := range ts[1:] {
		if t.Before(out) {
			out = t
		}
	}
	return out
}

// slotEnd is the end of slot i's stretch in force: the next slot's start,
// for the last one the end of its signatures (its start without any).
func slotEnd(b *keystore.Bundle, i int) time.Time {
	if i+1 < len(b.Slots) {
		return b.Slots[i+1].Start
	}
	if _, exp, ok := b.Slots[i].Validity(); ok && exp.After(b.Slots[i].Start) {
		return exp
	}
	return b.Slots[i].Start
}

// slotKeyBars are the stretches of a key of the bundle only: published
// while a slot in force holds it, active while a slot's DNSKEY RRSIG is
// its own (a KSK), removed after the last slot that holds it if later
// ones do not.
func slotKeyBars(b *keystore.Bundle, k *dns.DNSKEY, to time.Time) []bar {
	ref := timeline.RefOf(k)
	var bars []bar
	last := -1
	for i := range b.Slots {
		s := &b.Slots[i]
		if !slices.ContainsFunc(s.DNSKEY, func(d *dns.DNSKEY) bool { return timeline.RefOf(d) == ref }) {
			continue
		}
		last = i
		kind := barPublished
		for _, sig := range s.RRSIGs {
			if sig.TypeCovered == dns.TypeDNSKEY && sig.KeyTag == k.KeyTag() && sig.Algorithm == k.Algorithm {
				kind = barActive
			}
		}
		bars = appendMerged(bars, bar{Kind: kind, From: s.Start, To: slotEnd(b, i)})
	}
	if last >= 0 && last+1 < len(b.Slots) {
		bars = appendMerged(bars, bar{Kind: barRemoved, From: slotEnd(b, last), To: to})
	}
	for i := range bars {
		bars[i].Title = fmt.Sprintf("%s %s to %s (slots of the bundle)", barStyles[bars[i].Kind].Legend, stamp(bars[i].From), stamp(bars[i].To))
	}
	return bars
}

// appendMerged appends b to bars, or lengthens the last bar when b
// continues it with the same kind and text.
func appendMerged(bars []bar, b bar) []bar {
	if n := len(bars); n > 0 && bars[n-1].Kind == b.Kind && bars[n-1].Text == b.Text && bars[n-1].To.Equal(b.From) {
		bars[n-1].To = b.To
		return bars
	}
	return append(bars, b)
}

// slotLane draws the bundle's slots: each slot's stretch in force (row 0,
// numbered, in alternate shades), the stretches without a valid DNSKEY
// signature in red (keystore.Bundle.FirstGap, as check reports them), and
// each slot's DNSKEY RRSIG validity in two thin rows under them.
func slotLane(b *keystore.Bundle, to time.Time) lane {
	l := lane{ID: "slots", Label: "DNSKEY set", Sub: fmt.Sprintf("%d slots, RRSIG validity", len(b.Slots)), H: slotLaneH}
	for i := range b.Slots {
		s := &b.Slots[i]
		kind := barSlot
		if i%2 == 1 {
			kind = barSlotAlt
		}
		var signers []string
		for _, sig := range s.RRSIGs {
			if sig.TypeCovered == dns.TypeDNSKEY {
				signers = append(signers, fmt.Sprint(sig.KeyTag))
			}
		}
		l.Bars = append(l.Bars, bar{Kind: kind, From: s.Start, To: slotEnd(b, i), Text: fmt.Sprint(i + 1),
			Title: fmt.Sprintf("slot %d from %s, DNSKEY RRSIGs by KSK %s valid %s", i+1, stamp(s.Start), strings.Join(signers, ", "), slotValidity(s))})
		if inc, exp, ok := s.Validity(); ok {
			l.Bars = append(l.Bars, bar{Kind: barValidity, From: inc, To: exp, Text: fmt.Sprintf("row%d", i%2),
				Title: fmt.Sprintf("slot %d: DNSKEY RRSIGs valid from %s to %s", i+1, stamp(inc), stamp(exp))})
		}
	}
	if len(b.Slots) > 0 {
		g := b.FirstGap(b.Slots[0].Start)
		for n := 0; g.Inner() && n < 1000; n++ {
			l.Bars = append(l.Bars, bar{Kind: barGap, From: g.Start, To: g.End,
				Title: fmt.Sprintf("gap %s to %s without a valid DNSKEY signature, after slot %d", stamp(g.Start), stamp(g.End), g.Slot)})
			g = b.FirstGap(g.End)
		}
		if g.Start.Before(to) {
			l.Bars = append(l.Bars, bar{Kind: barGap, From: g.Start, To: to, Title: fmt.Sprintf("no valid DNSKEY signature from %s: the bundle's end", stamp(g.Start))})
		}
	}
	return l
}

// segment is a stretch of time with one answer of Timeline.At.
type segment struct {
	From, To time.Time
	KS       *timeline.KeySet // nil when At failed
	Err      error
}

// walk asks the timeline what is in force from from to to, as the server
// would: At, then again at the KeySet's Until; after an error, at the next
// instant anything changes (a slot, a signature, a key timer), or a 200th
// of the period later.
func walk(tl *timeline.Timeline, from, to time.Time) []segment {
	var events []time.Time
	if b := tl.Bundle(); b != nil {
		for i := range b.Slots {
			events = append(events, b.Slots[i].Start)
			if inc, exp, ok := b.Slots[i].Validity(); ok {
				events = append(events, inc, exp)
			}
		}
	}
	for _, k := range append(append([]*keystore.Key{}, tl.KSKs()...), tl.ZSKs()...) {
		events = append(events, k.Timers.Publish, k.Timers.Activate, k.Timers.Inactive, k.Timers.Delete)
	}
	step := max(to.Sub(from)/200, time.Second)
	var segs []segment
	for t, n := from, 0; t.Before(to) && n < 5000; n++ {
		ks, err := tl.At(t)
		next := t.Add(step)
		if err == nil {
			next = ks.Until
		} else {
			for _, e := range events {
				if e.After(t) && e.Before(next) {
					next = e
				}
			}
		}
		if !next.After(t) {
			next = t.Add(time.Second)
		}
		if next.After(to) {
			next = to
		}
		if n := len(segs); err != nil && n > 0 && segs[n-1].Err != nil && segs[n-1].Err.Error() == err.Error() {
			segs[n-1].To = next
		} else {
			segs = append(segs, segment{t, next, ks, err})
		}
		t = next
	}
	return segs
}

// onlineLane draws the DNSKEY sets an online KSK signs: which KSKs sign
// when, and in red when At finds no valid set.
func onlineLane(segs []segment) lane {
	l := lane{ID: "slots", Label: "DNSKEY set", Sub: "signed by the online KSK"}
	for _, s := range segs {
		if s.KS == nil {
			l.Bars = appendMerged(l.Bars, bar{Kind: barGap, From: s.From, To: s.To, Title: s.Err.Error()})
			continue
		}
		var tags []string
		for _, r := range s.KS.DNSKEYSigs {
			if sig, ok := r.(*dns.RRSIG); ok {
				tags = append(tags, fmt.Sprint(sig.KeyTag))
			}
		}
		l.Bars = appendMerged(l.Bars, bar{Kind: barSlot, From: s.From, To: s.To, Text: "KSK " + strings.Join(tags, "+")})
	}
	for i := range l.Bars {
		if l.Bars[i].Kind == barSlot {
			l.Bars[i].Title = fmt.Sprintf("DNSKEY set signed by %s from %s to %s", l.Bars[i].Text, stamp(l.Bars[i].From), stamp(l.Bars[i].To))
		}
	}
	return l
}

// signingLanes draws the ZSK that signs, one lane per algorithm that signs
// at some time (two during an algorithm roll): the key tag, a new shade at
// each change of key, fallback in its own colour, red where At fails.
func signingLanes(segs []segment) []lane {
	var algs []uint8
	for _, s := range segs {
		if s.KS != nil {
			for _, z := range s.KS.ZSKs {
				if !slices.Contains(algs, z.DNSKEY.Algorithm) {
					algs = append(algs, z.DNSKEY.Algorithm)
				}
			}
		}
	}
	slices.Sort(algs)
	var lanes []lane
	for _, alg := range algs {
		l := lane{ID: fmt.Sprintf("signing-%d", alg), Label: "signing ZSK", Sub: algLabel(alg)}
		var last *keystore.Key
		alt := true
		for _, s := range segs {
			if s.KS == nil {
				l.Bars = appendMerged(l.Bars, bar{Kind: barGap, From: s.From, To: s.To, Title: s.Err.Error()})
				last = nil
				continue
			}
			i := slices.IndexFunc(s.KS.ZSKs, func(z *keystore.Key) bool { return z.DNSKEY.Algorithm == alg })
			if i < 0 {
				last = nil
				continue
			}
			z := s.KS.ZSKs[i]
			if z != last {
				alt = !alt
			}
			last = z
			kind := barSigning
			if alt {
				kind = barSigningAlt
			}
			if i == 0 && s.KS.Fallback {
				kind = barFallback
			}
			l.Bars = appendMerged(l.Bars, bar{Kind: kind, From: s.From, To: s.To, Text: fmt.Sprint(z.Tag())})
		}
		for i := range l.Bars {
			if b := &l.Bars[i]; b.Kind != barGap {
				b.Title = fmt.Sprintf("ZSK %s signs from %s to %s", b.Text, stamp(b.From), stamp(b.To))
				if b.Kind == barFallback {
					b.Title += " past its Inactive time (no successor ready)"
				}
			}
		}
		lanes = append(lanes, l)
	}
	return lanes
}

// pictureMarkers are the instants to act on: now (the -at time), when to
// sign the next KSR (end of coverage - warn-coverage) and the parent's DS
// deadline for a new KSK.
func pictureMarkers(in *pictureInput) []marker {
	ms := []marker{{Kind: markNow, At: in.At, Label: "now " + shortStamp(in.At)}}
	if b := in.TL.Bundle(); b != nil && !in.CoverageEnd.IsZero() {
		what := "sign the next KSR"
		if !b.SKR {
			what = "re-sign the bundle"
		}
		t := in.CoverageEnd.Add(-in.Warn)
		ms = append(ms, marker{Kind: markKSR, At: t, Label: fmt.Sprintf("%s %s (coverage ends %s)", what, shortStamp(t), shortStamp(in.CoverageEnd))})
	}
	if !in.DSDeadline.IsZero() {
		ms = append(ms, marker{Kind: markDS, At: in.DSDeadline, Label: fmt.Sprintf("parent DS for KSK %s due %s", kskTags(in.DSKSKs), shortStamp(in.DSDeadline))})
	}
	return ms
}

// shortStamp is t as "2006-01-02 15:04" UTC.
func shortStamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

// layout places the markers' labels, the lanes, their bars, the ticks and
// the legend, top to bottom.
func (p *picture) layout(lanes []lane) {
	// Marker labels: in rows above the lanes, the first row that has room.
	var rows [][][2]float64
	for i := range p.Markers {
		m := &p.Markers[i]
		m.X = p.X(m.At)
		w := float64(len([]rune(m.Label)))*charWidth + 4
		x0 := m.X + 3
		if x0+w > p.Width-4 {
			m.LabelEnd, x0 = true, m.X-3-w
		}
		m.LabelX = m.X + 3
		if m.LabelEnd {
			m.LabelX = m.X - 3
		}
		r := 0
		for ; r < len(rows); r++ {
			if !slices.ContainsFunc(rows[r], func(s [2]float64) bool { return x0 < s[1] && s[0] < x0+w }) {
				break
			}
		}
		if r == len(rows) {
			rows = append(rows, nil)
		}
		rows[r] = append(rows[r], [2]float64{x0, x0 + w})
		m.LabelY = 46 + float64(r)*markerRowH
	}
	y := 46 + float64(len(rows))*markerRowH
	p.PlotTop = y
	for _, l := range lanes {
		if l.H == 0 {
			l.H = laneH
		}
		l.Y = y
		bars := l.Bars[:0:0]
		for _, b := range l.Bars {
			if !b.To.After(p.From) || !b.From.Before(p.To) {
				continue
			}
			b.X = p.X(b.From)
			b.W = max(round1(p.X(b.To)-b.X), 1)
			b.Y, b.H = y, laneH
			if b.Kind == barValidity { // two thin rows under the slots
				b.Y, b.H = y+laneH+2, 5
				if b.Text == "row1" {
					b.Y += 6
				}
				b.Text = ""
			}
			if float64(len(b.Text))*charWidth+4 > b.W {
				b.Text = ""
			}
			bars = append(bars, b)
		}
		l.Bars = bars
		p.Lanes = append(p.Lanes, l)
		y += l.H + laneGap
	}
	p.PlotBottom = y
	for _, t := range timeTicks(p.From, p.To, int((p.PlotRight-p.PlotLeft)/tickSpacing)) {
		t.X = p.X(t.At)
		p.Ticks = append(p.Ticks, t)
	}
	used := map[barKind]bool{}
	for _, l := range p.Lanes {
		for _, b := range l.Bars {
			used[b.Kind] = true
		}
	}
	used[barSlot] = used[barSlot] || used[barSlotAlt]
	used[barSigning] = used[barSigning] || used[barSigningAlt]
	x, ly := 10.0, p.PlotBottom+40
	for k := barKind(0); k < numBarKinds; k++ {
		if !used[k] || barStyles[k].Legend == "" {
			continue
		}
		w := 16 + float64(len(barStyles[k].Legend))*charWidth + 14
		if x+w > p.Width-10 {
			x, ly = 10, ly+18
		}
		p.Legend = append(p.Legend, legendItem{k, x, ly})
		x += w
	}
	p.Height = ly + 14
}
