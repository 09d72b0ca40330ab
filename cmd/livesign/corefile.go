package main

import (
	"fmt"
	"strings"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// maxCorefileSize bounds the Corefile the CLI reads (-corefile).
const maxCorefileSize = 1 << 20

// corefileLine is one non-empty Corefile line split into tokens.
type corefileLine struct {
	no   int
	toks []string
}

// corefileBlock reads the directives of the livesign block for zone in a
// Corefile: "livesign [ZONE...] { NAME ARG... }" inside a server block (whose
// keys give the zone when the livesign line names none). It is a small
// reader for the operator CLI, not CoreDNS's parser: comments (#), one
// directive per line, other plugins' blocks skipped.
func corefileBlock(path, zone string) (map[string][]string, error) {
	data, err := keystore.ReadRegularFile(path, maxCorefileSize)
	if err != nil {
		return nil, err
	}
	zone = dns.CanonicalName(zone)
	var lines []corefileLine
	for i, l := range strings.Split(string(data), "\n") {
		if j := strings.IndexByte(l, '#'); j >= 0 {
			l = l[:j]
		}
		l = strings.NewReplacer("{", " { ", "}", " } ").Replace(l)
		if toks := strings.Fields(l); len(toks) > 0 {
			lines = append(lines, corefileLine{i + 1, toks})
		}
	}
	var keys []string // the current server block's keys
	var found map[string][]string
	depth := 0
	for i := 0; i < len(lines); i++ {
		toks := lines[i].toks
		if depth == 1 && toks[0] == "livesign" && toks[len(toks)-1] == "{" {
			start := lines[i].no
			names := toks[1 : len(toks)-1]
			if len(names) == 0 {
				names = keys
			}
			block := map[string][]string{}
			for i++; i < len(lines) && lines[i].toks[0] != "}"; i++ {
				t := lines[i].toks
				if t[len(t)-1] == "{" {
					return nil, fmt.Errorf("%s:%d: unexpected block inside the livesign block", path, lines[i].no)
				}
				block[t[0]] = t[1:]
			}
			if i == len(lines) {
				return nil, fmt.Errorf("%s:%d: the livesign block is not closed", path, start)
			}
			for _, n := range names {
				if serverZone(n) != zone {
					continue
				}
				if found != nil {
					return nil, fmt.Errorf("%s:%d: a second livesign block for %s", path, start, zone)
				}
				found = block
			}
			continue
		}
		for _, t := range toks {
			switch t {
			case "{":
				if depth == 0 {
					keys = nil
					for _, k := range toks {
						if k != "{" {
							keys = append(keys, strings.TrimSuffix(k, ","))
						}
					}
				}
				depth++
			case "}":
				depth--
			}
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%s: no livesign block for %s", path, zone)
	}
	return found, nil
}

// serverZone turns a server block key ("dns://example.org:53",
// "example.org.") into a canonical zone name.
func serverZone(k string) string {
	k = strings.TrimPrefix(k, "dns://")
	if i := strings.LastIndexByte(k, ':'); i >= 0 {
		k = k[:i]
	}
	return dns.CanonicalName(k)
}
