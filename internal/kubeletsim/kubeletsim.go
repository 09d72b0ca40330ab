// Package kubeletsim lays out a directory the way the kubelet mounts a
// Secret volume into a container, for tests of code that reads keys from
// such a mount.
//
// What the kubelet does (pkg/volume/secret, pkg/volume/emptydir,
// pkg/volume/util/atomic_writer.go, pkg/volume/volume_linux.go and
// pkg/kubelet/kubelet_pods.go in kubernetes/kubernetes):
//
//   - The volume is an emptyDir with medium Memory: a tmpfs mounted without a
//     mode option, so its root, the mount point, has tmpfs's default mode
//     1777 (mm/shmem.c: 0777 | S_ISVTX), owned by root.
//   - AtomicWriter writes the files into a hidden timestamped directory
//     "..YYYY_MM_DD_HH_MM_SS.NNNNNNNNN" (os.MkdirTemp, then chmod 0755), each
//     file with the item's mode or defaultMode (0644 unless given), points
//     the symbolic link "..data" at that directory (renaming "..data_tmp"
//     over it), and makes one relative symbolic link per file,
//     NAME -> ..data/NAME.
//   - With a pod fsGroup, SetVolumeOwnership walks the volume (symbolic
//     links skipped): chown to group fsGroup, and chmod adding 0440 (the
//     secret plugin's mounter is read-only) plus, on directories, setgid
//     and 0110. The mount point becomes 3777, the timestamped directory
//     2755, a defaultMode 0400 file 0440.
//   - The secret mounter's attributes say ReadOnly, so the kubelet always
//     mounts the volume into the container read-only, whatever the pod's
//     volumeMount says: writing there fails with EROFS.
package kubeletsim

import (
	"os"
	"path/filepath"
	"testing"
)

// Secret says how the kubelet mounts a Secret volume.
type Secret struct {
	// DefaultMode is the mode of the files (the volume's defaultMode or the
	// item's mode); 0 means the API default, 0644.
	DefaultMode os.FileMode
	// FSGroup is the pod's securityContext.fsGroup; 0 or less means none.
	FSGroup int
}

// TimestampDir is the name of the hidden directory SecretDir writes the
// files into (the form AtomicWriter's os.MkdirTemp gives).
const TimestampDir = "..2026_11_23_12_00_00.123456789"

// SecretDir makes dst (created; its parent must exist) the mount point of a
// Secret volume holding files (file name -> content), with the layout, modes
// and ownership described in the package comment, then bind-mounts dst
// read-only onto itself as the kubelet's container mount is. Making files
// root-owned and mounting need root on Linux: where that is not possible,
// the mount point is made 0755 instead of 1777 (a world-writable directory
// that can really be written is what livesign must refuse) and SecretDir
// reports false. The mount is undone when the test ends.
func SecretDir(t testing.TB, dst string, files map[string][]byte, s Secret) (faithful bool) {
	t.Helper()
	mode := s.DefaultMode
	if mode == 0 {
		mode = 0o644
	}
	rootMode, tsMode := os.ModePerm|os.ModeSticky, os.FileMode(0o755)
	if s.FSGroup > 0 {
		mode |= 0o440
		rootMode |= os.ModeSetgid
		tsMode |= os.ModeSetgid
	}
	ts := filepath.Join(dst, TimestampDir)
	if err := os.MkdirAll(ts, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		p := filepath.Join(ts, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		chown(t, p, s.FSGroup)
		if err := os.Chmod(p, mode); err != nil { // after chown, which may clear setgid bits
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dst, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(TimestampDir, filepath.Join(dst, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{ts, tsMode}, {dst, rootMode}} {
		chown(t, d.path, s.FSGroup)
		if err := os.Chmod(d.path, d.mode); err != nil {
			t.Fatal(err)
		}
	}
	if !mountReadOnly(t, dst) {
		t.Logf("kubeletsim: cannot bind-mount %s read-only here (needs root on Linux): mount point mode 0755 instead of %04o", dst, 0o1777)
		if err := os.Chmod(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		return false
	}
	return true
}

// chown gives path to root and group fsGroup (or root's group without one)
// when the process may; the kubelet runs as root.
func chown(t testing.TB, path string, fsGroup int) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	gid := 0
	if fsGroup > 0 {
		gid = fsGroup
	}
	if err := os.Lchown(path, 0, gid); err != nil {
		t.Fatal(err)
	}
}
