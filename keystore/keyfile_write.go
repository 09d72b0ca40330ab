package keystore

import (
	"crypto"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// keyBits is the key size GenerateKey uses per algorithm.
var keyBits = map[uint8]int{
	dns.RSASHA256:       2048,
	dns.ECDSAP256SHA256: 256,
	dns.ECDSAP384SHA384: 384,
	dns.ED25519:         256,
}

// GenerateKey makes a new key for zone with algorithm alg (8, 13, 14 or 15):
// flags 257 when ksk is set, 256 otherwise, TTL 3600, Timers.Created = created
// (the other timers are left unset). It never returns a key with tag 0, which
// miekg/dns cannot sign with. Base is empty until WriteKey.
func GenerateKey(zone string, alg uint8, ksk bool, created time.Time) (*Key, error) {
	bits, ok := keyBits[alg]
	if !ok {
		return nil, fmt.Errorf("keystore: algorithm %d is not supported: use 8 (RSASHA256), 13 (ECDSAP256SHA256), 14 (ECDSAP384SHA384) or 15 (ED25519)", alg)
	}
	flags := uint16(dns.ZONE)
	if ksk {
		flags |= dns.SEP
	}
	for {
		k := &dns.DNSKEY{
			Hdr:       dns.RR_Header{Name: strings.ToLower(dns.Fqdn(zone)), Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
			Flags:     flags,
			Protocol:  3,
			Algorithm: alg,
		}
		pk, err := k.Generate(bits)
		if err != nil {
			return nil, fmt.Errorf("keystore: generating a %s key: %w", dns.AlgorithmToString[alg], err)
		}
		if k.KeyTag() == 0 {
			continue
		}
		signer, ok := pk.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("keystore: generated key of type %T is not a crypto.Signer", pk)
		}
		return &Key{DNSKEY: k, Signer: signer, Timers: Timers{Created: created.UTC().Truncate(time.Second)}}, nil
	}
}

// FileBase returns the BIND base name of k's files in dir: dir/K<zone>+<alg>+<tag>.
func FileBase(dir string, k *dns.DNSKEY) string {
	return filepath.Join(dir, fmt.Sprintf("K%s+%03d+%05d", strings.ToLower(dns.Fqdn(k.Hdr.Name)), k.Algorithm, k.KeyTag()))
}

// WriteKey writes k as BIND key files in dir, atomically: the .private file
// (mode 0600) first, then the .key file (mode 0644), both with k's timers.
// Existing files of the same key are replaced. It sets k.Base and returns it.
func WriteKey(dir string, k *Key) (string, error) {
	if k.Signer == nil {
		return "", fmt.Errorf("keystore: key %d of %s has no private key to write", k.Tag(), k.DNSKEY.Hdr.Name)
	}
	priv := k.DNSKEY.PrivateKeyString(k.Signer)
	if priv == "" {
		return "", fmt.Errorf("keystore: key %d of %s: private key of type %T cannot be written", k.Tag(), k.DNSKEY.Hdr.Name, k.Signer)
	}
	base := FileBase(dir, k.DNSKEY)
	var p strings.Builder
	p.WriteString(priv)
	for _, f := range timerFields {
		if t := *f.get(&k.Timers); !t.IsZero() {
			fmt.Fprintf(&p, "%s: %s\n", f.name, t.UTC().Format(timestampLayout))
		}
	}
	if err := WriteFileAtomic(base+".private", []byte(p.String()), 0o600); err != nil {
		return "", err
	}
	if err := WriteFileAtomic(base+".key", []byte(PublicKeyText(k)), 0o644); err != nil {
		return "", err
	}
	k.Base = base
	return base, nil
}

// PublicKeyText returns k as the text of a BIND .key file: a comment header,
// one "; Name: YYYYMMDDHHMMSS (date)" comment per set timer, and the DNSKEY RR.
func PublicKeyText(k *Key) string {
	var b strings.Builder
	kind := "zone-signing"
	if k.IsKSK() {
		kind = "key-signing"
	}
	fmt.Fprintf(&b, "; This is a %s key, keyid %d, for %s\n", kind, k.Tag(), k.DNSKEY.Hdr.Name)
	for _, f := range timerFields {
		if t := *f.get(&k.Timers); !t.IsZero() {
			t = t.UTC()
			fmt.Fprintf(&b, "; %s: %s (%s)\n", f.name, t.Format(timestampLayout), t.Format(time.ANSIC))
		}
	}
	b.WriteString(k.DNSKEY.String())
	b.WriteString("\n")
	return b.String()
}
