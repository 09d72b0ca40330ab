// Package buildcheck has no code, only a test: that the module builds for
// every platform CoreDNS releases binaries for (linux, darwin, windows,
// freebsd), so that a unix-only system call outside a build-tagged file is
// caught on a linux machine.
package buildcheck
