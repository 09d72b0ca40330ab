// Package test holds livesign's system tests, as CoreDNS keeps its own in its top-level test/
// directory: CoreDNS servers with livesign started in-process on 127.0.0.1, real validators
// (unbound, delv, kresd), real offline-KSK tools (livesign's CLI, ldns, BIND, Knot), coredns
// processes, the container image, the Kubernetes and Prometheus files under deploy/, and
// replicas. The unit tests sit beside the code they test.
//
// Their shared helpers are in helpers_test.go. Paths are relative to this directory (the
// fixtures are in ../testdata). Run one with, for example,
//
//	go test ./test/ -run TestEndToEndValidators
//
// CI=true makes a missing tool fail a test instead of skipping it.
package test
