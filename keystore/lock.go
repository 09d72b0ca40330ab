package keystore

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// LockFile is the name of the lock file Lock takes in a keys directory.
const LockFile = ".livesign.lock"

// Lock takes an exclusive lock on the keys directory dir (flock on
// dir/.livesign.lock), waiting for another holder, and returns the function
// that releases it. Processes that share dir, such as replicas on one
// volume, thereby never generate or rewrite keys at the same time.
func Lock(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("keystore: cannot lock %s: %v", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("keystore: cannot lock %s: %v", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
