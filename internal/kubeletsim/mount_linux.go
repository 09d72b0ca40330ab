package kubeletsim

import (
	"testing"

	"golang.org/x/sys/unix"
)

// mountReadOnly bind-mounts dir read-only onto itself and unmounts it when
// the test ends; false when the process may not mount.
func mountReadOnly(t testing.TB, dir string) bool {
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		return false
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("kubeletsim: unmount %s: %v", dir, err)
		}
	})
	if err := unix.Mount("", dir, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Logf("kubeletsim: remount %s read-only: %v", dir, err)
		return false
	}
	return true
}
