package keystore

import (
	"crypto"
	"time"

	"github.com/miekg/dns"
)

// Timers is a key's BIND timing metadata. A zero time means the timer is unset.
type Timers struct {
	Created, Publish, Activate, Inactive, Delete time.Time
}

// IsZero reports whether no timer is set (as for keys made by ldns-keygen).
func (t Timers) IsZero() bool {
	return t.Created.IsZero() && t.Publish.IsZero() && t.Activate.IsZero() &&
		t.Inactive.IsZero() && t.Delete.IsZero()
}

// Key is one DNSSEC key: its DNSKEY record, its private half when known, and its timers.
type Key struct {
	DNSKEY *dns.DNSKEY   // owner = zone (FQDN, lower case), TTL from the .key file (0 if none given)
	Signer crypto.Signer // nil when only the public half was read
	Timers Timers
	Base   string // path without extension, e.g. dir/Kexample.net.+013+44013
}

// Tag returns the key tag of the key's DNSKEY.
func (k *Key) Tag() uint16 { return k.DNSKEY.KeyTag() }

// IsKSK reports whether the key has the SEP flag (flags 257).
func (k *Key) IsKSK() bool { return k.DNSKEY.Flags&dns.SEP != 0 }

// PublishedAt reports whether the key is published at t: Publish (or Created when
// Publish is unset, or always when both are unset) <= t, and t < Delete when Delete is set.
func (k *Key) PublishedAt(t time.Time) bool {
	return within(t, k.PublishedSince(), k.Timers.Delete)
}

// ActiveAt reports whether the key is active at t: Activate (or Created when
// Activate is unset, or always when both are unset) <= t, and t < Inactive when Inactive is set.
func (k *Key) ActiveAt(t time.Time) bool {
	return within(t, k.ActiveSince(), k.Timers.Inactive)
}

// PublishedSince returns since when the key is published: Publish, else
// Created, else the zero time (always).
func (k *Key) PublishedSince() time.Time { return first(k.Timers.Publish, k.Timers.Created) }

// ActiveSince returns since when the key is active: Activate, else Created,
// else the zero time (always).
func (k *Key) ActiveSince() time.Time { return first(k.Timers.Activate, k.Timers.Created) }

// first returns the first non-zero time of ts, or the zero time.
func first(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// within reports whether from <= t < until, where a zero bound is open.
func within(t, from, until time.Time) bool {
	if !from.IsZero() && t.Before(from) {
		return false
	}
	return until.IsZero() || t.Before(until)
}
