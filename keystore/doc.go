// Package keystore reads and writes the key material livesign works with:
// BIND-format key files (.key, .private, .state) with their timing metadata,
// offline-signed DNSKEY bundles, and trust anchors (DS or DNSKEY).
//
// It imports no CoreDNS package, so the plugin and the operator CLI share it.
// Nothing in it reads the clock: every check takes the time as an argument.
package keystore
