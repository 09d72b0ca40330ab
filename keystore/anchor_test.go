package keystore

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestReadAnchor(t *testing.T) {
	ksk := ldnsBundle(t).DNSKEY[1] // 41401
	zsk := ldnsZSK(t)
	dir := t.TempDir()
	tests := []struct {
		name    string
		file    string // path, or content written to a temp file
		content bool
		zone    string
		wantErr string
		ds, key int
		matches bool
	}{
		{name: "ldns-key2ds output", file: td("ldns-classic", "ksk.ds"), zone: "example.net.", ds: 1, matches: true},
		{name: "BIND .key file", file: td("ldns-classic", "ksk-offline", "Kexample.net.+013+41401.key"), zone: "EXAMPLE.NET", key: 1, matches: true},
		{name: "dnssec-dsfromkey output, upper-case digest, no TTL", content: true, zone: "example.net.",
			file: "example.net. IN DS 41401 13 2 E6F201B2A9123926219468F85D7242393A15DB8A5584687C9E1BE1CD17F57E21\n", ds: 1, matches: true},
		{name: "SHA-384 DS", content: true, zone: "example.net.",
			file: strings.Replace(dsOf(t, ksk, dns.SHA384), "\t", " ", -1) + "\n", ds: 1, matches: true},
		{name: "DS of another key", content: true, zone: "example.net.",
			file: "example.net. 3600 IN DS 41401 13 2 0000000000000000000000000000000000000000000000000000000000000000\n", ds: 1},
		{name: "relative owner", content: true, zone: "example.net.", file: "$ORIGIN example.net.\n@ 3600 IN DS 41401 13 2 e6f201b2a9123926219468f85d7242393a15db8a5584687c9e1be1cd17f57e21\n", ds: 1, matches: true},
		{name: "empty", content: true, zone: "example.net.", file: "", wantErr: "no DS or DNSKEY record for example.net."},
		{name: "comments only", content: true, zone: "example.net.", file: "; nothing here\n", wantErr: "no DS or DNSKEY record"},
		{name: "wrong owner", content: true, zone: "example.org.", file: "example.net. IN DS 41401 13 2 E6F201B2A9123926219468F85D7242393A15DB8A5584687C9E1BE1CD17F57E21\n",
			wantErr: ":1: DS record for example.net., not example.org."},
		{name: "other type", content: true, zone: "example.net.", file: "example.net. 300 IN A 192.0.2.1\n", wantErr: ":1: unexpected A record"},
		{name: "unparseable", content: true, zone: "example.net.", file: "example.net. IN DS 41401 x 2 zz\n", wantErr: "line: 1"},
		{name: "missing file", file: filepath.Join(dir, "nope.ds"), zone: "example.net.", wantErr: "no such file"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.file
			if tc.content {
				path = writeFile(t, dir, "anchor"+string(rune('a'+i)), tc.file, 0o644)
			}
			a, err := ReadAnchor(path, tc.zone)
			wantErr(t, err, tc.wantErr)
			if err != nil {
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name %s", err, path)
				}
				return
			}
			if len(a.DS) != tc.ds || len(a.Keys) != tc.key || a.File != path {
				t.Fatalf("anchor %+v", a)
			}
			if got := a.Matches(ksk); got != tc.matches {
				t.Errorf("Matches(KSK) = %v, want %v", got, tc.matches)
			}
			if a.Matches(zsk) {
				t.Error("Matches(ZSK) = true")
			}
			if tags := a.Tags(); len(tags) != 1 || tags[0] != 41401 {
				t.Errorf("Tags %v", tags)
			}
		})
	}
}

func dsOf(t *testing.T, k *dns.DNSKEY, digest uint8) string {
	t.Helper()
	ds := k.ToDS(digest)
	if ds == nil {
		t.Fatalf("ToDS(%d) failed", digest)
	}
	return ds.String()
}

func TestAnchorMatchesFlagsDiffer(t *testing.T) {
	ksk := ldnsBundle(t).DNSKEY[1]
	a := &Anchor{Keys: []*dns.DNSKEY{ksk}}
	revoked := *ksk
	revoked.Flags |= dns.REVOKE
	if a.Matches(&revoked) {
		t.Error("a DNSKEY anchor matched a key with other flags")
	}
	var nilAnchor *Anchor
	if nilAnchor.Matches(ksk) {
		t.Error("nil anchor matched")
	}
}
