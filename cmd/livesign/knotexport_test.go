package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/keystore"
)

// knotExportZSKs writes the ZSKs of zone in the KASP database of Knot's
// configuration conf (keymgr -c conf ZONE list -e for the timers, the
// <key id>.pem files of its PEM keystore, pemDir, for the private keys:
// keymgr 3.2 has no export command; by default pemDir is <storage>/keys/keys) as BIND key files into out, for livesign's keys
// directory. Knot's timers map to BIND's as follows:
//
//	Publish  = publish
//	Activate = pre-active when set (Knot signs with a pre-active key, not
//	           yet published, in an algorithm roll), else active
//	Inactive = retire when set, else remove (a post-active key of an
//	           algorithm roll, no longer published, signs until remove)
//	Delete   = post-active when set, else remove
//
// It checks that each written key has keymgr's key tag and algorithm.
func knotExportZSKs(t testing.TB, keymgr, conf, pemDir, zone, out string) []*keystore.Key {
	t.Helper()
	cmd := exec.Command(keymgr, "-c", conf, dns.Fqdn(zone), "list", "-e")
	cmd.Dir = filepath.Dir(conf)
	list, err := cmd.Output()
	if err != nil {
		t.Fatalf("keymgr list -e: %v", err)
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		t.Fatal(err)
	}
	var keys []*keystore.Key
	for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		f := map[string]string{}
		for _, kv := range fields[1:] {
			if k, v, ok := strings.Cut(kv, "="); ok {
				f[k] = v
			}
		}
		if f["zsk"] != "yes" || f["ksk"] == "yes" {
			continue
		}
		k := knotKey(t, filepath.Join(pemDir, fields[0]+".pem"), zone)
		if tag, _ := strconv.Atoi(f["tag"]); tag != int(k.Tag()) || f["algorithm"] != strconv.Itoa(int(k.DNSKEY.Algorithm)) {
			t.Fatalf("key %s: keymgr says tag %s algorithm %s, the PEM gives tag %d algorithm %d", fields[0], f["tag"], f["algorithm"], k.Tag(), k.DNSKEY.Algorithm)
		}
		ts := func(name string) time.Time {
			n, err := strconv.ParseInt(f[name], 10, 64)
			if err != nil {
				t.Fatalf("keymgr list -e: %s=%q: %v", name, f[name], err)
			}
			if n == 0 {
				return time.Time{}
			}
			return time.Unix(n, 0).UTC()
		}
		or := func(a, b time.Time) time.Time {
			if !a.IsZero() {
				return a
			}
			return b
		}
		k.Timers = keystore.Timers{
			Publish:  ts("publish"),
			Activate: or(ts("pre-active"), ts("active")),
			Inactive: or(ts("retire"), ts("remove")),
			Delete:   or(ts("post-active"), ts("remove")),
		}
		if _, err := keystore.WriteKey(out, k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		t.Fatalf("keymgr list -e shows no ZSK:\n%s", list)
	}
	return keys
}

// knotKey reads one key of Knot's PEM keystore (PKCS #8) as a ZSK of zone.
func knotKey(t testing.TB, file, zone string) *keystore.Key {
	t.Helper()
	block, _ := pem.Decode(mustReadTB(t, file))
	if block == nil {
		t.Fatalf("%s: no PEM block", file)
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	k := &dns.DNSKEY{
		Hdr:      dns.RR_Header{Name: strings.ToLower(dns.Fqdn(zone)), Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags:    dns.ZONE,
		Protocol: 3,
	}
	var key *keystore.Key
	switch p := priv.(type) {
	case *ecdsa.PrivateKey:
		if p.Curve.Params().BitSize != 256 {
			t.Fatalf("%s: ECDSA curve %s is not P-256", file, p.Curve.Params().Name)
		}
		k.Algorithm = dns.ECDSAP256SHA256
		var xy [64]byte
		p.X.FillBytes(xy[:32])
		p.Y.FillBytes(xy[32:])
		k.PublicKey = base64.StdEncoding.EncodeToString(xy[:])
		key = &keystore.Key{DNSKEY: k, Signer: p}
	case ed25519.PrivateKey:
		k.Algorithm = dns.ED25519
		k.PublicKey = base64.StdEncoding.EncodeToString(p.Public().(ed25519.PublicKey))
		key = &keystore.Key{DNSKEY: k, Signer: p}
	default:
		t.Fatalf("%s: unsupported key type %T", file, priv)
	}
	return key
}

func mustReadTB(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWriteKnotAlgrollZSKs exports the ZSKs of the KASP database named by
// LIVESIGN_KNOT_EXPORT ("CONF PEMDIR ZONE OUTDIR") as BIND key files: how
// testdata/algroll/knot/zsk was made (see its README). Skipped otherwise.
func TestWriteKnotAlgrollZSKs(t *testing.T) {
	spec := os.Getenv("LIVESIGN_KNOT_EXPORT")
	if spec == "" {
		t.Skip("LIVESIGN_KNOT_EXPORT not set: nothing to export")
	}
	f := strings.Fields(spec)
	if len(f) != 4 {
		t.Fatalf("LIVESIGN_KNOT_EXPORT=%q: want CONF PEMDIR ZONE OUTDIR", spec)
	}
	for _, k := range knotExportZSKs(t, needTool(t, "keymgr"), f[0], f[1], f[2], f[3]) {
		fmt.Fprintf(os.Stderr, "%s %+v\n", k.Base, k.Timers)
	}
}
