package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
)

// This file draws the layout model of picture.go as SVG, by hand: every
// text and attribute value goes through esc.

// esc escapes s for XML text and attribute values (quotes included).
func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s)) // writes to a bytes.Buffer: no error
	return b.String()
}

// num formats a coordinate: at most one decimal, no trailing zeros.
func num(v float64) string {
	return fmt.Sprint(round1(v))
}

// renderSVG draws p. standalone adds the XML declaration (a file of its
// own); without it the SVG can be put inline into HTML.
func renderSVG(p *picture, standalone bool) []byte {
	var b bytes.Buffer
	if standalone {
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="DejaVu Sans, Verdana, Arial, sans-serif" font-size="11">`+"\n",
		num(p.Width), num(p.Height), num(p.Width), num(p.Height))
	fmt.Fprintf(&b, "<title>%s</title>\n", esc("livesign timeline: "+p.Title))
	fmt.Fprintf(&b, `<rect id="background" x="0" y="0" width="%s" height="%s" fill="#ffffff"/>`+"\n", num(p.Width), num(p.Height))
	fmt.Fprintf(&b, `<text id="title" x="10" y="22" font-size="14" font-weight="bold">%s</text>`+"\n", esc(p.Title))

	// Grid and axis.
	b.WriteString(`<g id="grid" stroke="#e8e8e8" stroke-width="1">` + "\n")
	for _, t := range p.Ticks {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`+"\n", num(t.X), num(p.PlotTop-4), num(t.X), num(p.PlotBottom))
	}
	b.WriteString("</g>\n")

	for _, l := range p.Lanes {
		fmt.Fprintf(&b, `<g class="lane" id="lane-%s">`+"\n", esc(l.ID))
		fmt.Fprintf(&b, `<text class="label" x="10" y="%s" font-weight="bold">%s</text>`+"\n", num(l.Y+10), esc(l.Label))
		fmt.Fprintf(&b, `<text class="sub" x="10" y="%s" font-size="9" fill="#555555">%s</text>`+"\n", num(l.Y+20), esc(l.Sub))
		for _, r := range l.Bars {
			st := barStyles[r.Kind]
			fmt.Fprintf(&b, `<rect class="bar" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`+"\n",
				num(r.X), num(r.Y), num(r.W), num(r.H), st.Fill, esc(r.Title))
			if r.Text != "" {
				fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" fill="%s">%s</text>`+"\n", num(r.X+r.W/2), num(r.Y+r.H/2+4), st.Text, esc(r.Text))
			}
		}
		b.WriteString("</g>\n")
	}

	fmt.Fprintf(&b, `<g id="axis"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000000"/>`+"\n", num(p.PlotLeft), num(p.PlotBottom), num(p.PlotRight), num(p.PlotBottom))
	for _, t := range p.Ticks {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000000"/>`+"\n", num(t.X), num(p.PlotBottom), num(t.X), num(p.PlotBottom+4))
		fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", num(t.X), num(p.PlotBottom+16), esc(t.Label))
	}
	fmt.Fprintf(&b, `<text x="10" y="%s" fill="#555555">time (UTC)</text>`+"\n", num(p.PlotBottom+16))
	b.WriteString("</g>\n")

	b.WriteString(`<g id="markers">` + "\n")
	for _, m := range p.Markers {
		dash := ` stroke-dasharray="5,3"`
		if m.Kind == markNow {
			dash = ""
		}
		c := markerColours[m.Kind]
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5"%s/>`+"\n", num(m.X), num(m.LabelY+3), num(m.X), num(p.PlotBottom), c, dash)
		anchor := "start"
		if m.LabelEnd {
			anchor = "end"
		}
		fmt.Fprintf(&b, `<text class="marker" x="%s" y="%s" text-anchor="%s" fill="%s">%s</text>`+"\n", num(m.LabelX), num(m.LabelY), anchor, c, esc(m.Label))
	}
	b.WriteString("</g>\n")

	b.WriteString(`<g id="legend">` + "\n")
	for _, it := range p.Legend {
		st := barStyles[it.Kind]
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="12" height="12" fill="%s"/>`+"\n", num(it.X), num(it.Y-10), st.Fill)
		fmt.Fprintf(&b, `<text x="%s" y="%s">%s</text>`+"\n", num(it.X+16), num(it.Y), esc(st.Legend))
	}
	b.WriteString("</g>\n</svg>\n")
	return b.Bytes()
}
