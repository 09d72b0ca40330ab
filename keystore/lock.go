package keystore

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// LockFile is the name of the lock file Lock takes in a keys directory.
const LockFile = ".livesign.lock"

// LockWait is how long Lock waits for another holder of the lock.
var LockWait = 30 * time.Second

// Lock takes an exclusive lock on the keys directory dir (flock on unix,
// LockFileEx on Windows, on dir/.livesign.lock), waiting up to LockWait for
// another holder, and returns the function that releases it. Processes that
// share dir, such as replicas on one volume, thereby never generate or
// rewrite keys at the same time.
//
// The lock file is created if missing (mode 0600) and must be a regular
// file: a symbolic link is never followed (O_NOFOLLOW on unix) and, like a
// named pipe or anything else, refused with an error that names it.
func Lock(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, LockFile)
	f, err := openLockFile(path)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(LockWait)
	for {
		busy, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("keystore: cannot lock %s: %w", path, err)
		}
		if !busy {
			break
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("keystore: %s is held by another process for more than %s: is a 'livesign plan' or another server stuck?", path, LockWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return func() {
		unlockFile(f)
		f.Close()
	}, nil
}

// openLockFile opens (creating) the lock file path, refusing anything but a
// regular file.
func openLockFile(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, lockFileError(path, fi.Mode())
	}
	f, err := os.OpenFile(path, lockOpenFlags, 0o600)
	if err != nil {
		// A symbolic link put there since the Lstat: O_NOFOLLOW refused it.
		if fi, lerr := os.Lstat(path); lerr == nil && isNoFollowError(err) {
			return nil, lockFileError(path, fi.Mode())
		}
		return nil, fmt.Errorf("keystore: cannot lock %s: %w", filepath.Dir(path), err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = lockFileError(path, fi.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func lockFileError(path string, mode fs.FileMode) error {
	what := describeMode(mode)
	if mode&fs.ModeSymlink != 0 {
		what += " (livesign does not follow it: whoever can write the keys directory could point it anywhere)"
	}
	return &fileError{
		msg:  fmt.Sprintf("keystore: lock file %s is %s, not a regular file: remove it, livesign creates it", path, what),
		kind: ErrNotRegular,
	}
}
