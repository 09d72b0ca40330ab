package main

import (
	"slices"
	"testing"

	"github.com/coredns/coredns/core/dnsserver"
)

func TestLivesignRunsAfterDnssec(t *testing.T) {
	d := dnsserver.Directives
	i, j := slices.Index(d, "dnssec"), slices.Index(d, "livesign")
	if i < 0 || j != i+1 {
		t.Fatalf("livesign at %d, dnssec at %d: want livesign right after dnssec", j, i)
	}
	if f := slices.Index(d, "file"); f < j {
		t.Fatalf("file (%d) runs before livesign (%d): livesign must wrap the backends", f, j)
	}
}

func TestInsertAfter(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{"a", "dnssec", "b"}, []string{"a", "dnssec", "livesign", "b"}},
		{[]string{"a", "b"}, []string{"a", "b", "livesign"}},
		{[]string{"dnssec", "livesign"}, []string{"dnssec", "livesign"}},
	}
	for _, tc := range tests {
		if got := insertAfter(tc.in, "dnssec", "livesign"); !slices.Equal(got, tc.want) {
			t.Errorf("insertAfter(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
