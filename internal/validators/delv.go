package validators

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// delvTimeout bounds one delv run; delv has its own per-query timeouts and retries.
const delvTimeout = 60 * time.Second

// Delv runs delv against server for name/qtype with the zone's trust anchor; returns whether it
// printed "; fully validated" and its full output.
//
// server is host:port; zone is the zone the anchor belongs to (delv starts validation there
// instead of at the root); anchor is one or more DS or DNSKEY RRs in zone-file text; extra
// arguments go to delv before the query (e.g. "+tcp", "+vtrace"). The anchor is written as a
// BIND trust-anchors file in t.TempDir() and delv (BIND 9.18) runs as
//
//	delv -a FILE +root=ZONE @HOST -p PORT [extra...] -t TYPE<n> -q NAME
//
// with FILE holding `trust-anchors { ZONE static-ds TAG ALG DIGESTTYPE "HEX"; };` for a DS
// and `ZONE static-key FLAGS 3 ALG "BASE64";` for a DNSKEY. The type is always given as TYPE<n>:
// delv 9.18 answers "ignoring invalid type" for a name it does not know (NXNAME) and queries A.
//
// delv exits 0 whether or not the answer validated, so the verdict comes from its output
// (stdout and stderr are both returned, stderr's ";;" lines first-come first-served):
//   - positive, validated: "; fully validated" then the RRset and its RRSIGs;
//   - NXDOMAIN/NODATA, validated: ";; resolution failed: ncache nxdomain" (or "ncache nxrrset")
//     on stderr AND "; negative response, fully validated" followed by the proof as comments;
//   - bogus (wrong anchor, bad signature): ";; validating example.net/DNSKEY: no valid
//     signature found (DS)", ";; broken trust chain resolving ...", ";; resolution failed:
//     broken trust chain", and no "fully validated" line;
//   - unsigned (from BIND's source, not exercised here): "; unsigned answer" (or "; negative
//     response, unsigned answer").
//
// validated is true iff a line reads "; fully validated" or "; negative response, fully
// validated". Delv fails the test when delv cannot run at all (no trust anchor loaded, timeout).
func Delv(t testing.TB, server, zone, anchor, name string, qtype uint16, extra ...string) (validated bool, out string) {
	t.Helper()
	delv := Require(t, "delv")
	host, port := splitServer(t, server)
	zone = dns.Fqdn(zone)

	var b strings.Builder
	b.WriteString("trust-anchors {\n")
	for _, rr := range parseAnchor(t, anchor) {
		switch a := rr.(type) {
		case *dns.DS:
			fmt.Fprintf(&b, "\t%s static-ds %d %d %d \"%s\";\n", a.Hdr.Name, a.KeyTag, a.Algorithm, a.DigestType, a.Digest)
		case *dns.DNSKEY:
			fmt.Fprintf(&b, "\t%s static-key %d %d %d \"%s\";\n", a.Hdr.Name, a.Flags, a.Protocol, a.Algorithm, a.PublicKey)
		}
	}
	b.WriteString("};\n")
	f, err := os.CreateTemp(t.TempDir(), "delv-anchors-*.conf")
	if err != nil {
		t.Fatalf("validators: delv anchor file: %v", err)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatalf("validators: delv anchor file: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("validators: delv anchor file: %v", err)
	}

	args := []string{"-a", filepath.Clean(f.Name()), "+root=" + zone, "@" + host, "-p", port}
	args = append(args, extra...)
	args = append(args, "-t", typeArg(qtype), "-q", dns.Fqdn(name))

	ctx, cancel := context.WithTimeout(context.Background(), delvTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, delv, args...)
	cmd.WaitDelay = 5 * time.Second
	raw, err := cmd.CombinedOutput()
	out = string(raw)
	cmdline := delv + " " + strings.Join(args, " ")
	if ctx.Err() != nil {
		t.Fatalf("validators: %s: timed out after %v\n%s", cmdline, delvTimeout, out)
	}
	if err != nil {
		// delv exits non-zero only when it could not run the query at all.
		t.Fatalf("validators: %s: %v\n%s\nanchor file:\n%s", cmdline, err, out, b.String())
	}
	if strings.Contains(out, "No trusted keys were loaded") || strings.Contains(out, "ignoring invalid") {
		t.Fatalf("validators: %s: delv did not run as intended:\n%s\nanchor file:\n%s", cmdline, out, b.String())
	}
	for _, line := range strings.Split(out, "\n") {
		switch strings.TrimSpace(line) {
		case "; fully validated", "; negative response, fully validated":
			validated = true
		}
	}
	return validated, out
}
