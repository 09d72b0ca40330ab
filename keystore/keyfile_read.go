package keystore

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// keyFileName matches BIND key file names: K<zone>+<alg>+<tag>.key.
var keyFileName = regexp.MustCompile(`^K(.+)\+(\d{3})\+(\d{5})\.key$`)

// keyBase strips a .key, .private or .state extension from path.
func keyBase(path string) string {
	for _, ext := range []string{".key", ".private", ".state"} {
		if strings.HasSuffix(path, ext) {
			return strings.TrimSuffix(path, ext)
		}
	}
	return path
}

// ReadKey reads a BIND key pair. path is the base name (dir/Kzone+alg+tag), or
// the .key or .private file. It reads the .key and the .private file (required,
// and refused when group or others may read it) and the .state file when there
// is one. Timers come from the .key comments, then the .private fields, then
// the .state file, each filling only what the former left unset. Every file
// is read with ReadRegularFile, at most MaxKeyFileSize bytes.
func ReadKey(path string) (*Key, error) {
	base := keyBase(path)
	k, err := readPublicKey(base+".key", false)
	if err != nil {
		return nil, err
	}
	priv := base + ".private"
	data, fi, err := readRegular(priv, MaxKeyFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("keystore: %s has no private key file %s: copy it there or remove the .key", base+".key", priv)
	}
	if err != nil {
		return nil, err
	}
	if err := checkPrivateMode(priv, fi); err != nil {
		return nil, err
	}
	if err := k.parsePrivate(data, priv); err != nil {
		return nil, err
	}
	if err := k.mergeState(); err != nil {
		return nil, err
	}
	return k, nil
}

// parsePrivate reads the private key and the timers of the .private file
// text data (named priv in errors) into k, whose DNSKEY it must match.
func (k *Key) parsePrivate(data []byte, priv string) error {
	pk, err := k.DNSKEY.ReadPrivateKey(bytes.NewReader(data), priv)
	if err != nil {
		return fmt.Errorf("keystore: %s: cannot read private key: %w", priv, err)
	}
	signer, ok := pk.(crypto.Signer)
	if !ok || signer == nil {
		return fmt.Errorf("keystore: %s: unsupported private key type %T", priv, pk)
	}
	if e, ok := pk.(ed25519.PrivateKey); ok && len(e) != ed25519.PrivateKeySize {
		return fmt.Errorf("keystore: %s: cannot read private key: no Ed25519 PrivateKey line of 32 octets", priv)
	}
	if err := checkKeyPair(k.DNSKEY, signer); err != nil {
		return fmt.Errorf("keystore: %s does not hold the private half of the DNSKEY in %s.key (key tag %d): %w", priv, keyBase(priv), k.Tag(), err)
	}
	timers, err := parseTimerLines(data, priv, false, false)
	if err != nil {
		return err
	}
	k.Signer = signer
	k.Timers.merge(timers)
	return nil
}

// ReadPublicKey reads the public half of a key: a BIND .key file (path may also
// be the base name, or the .private or .state file, whose .key is read instead),
// or any file holding exactly one DNSKEY RR. Timers come from the .key comments,
// then from the .state file when there is one; the .private file is never read.
func ReadPublicKey(path string) (*Key, error) {
	return readPublicKey(path, true)
}

