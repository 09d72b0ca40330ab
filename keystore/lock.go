package keystore

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockFile is the name of the lock file Lock takes in a keys directory.
const LockFile = ".livesign.lock"

// LockWait is how long Lock waits for another holder of the lock.
var LockWait = 30 * time.Second

// Lock takes an exclusive lock on the keys directory dir (flock on
// dir/.livesign.lock), waiting up to LockWait for another holder, and
// returns the function that releases it. Processes that share dir, such as
// replicas on one volume, thereby never generate or rewrite keys at the
// same time.
func Lock(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("keystore: cannot lock %s: %v", dir, err)
	}
	deadline := time.Now().Add(LockWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err != syscall.EWOULDBLOCK || time.Now().After(deadline) {
			f.Close()
			if err == syscall.EWOULDBLOCK {
				return nil, fmt.Errorf("keystore: %s is held by another process for more than %s: is a 'livesign plan' or another server stuck?", path, LockWait)
			}
			return nil, fmt.Errorf("keystore: cannot lock %s: %v", path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
