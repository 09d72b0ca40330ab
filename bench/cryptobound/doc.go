// Package cryptobound holds the crypto-bound benchmark of `make bench`: how
// many ECDSAP256SHA256 RRSIGs one core makes per second with miekg/dns
// RRSIG.Sign, with crypto/ecdsa's hedged nonces and with the deterministic
// (RFC 6979) nonces livesign uses: the ceiling of an online signer's flood
// throughput on this machine (one fresh signature per answer). It has no
// code of its own.
package cryptobound
