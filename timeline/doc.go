// Package timeline is the key timeline of a zone: from the key files, the
// signed DNSKEY sets (a bundle signed offline, or an online KSK), the
// rollover policy and an instant, which DNSKEY set is served and which ZSK
// signs then (DESIGN.md §3).
//
// A Timeline reads no clock and never changes after New: At is a pure
// function of its inputs and t, so that replicas sharing the same files
// pick the same keys at the same instant without talking to each other.
// The package imports keystore and miekg/dns only: the plugin, its
// auto-plan and the offline CLI all use it.
package timeline
