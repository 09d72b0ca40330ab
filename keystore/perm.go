package keystore

import (
	"fmt"
	"io/fs"
	"os"
)

// privateModeError refuses a private key file of permission bits mode that
// group or others may access. Group read is fine on a file root owns (as
// PostgreSQL allows for its key): the kubelet leaves Secret files
// root:fsGroup 0440 (defaultMode 0400 plus the group read it adds for
// fsGroup), and then the group says who may read the key. Anything else
// group- or world-accessible is refused.
func privateModeError(path string, mode fs.FileMode, rootOwned bool) error {
	if mode&0o037 != 0 || mode&0o040 != 0 && !rootOwned {
		return fmt.Errorf("keystore: %s is readable by group or others (mode %04o): run chmod 600 %s", path, mode, path)
	}
	return nil
}

// dirModeError refuses a keys or KSK directory of mode that group or
// others may write into, the same rule as for .private files applied to
// writing: whoever can create files there can add a key of their own (which
// livesign would publish, and with "ksk DIR" sign with the KSK), replace
// .state files to move timers, or plant a named pipe or symbolic link.
//
// The sticky bit does not help: it only stops others from removing or
// renaming files they do not own, not from adding new ones.
//
// The one exception is a directory that cannot be written at all whatever
// its mode says, because its mount is read-only (readOnly reports that).
// That is the Kubernetes Secret case: the kubelet mounts the Secret's tmpfs
// into the container read-only, and the mount point, the tmpfs root, keeps
// tmpfs's default mode 1777 (3777 with the fsGroup setgid bit), while the
// files sit in a root-owned 0755 timestamped directory behind the ..data
// symbolic link.
func dirModeError(dir string, mode fs.FileMode, readOnly func() bool) error {
	perm := mode.Perm()
	if perm&0o022 == 0 || readOnly() {
		return nil
	}
	who := "group and others"
	switch {
	case perm&0o020 == 0:
		who = "others"
	case perm&0o002 == 0:
		who = "its group"
	}
	sticky := ""
	if mode&fs.ModeSticky != 0 {
		sticky = " (the sticky bit does not stop others from adding files)"
	}
	return fmt.Errorf("keystore: directory %s is writable by %s (mode %04o)%s: whoever can write there can add or replace keys; run chmod 700 %s (or 750/755), or mount it read-only", dir, who, mode.Perm()|stickyBits(mode), sticky, dir)
}

// stickyBits returns the setuid, setgid and sticky bits of mode as the
// 04000, 02000 and 01000 of chmod.
func stickyBits(mode fs.FileMode) fs.FileMode {
	var b fs.FileMode
	if mode&fs.ModeSetuid != 0 {
		b |= 0o4000
	}
	if mode&fs.ModeSetgid != 0 {
		b |= 0o2000
	}
	if mode&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

// CheckDirPermissions checks a keys or KSK directory before livesign reads
// keys from it: dir (a symbolic link to a directory is followed) must be a
// directory, and on unix not writable by group or others unless its mount
// is read-only (the Kubernetes Secret case; see dirModeError). The error
// names dir, its mode and the chmod to run; for a missing directory it
// wraps fs.ErrNotExist. On Windows only the first part is checked (access
// there is governed by ACLs, which file modes do not show).
func CheckDirPermissions(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("keystore: %s is %s, not a directory: give the directory that holds the key files", dir, describeMode(fi.Mode()))
	}
	return checkDirMode(dir, fi)
}
