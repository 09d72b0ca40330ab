//go:build !linux

package kubeletsim

import "testing"

// mountReadOnly cannot mount outside Linux: the layout stays writable.
func mountReadOnly(testing.TB, string) bool { return false }
