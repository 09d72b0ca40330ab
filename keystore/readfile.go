package keystore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Size limits of the files livesign reads. A file over its limit is refused
// with an error that names it and the limit: livesign never reads a file in
// part, and never reads without bound (a symbolic link to /dev/zero, a file
// that grows while it is read).
const (
	// MaxKeyFileSize bounds a BIND .key, .private or .state file. The
	// largest real ones, RSA-4096 .private files with every timer, are
	// under 4 KiB.
	MaxKeyFileSize = 64 << 10
	// MaxAnchorFileSize bounds a trust anchor file: a few DS or DNSKEY
	// records, or a BIND .key file.
	MaxAnchorFileSize = 1 << 20
	// MaxBundleFileSize bounds a bundle, an SKR, a KSR and any other file
	// ReadDNSKEYs reads. A year of daily slots in Knot's multi-line layout
	// is about 2 MiB.
	MaxBundleFileSize = 16 << 20
)

var (
	// ErrNotRegular is wrapped by the errors of ReadRegularFile (and so of
	// every reader in this package) for a path that is not a regular file:
	// a named pipe, a device, a socket or a directory.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is wrapped by the errors of ReadRegularFile for a file
	// over the size limit.
	ErrTooLarge = errors.New("file too large")
)

// fileError is an error whose text is written for the operator and that
// errors.Is matches against kind (ErrNotRegular, ErrTooLarge, ...).
type fileError struct {
	msg  string
	kind error
}

func (e *fileError) Error() string { return e.msg }
func (e *fileError) Unwrap() error { return e.kind }

// ReadRegularFile reads the file at path, which must be a regular file (a
// symbolic link to one is followed: Kubernetes Secret files are links into
// ..data/) of at most limit bytes. The file is opened without blocking, so
// that a named pipe never hangs the caller, and checked on the opened
// descriptor: a named pipe, device (such as /dev/zero), socket or directory
// is refused with an error that wraps ErrNotRegular; a file larger than
// limit with one that wraps ErrTooLarge. Both name path and say what to do.
// Other errors wrap the *fs.PathError of the failed call, so that
// errors.Is(err, fs.ErrNotExist) tells a missing file.
func ReadRegularFile(path string, limit int64) ([]byte, error) {
	data, _, err := readRegular(path, limit)
	return data, err
}

// readRegular is ReadRegularFile that also returns the FileInfo of the
// opened file (for mode and ownership checks on what was actually read).
func readRegular(path string, limit int64) ([]byte, fs.FileInfo, error) {
	f, err := os.OpenFile(path, readOpenFlags, 0)
	if err != nil {
		if fi, serr := os.Stat(path); serr == nil && !fi.Mode().IsRegular() {
			// Opening a socket fails (ENXIO): say what it is instead.
			return nil, nil, notRegular(path, fi.Mode())
		}
		return nil, nil, fmt.Errorf("keystore: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("keystore: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, notRegular(path, fi.Mode())
	}
	if fi.Size() > limit {
		return nil, nil, tooLarge(path, limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("keystore: read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, nil, tooLarge(path, limit) // it grew while we read it
	}
	return data, fi, nil
}

func notRegular(path string, mode fs.FileMode) error {
	return &fileError{
		msg:  fmt.Sprintf("keystore: %s is %s, not a regular file: livesign reads keys, bundles and anchors only from regular files (or symbolic links to them); remove it or put the real file there", path, describeMode(mode)),
		kind: ErrNotRegular,
	}
}

func tooLarge(path string, limit int64) error {
	return &fileError{
		msg:  fmt.Sprintf("keystore: %s is larger than %s, the most livesign reads from such a file: check that it is the file meant", path, formatSize(limit)),
		kind: ErrTooLarge,
	}
}

// describeMode names the kind of file of mode, with an article ("a named
// pipe (FIFO)").
func describeMode(mode fs.FileMode) string {
	switch {
	case mode.IsRegular():
		return "a regular file"
	case mode.IsDir():
		return "a directory"
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeCharDevice != 0:
		return "a character device"
	case mode&fs.ModeDevice != 0:
		return "a block device"
	case mode&fs.ModeSymlink != 0:
		return "a symbolic link"
	case mode&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "a " + mode.Type().String() + " file"
}

// formatSize writes n bytes as "16 MiB", "64 KiB" or "100 bytes".
func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
