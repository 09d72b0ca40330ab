package keystore

import (
	"errors"
	"strings"
	"time"
)

// Role selects keys by their SEP flag.
type Role int

const (
	// AnyRole selects KSKs and ZSKs.
	AnyRole Role = iota
	// KSKRole selects keys with flags 257.
	KSKRole
	// ZSKRole selects keys with flags 256.
	ZSKRole
)

// Private says whether ReadKeys reads the .private half of the keys it
// selects.
type Private int

const (
	// PublicOnly never reads a .private file.
	PublicOnly Private = iota
	// PrivateRequired reads every selected key's .private file: one that is
	// missing or unreadable is an error.
	PrivateRequired
	// PrivateWhereReadable reads the .private files that can be read; the
	// others leave their key public-only, and ReadKeys returns every key
	// with a *PrivateKeyErrors saying why.
	PrivateWhereReadable
)

// Selection says which keys of a directory ReadKeys returns, and how much
// of them it reads.
type Selection struct {
	Zone    string
	Role    Role
	Private Private
	// SigningAt, when set, limits the reading of .private files to the
	// keys active then: the others are returned public-only.
	SigningAt time.Time
}

// PrivateKeyErrors lists the keys whose .private file PrivateWhereReadable
// could not read.
type PrivateKeyErrors struct{ Errs []error }

func (e *PrivateKeyErrors) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the errors of the single keys.
func (e *PrivateKeyErrors) Unwrap() []error { return e.Errs }

// ReadKeys reads the keys of sel.Zone in dir that sel selects: the one
// reader of key directories (with the checks of ReadKeyDir: dir not
// writable by group or others, key files regular). Keys are sorted by key
// tag, then algorithm. A directory without such keys yields none and no
// error; a missing dir gives an error that wraps fs.ErrNotExist.
func ReadKeys(dir string, sel Selection) ([]*Key, error) {
	pubs, err := readDir(dir, sel.Zone, ReadPublicKey)
	if err != nil {
		return nil, err
	}
	var keys []*Key
	var failed []error
	for _, p := range pubs {
		switch {
		case sel.Role == KSKRole && !p.IsKSK(), sel.Role == ZSKRole && p.IsKSK():
			continue
		case sel.Private == PublicOnly, !sel.SigningAt.IsZero() && !p.ActiveAt(sel.SigningAt):
			keys = append(keys, p)
			continue
		}
		k, err := ReadKey(p.Base)
		switch {
		case err == nil:
			keys = append(keys, k)
		case sel.Private == PrivateWhereReadable:
			keys = append(keys, p)
			failed = append(failed, err)
		default:
			return nil, err
		}
	}
	if len(failed) > 0 {
		return keys, &PrivateKeyErrors{Errs: failed}
	}
	return keys, nil
}

// IsPrivateKeyErrors tells whether err is only about unreadable .private
// files (see PrivateWhereReadable), and returns them.
func IsPrivateKeyErrors(err error) ([]error, bool) {
	var pe *PrivateKeyErrors
	if errors.As(err, &pe) {
		return pe.Errs, true
	}
	return nil, false
}

// String names what a Selection's role asks for, for messages.
func (r Role) String() string {
	switch r {
	case KSKRole:
		return "KSK (flags 257)"
	case ZSKRole:
		return "ZSK (flags 256)"
	}
	return "key"
}
