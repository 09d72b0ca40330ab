// Command coredns is CoreDNS with its standard plugins plus livesign,
// which runs right after dnssec in the plugin chain.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/core/plugin" // the standard plugins
	"github.com/coredns/coredns/coremain"

	_ "github.com/livesign/livesign" // registers livesign
)

func init() { dnsserver.Directives = insertAfter(dnsserver.Directives, "dnssec", "livesign") }

// insertAfter returns list with name inserted right after anchor (at the
// end when anchor is missing), unless name is already there.
func insertAfter(list []string, anchor, name string) []string {
	for _, d := range list {
		if d == name {
			return list
		}
	}
	out := make([]string, 0, len(list)+1)
	done := false
	for _, d := range list {
		out = append(out, d)
		if d == anchor {
			out = append(out, name)
			done = true
		}
	}
	if !done {
		out = append(out, name)
	}
	return out
}

func main() { coremain.Run() }
