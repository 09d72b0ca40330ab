//go:build unix

package keystore

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// readOpenFlags opens a file for ReadRegularFile: O_NONBLOCK so that opening
// a named pipe returns at once instead of waiting for a writer, O_NOCTTY so
// that a terminal device never becomes the controlling terminal.
const readOpenFlags = os.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY

// lockOpenFlags opens or creates the lock file: O_NOFOLLOW so that a
// symbolic link planted as the lock file is never followed (nor a file
// created where it points), O_NONBLOCK for the same reason as readOpenFlags.
const lockOpenFlags = os.O_RDWR | os.O_CREATE | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY

// isNoFollowError reports whether err is what open(2) with O_NOFOLLOW
// returns for a symbolic link: ELOOP (Linux, macOS, POSIX), EMLINK (FreeBSD,
// DragonFly), EFTYPE (NetBSD).
func isNoFollowError(err error) bool {
	return errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EMLINK) || isEFTYPE(err)
}

// ownedByRoot reports whether fi (from os.Stat or File.Stat) belongs to uid 0.
func ownedByRoot(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == 0
}

// checkPrivateMode refuses the private key file path, whose opened file has
// fi, when group or others may access it; see privateModeError.
func checkPrivateMode(path string, fi fs.FileInfo) error {
	return privateModeError(path, fi.Mode().Perm(), ownedByRoot(fi))
}

// checkDirMode refuses the directory dir (of FileInfo fi) when group or
// others may write into it and it is not on a read-only mount; see
// dirModeError.
func checkDirMode(dir string, fi fs.FileInfo) error {
	return dirModeError(dir, fi.Mode(), func() bool { return readOnlyMount(dir) })
}

// readOnlyMount reports whether dir cannot be written because its file
// system or mount is read-only: access(2) answers EROFS for W_OK there (as
// for a Kubernetes Secret volume, which the kubelet always mounts
// read-only into the container).
func readOnlyMount(dir string) bool {
	return errors.Is(unix.Access(dir, unix.W_OK), unix.EROFS)
}

// DirWritable reports whether this process may create files in dir
// (access(2) with W_OK: permission bits, ACLs and read-only mounts).
func DirWritable(dir string) bool {
	return unix.Access(dir, unix.W_OK) == nil
}

// syncDir flushes dir's entries (a rename into it) to stable storage.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
