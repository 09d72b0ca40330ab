//go:build windows

package keystore

import (
	"io/fs"
	"os"
)

// readOpenFlags opens a file for ReadRegularFile. Windows has no named
// pipes in the file system (they live under \\.\pipe\), so no flag is needed
// for them; devices and directories are refused after the open like
// everywhere else.
const readOpenFlags = os.O_RDONLY

// lockOpenFlags opens or creates the lock file. Windows has no O_NOFOLLOW:
// Lock refuses a symbolic link with Lstat before it opens the file (creating
// a symbolic link on Windows takes a privilege or developer mode).
const lockOpenFlags = os.O_RDWR | os.O_CREATE

// isNoFollowError reports whether err is what opening a symbolic link with
// O_NOFOLLOW returns; never on Windows, which has no such flag.
func isNoFollowError(error) bool { return false }

// checkPrivateMode does nothing on Windows: access to a file there is
// governed by its ACL, which Go's file modes do not show (they report 0666,
// or 0444 for read-only files). Restrict a .private file with its ACL
// (icacls) instead.
func checkPrivateMode(string, fs.FileInfo) error { return nil }

// checkDirMode does nothing on Windows, for the same reason as
// checkPrivateMode: who may write into a directory is in its ACL.
func checkDirMode(string, fs.FileInfo) error { return nil }

// DirWritable reports true on Windows, where writability is decided by the
// directory's ACL: the writes themselves report a directory livesign may
// not write to.
func DirWritable(string) bool { return true }

// syncDir does nothing on Windows: directories cannot be opened for
// flushing there, and NTFS journals the rename itself.
func syncDir(string) error { return nil }
