package config

import (
	"bytes"
	"fmt"

	"github.com/coredns/caddy/caddyfile"
	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// maxCorefileSize bounds the Corefile ReadCorefile reads.
const maxCorefileSize = 1 << 20

// ReadCorefile reads every livesign block of the Corefile at path, with
// CoreDNS's Corefile reader. Relative paths in a block are taken under its
// server block's root directive, and under the working directory.
func ReadCorefile(path string) ([]Config, error) {
	blocks, err := serverBlocks(path)
	if err != nil {
		return nil, err
	}
	var all []Config
	for _, b := range blocks {
		cfgs, err := b.parse()
		if err != nil {
			return nil, err
		}
		all = append(all, cfgs...)
	}
	return all, nil
}

// ForZone returns the livesign block of zone (fully qualified, lower case)
// in the Corefile at path. Server blocks that do not name zone need not be
// complete.
func ForZone(path, zone string) (Config, error) {
	blocks, err := serverBlocks(path)
	if err != nil {
		return Config{}, err
	}
	var found []Config
	for _, b := range blocks {
		if !b.names(zone) {
			continue
		}
		cfgs, err := b.parse()
		if err != nil {
			return Config{}, err
		}
		for _, c := range cfgs {
			if c.Zone == zone {
				found = append(found, c)
			}
		}
	}
	switch len(found) {
	case 0:
		return Config{}, fmt.Errorf("%s: no livesign block for %s", path, zone)
	case 1:
		return found[0], nil
	}
	return Config{}, fmt.Errorf("%s: %d livesign blocks for %s: keep one", path, len(found), zone)
}

// serverBlock is a server block of a Corefile with a livesign block.
type serverBlock struct {
	file  string
	zones []string
	root  string
	toks  []caddyfile.Token // of the livesign directives
}

// serverBlocks reads the server blocks of the Corefile at path that hold
// a livesign block.
func serverBlocks(path string) ([]serverBlock, error) {
	data, err := keystore.ReadRegularFile(path, maxCorefileSize)
	if err != nil {
		return nil, err
	}
	blocks, err := caddyfile.Parse(path, bytes.NewReader(data), nil)
	if err != nil {
		return nil, err
	}
	var out []serverBlock
	for _, b := range blocks {
		sb := serverBlock{file: path, toks: b.Tokens["livesign"]}
		if len(sb.toks) == 0 {
			continue
		}
		for _, k := range b.Keys {
			sb.zones = append(sb.zones, blockZone(k))
		}
		if r := b.Tokens["root"]; len(r) > 1 {
			sb.root = r[1].Text
		}
		out = append(out, sb)
	}
	return out, nil
}

func (b serverBlock) parse() ([]Config, error) {
	d := caddyfile.NewDispenserTokens(b.file, b.toks)
	return Parse(&d, b.zones, b.root)
}

// names tells whether the block may hold the livesign block of zone: zone
// is one of its keys or a word of its livesign lines.
func (b serverBlock) names(zone string) bool {
	for _, z := range b.zones {
		if z == zone {
			return true
		}
	}
	for _, t := range b.toks {
		if dns.CanonicalName(t.Text) == zone {
			return true
		}
	}
	return false
}
