package keystore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// WriteFileAtomic writes data to path so that readers see either the old file
// or the complete new one: it writes a temporary file in the same directory,
// fsyncs it, sets perm, renames it over path and fsyncs the directory (on
// unix; see syncDir). On
// failure the temporary file is removed and an existing file at path is left
// as it was. Errors name path (never the temporary file) and the reason,
// e.g. "keystore: write /x/b1: directory /x does not exist: create it first
// or write elsewhere".
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := checkWritePath(path, dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return writeError(path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = writeError(path, err)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// checkWritePath refuses, before anything is written, a path whose
// directory is missing or not a directory, and a path that is a directory.
func checkWritePath(path, dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return writeError(path, err)
	case err == nil && !fi.IsDir():
		return fmt.Errorf("keystore: write %s: %s is not a directory: give a path in an existing directory", path, dir)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("keystore: write %s: it is a directory: give a file name, e.g. %s", path, filepath.Join(path, "FILE"))
	}
	return nil
}

// writeError explains why writing path failed, naming path and its
// directory rather than the temporary file, with what to do.
func writeError(path string, err error) error {
	dir := filepath.Dir(path)
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		// Not a system call error: drop the temporary file's name all the same.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("keystore: write %s: %w", path, err)
	}
	var reason string
	switch errno {
	case syscall.ENOENT:
		reason = fmt.Sprintf("directory %s does not exist: create it first (mkdir -p %s) or write elsewhere", dir, dir)
		if missing := firstMissing(dir); missing != dir {
			reason = fmt.Sprintf("directory %s does not exist (%s is missing): create it first (mkdir -p %s) or write elsewhere", dir, missing, dir)
		}
	case syscall.ENOTDIR:
		reason = fmt.Sprintf("a component of %s is not a directory: give a path in an existing directory", dir)
	case syscall.EACCES, syscall.EPERM:
		reason = fmt.Sprintf("permission denied in directory %s (a new file is made there, then renamed over %s): run as a user who may write there, or write elsewhere", dir, filepath.Base(path))
	case syscall.EROFS:
		reason = fmt.Sprintf("directory %s is on a read-only file system: write elsewhere", dir)
	case syscall.ENOSPC, syscall.EDQUOT:
		reason = fmt.Sprintf("%v in %s: free some space; the old file, if any, is unchanged", errno, dir)
	case syscall.EISDIR:
		reason = "it is a directory: give a file name"
	default:
		reason = errno.Error()
	}
	return fmt.Errorf("keystore: write %s: %s", path, reason)
}

// firstMissing returns the shallowest ancestor of dir (or dir) that does not exist.
func firstMissing(dir string) string {
	missing := dir
	for d := dir; ; {
		if _, err := os.Stat(d); err == nil {
			return missing
		}
		missing = d
		parent := filepath.Dir(d)
		if parent == d {
			return missing
		}
		d = parent
	}
}
