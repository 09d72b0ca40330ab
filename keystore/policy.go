package keystore

import (
	"fmt"
	"time"
)

// Policy is the ZSK rollover timing of a zone (DESIGN.md §3, RFC 7583
// pre-publication ZSK roll); the field names follow the Corefile directives.
type Policy struct {
	ZSKLifetime       time.Duration // zsk-lifetime: how long each ZSK signs
	DNSKEYTTL         time.Duration // dnskey-ttl
	MaxZoneTTL        time.Duration // max-zone-ttl: the largest TTL of a signed RRset
	PropagationDelay  time.Duration // propagation-delay: until every secondary serves a change
	PublishSafety     time.Duration // publish-safety: margin before a new ZSK signs
	RetireSafety      time.Duration // retire-safety: margin before an old ZSK is withdrawn
	SignatureValidity time.Duration // signature-validity of the online RRSIGs
	SignatureRefresh  time.Duration // signature-refresh of the online RRSIGs
}

// DefaultPolicy returns the defaults of DESIGN.md §3: zsk-lifetime 30d,
// dnskey-ttl 1h, max-zone-ttl 1d, propagation-delay 5m, publish-safety 1h,
// retire-safety 1h, signature-validity 7d, signature-refresh 1d.
func DefaultPolicy() Policy {
	const day = 24 * time.Hour
	return Policy{
		ZSKLifetime:       30 * day,
		DNSKEYTTL:         time.Hour,
		MaxZoneTTL:        day,
		PropagationDelay:  5 * time.Minute,
		PublishSafety:     time.Hour,
		RetireSafety:      time.Hour,
		SignatureValidity: 7 * day,
		SignatureRefresh:  day,
	}
}

// Ipub is how long before it signs a successor ZSK is published:
// propagation-delay + dnskey-ttl + publish-safety.
func (p Policy) Ipub() time.Duration { return p.PropagationDelay + p.DNSKEYTTL + p.PublishSafety }

// Iret is how long a predecessor ZSK stays published after it stops
// signing: propagation-delay + max-zone-ttl + retire-safety.
func (p Policy) Iret() time.Duration { return p.PropagationDelay + p.MaxZoneTTL + p.RetireSafety }

// Validate checks that the durations make sense together: none negative,
// lifetime and TTLs positive, and the lifetime longer than Ipub, so that a
// successor can be published while its predecessor signs.
func (p Policy) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
		pos  bool
	}{
		{"zsk-lifetime", p.ZSKLifetime, true}, {"dnskey-ttl", p.DNSKEYTTL, true}, {"max-zone-ttl", p.MaxZoneTTL, true},
		{"propagation-delay", p.PropagationDelay, false}, {"publish-safety", p.PublishSafety, false},
		{"retire-safety", p.RetireSafety, false},
	} {
		if d.v < 0 || (d.pos && d.v == 0) {
			return fmt.Errorf("%s %s: give a positive duration", d.name, d.v)
		}
	}
	if p.ZSKLifetime <= p.Ipub() {
		return fmt.Errorf("zsk-lifetime %s must exceed propagation-delay + dnskey-ttl + publish-safety = %s, or a successor cannot be published in time", p.ZSKLifetime, p.Ipub())
	}
	return nil
}