func readPublicKey(path string, state bool) (*Key, error) {
	file := path
	switch {
	case strings.HasSuffix(path, ".private"), strings.HasSuffix(path, ".state"):
		file = keyBase(path) + ".key"
	case !strings.HasSuffix(path, ".key"):
		if _, err := os.Stat(path + ".key"); err == nil {
			file = path + ".key"
		}
	}
	data, err := ReadRegularFile(file, MaxKeyFileSize)
	if err != nil {
		return nil, err
	}
	k, err := parsePublicKey(data, file)
	if err != nil {
		return nil, err
	}
	if state {
		if err := k.mergeState(); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// parsePublicKey parses the text data of a .key file (named file in errors,
// and checked against a K<zone>+<alg>+<tag>.key name): exactly one DNSKEY
// record, and the timers of its comments.
func parsePublicKey(data []byte, file string) (*Key, error) {
	rrs, err := parseRRs(data, file, ".", 0)
	if err != nil {
		return nil, err
	}
	var key *dns.DNSKEY
	for _, r := range rrs {
		dk, ok := r.RR.(*dns.DNSKEY)
		if !ok {
			return nil, fmt.Errorf("keystore: %s:%d: unexpected %s record: a key file holds one DNSKEY record", file, r.Line, dns.TypeToString[r.RR.Header().Rrtype])
		}
		if key != nil {
			return nil, fmt.Errorf("keystore: %s:%d: second DNSKEY record: a key file holds one DNSKEY record", file, r.Line)
		}
		key = dk
	}
	if key == nil {
		return nil, fmt.Errorf("keystore: %s: no DNSKEY record", file)
	}
	key.Hdr.Name = strings.ToLower(dns.Fqdn(key.Hdr.Name))
	if err := checkKeyFileName(file, key); err != nil {
		return nil, err
	}
	timers, err := parseTimerLines(data, file, true, false)
	if err != nil {
		return nil, err
	}
	return &Key{DNSKEY: key, Timers: timers, Base: strings.TrimSuffix(file, ".key")}, nil
}

// mergeState fills unset timers from the key's .state file, when there is one.
func (k *Key) mergeState() error {
	state := k.Base + ".state"
	data, err := ReadRegularFile(state, MaxKeyFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	st, err := parseTimerLines(data, state, false, true)
	if err != nil {
		return err
	}
	k.Timers.merge(st)
	return nil
}

// checkKeyFileName checks that a K<zone>+<alg>+<tag>.key file name agrees with
// the DNSKEY inside. Other file names are not checked.
func checkKeyFileName(file string, k *dns.DNSKEY) error {
	m := keyFileName.FindStringSubmatch(filepath.Base(file))
	if m == nil {
		return nil
	}
	alg, _ := strconv.Atoi(m[2])
	tag, _ := strconv.Atoi(m[3])
	switch {
	case !strings.EqualFold(dns.Fqdn(m[1]), k.Hdr.Name):
		return fmt.Errorf("keystore: %s: the DNSKEY is for %s, the file name says %s", file, k.Hdr.Name, dns.Fqdn(m[1]))
	case alg != int(k.Algorithm):
		return fmt.Errorf("keystore: %s: the DNSKEY has algorithm %d, the file name says %d", file, k.Algorithm, alg)
	case tag != int(k.KeyTag()):
		return fmt.Errorf("keystore: %s: the DNSKEY has key tag %d, the file name says %d", file, k.KeyTag(), tag)
	}
	return nil
}

// checkKeyPair signs a probe record with s and verifies it with k, so that a
// .private file that does not belong to its .key is refused at load.
func checkKeyPair(k *dns.DNSKEY, s crypto.Signer) (err error) {
	if k.KeyTag() == 0 { // miekg/dns refuses to sign with key tag 0
		return nil
	}
	defer func() { // a malformed key can make the crypto code panic
		if r := recover(); r != nil {
			err = fmt.Errorf("signing with it failed: %v", r)
		}
	}()
	probe := []dns.RR{&dns.TXT{
		Hdr: dns.RR_Header{Name: k.Hdr.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET},
		Txt: []string{"livesign key pair check"},
	}}
	sig := &dns.RRSIG{KeyTag: k.KeyTag(), SignerName: k.Hdr.Name, Algorithm: k.Algorithm, Expiration: 1 << 31}
	if err := sig.Sign(s, probe); err != nil {
		return err
	}
	return sig.Verify(k, probe)
}

// ReadKeyDir reads every key pair of zone in dir: each K<zone>+NNN+NNNNN.key
// (zone compared case-insensitively) with its .private file, which must exist.
// Keys are sorted by key tag, then algorithm. A directory without keys for the
// zone yields no keys and no error. dir must pass CheckDirPermissions (not
// writable by group or others), and every file named like a key file must be
// a regular file or a symbolic link to one (see ReadRegularFile): anything
// else is an error, never skipped or waited for. A missing dir gives an
// error that wraps fs.ErrNotExist.
func ReadKeyDir(dir, zone string) ([]*Key, error) {
	return readDir(dir, zone, ReadKey)
}

// ReadPublicKeyDir reads the public half of every key of zone in dir, like
// ReadKeyDir (with the same checks of dir) but without reading (or
// requiring) the .private files.
func ReadPublicKeyDir(dir, zone string) ([]*Key, error) {
	return readDir(dir, zone, ReadPublicKey)
}

func readDir(dir, zone string, read func(string) (*Key, error)) ([]*Key, error) {
	if err := CheckDirPermissions(dir); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	zone = dns.Fqdn(zone)
	var keys []*Key
	for _, e := range entries {
		m := keyFileName.FindStringSubmatch(e.Name())
		if m == nil || !strings.EqualFold(dns.Fqdn(m[1]), zone) {
			continue
		}
		// read refuses anything but a regular file (or a link to one),
		// a directory or named pipe named like a key file included.
		k, err := read(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Tag() != keys[j].Tag() {
			return keys[i].Tag() < keys[j].Tag()
		}
		return keys[i].DNSKEY.Algorithm < keys[j].DNSKEY.Algorithm
	})
	return keys, nil
}
