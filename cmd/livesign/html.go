package main

import (
	"bytes"
	"fmt"
	"html"
	"os"
)

// renderHTML wraps the picture and check's text report into one page.
func renderHTML(p *picture, report string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n", esc("livesign check: "+p.Title))
	b.WriteString("<style>body{font-family:\"DejaVu Sans\",Verdana,sans-serif;margin:1em}pre{font-size:12px;background:#f6f6f6;padding:0.5em;overflow-x:auto}</style>\n</head>\n<body>\n")
	b.Write(renderSVG(p, false))
	fmt.Fprintf(&b, "<pre id=\"report\">%s</pre>\n</body>\n</html>\n", html.EscapeString(report))
	return b.Bytes()
}

// writePictures writes the picture of in to svgFile and, with report, to
// htmlFile (either may be ""). Errors name the file.
func writePictures(in *pictureInput, svgFile, htmlFile, report string) error {
	p := buildPicture(in)
	if svgFile != "" {
		if err := os.WriteFile(svgFile, renderSVG(p, true), 0o644); err != nil {
			return fmt.Errorf("check: -svg: %w", err)
		}
	}
	if htmlFile != "" {
		if err := os.WriteFile(htmlFile, renderHTML(p, report), 0o644); err != nil {
			return fmt.Errorf("check: -html: %w", err)
		}
	}
	return nil
}
