package livesign

import (
	"github.com/coredns/coredns/plugin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	// signaturesTotal counts RRSIGs made with a ZSK (cache misses).
	signaturesTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "signatures_total",
		Help:      "Counter of RRSIGs made online with a ZSK.",
	}, []string{"server", "zone"})

	// cacheHits counts signatures served from the signature cache.
	cacheHits = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "signature_cache_hits_total",
		Help:      "Counter of signatures served from the signature cache.",
	}, []string{"server", "zone"})

	// cacheMisses counts signature cache misses.
	cacheMisses = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "signature_cache_misses_total",
		Help:      "Counter of signature cache misses.",
	}, []string{"server", "zone"})

	// responseHits counts DO queries answered from the cache of signed answers.
	responseHits = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "response_cache_hits_total",
		Help:      "Counter of DO queries answered from the cache of whole signed answers.",
	}, []string{"server", "zone"})

	// signingFailures counts queries answered SERVFAIL because no valid signature could be made.
	signingFailures = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "signing_failures_total",
		Help:      "Counter of DO queries answered SERVFAIL because livesign could not sign.",
	}, []string{"server", "zone"})

	// shedQueries counts queries dropped because their answer needed a
	// signature while every signer was busy and the queue full.
	shedQueries = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "shed_total",
		Help:      "Counter of DO queries dropped (UDP) or answered SERVFAIL (TCP) because their answer needed a new signature while every signer was busy and the queue of waiting signings full.",
	}, []string{"server", "zone"})

	// gateRefusals counts queries answered SERVFAIL because the signing gate
	// refused an NSEC or RRset that is not true of the zone.
	gateRefusals = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "gate_refusals_total",
		Help:      "Counter of DO queries answered SERVFAIL because what the answer needed was not true of the zone, so the ZSK did not sign it.",
	}, []string{"server", "zone"})

	// activeZSK is the key tag of the ZSK that signs now.
	activeZSK = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "active_zsk_tag",
		Help:      "Key tag of the ZSK that signs now.",
	}, []string{"zone"})

	// fallbackInUse is 1 while a ZSK signs past its Inactive time for want of a successor.
	fallbackInUse = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "fallback_in_use",
		Help:      "1 while a ZSK signs past its Inactive time because no successor is published long enough.",
	}, []string{"zone"})

	// nextChange is when the key set next changes (a ZSK switch, a slot, a key event).
	nextChange = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "next_key_event_timestamp_seconds",
		Help:      "Unix time at which the served DNSKEY set or the signing ZSK may next change.",
	}, []string{"zone"})

	// keyStates counts the zone's ZSKs by state at the last key-set change.
	keyStates = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "zsks",
		Help:      "ZSKs of the zone by state: planned (not yet published), published, active (signing), retired (published, no longer signing), removed.",
	}, []string{"zone", "state"})

	// keyEvents counts changes of the signing ZSK.
	keyEvents = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "zsk_switches_total",
		Help:      "Counter of switches of the signing ZSK.",
	}, []string{"zone"})

	// bundleCoverage is the time left until the bundle first has no valid DNSKEY RRSIG.
	bundleCoverage = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "bundle_coverage_seconds",
		Help:      "Seconds left until the first instant at which the bundle has no valid DNSKEY RRSIG (a gap between slots or the end of the last slot).",
	}, []string{"zone"})

	// reloads counts bundle and key reloads by result (loaded, rejected).
	reloads = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "reloads_total",
		Help:      "Counter of reloads of changed bundle, key or anchor files, by result: loaded or rejected (the old ones keep serving).",
	}, []string{"zone", "result"})

	// signingZSKs is how many ZSKs sign every RRset: 1, or 2 during an
	// algorithm roll (every RRset is then signed twice).
	signingZSKs = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "signing_zsks",
		Help:      "Number of ZSKs that sign every RRset: 1, or one per algorithm during an algorithm roll, when each answer costs as many signatures.",
	}, []string{"zone"})

	// parentDSDeadline is when the parent must have the DS of a KSK the
	// trust anchor does not name (a KSK roll), 0 when none is due.
	parentDSDeadline = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "parent_ds_deadline_timestamp_seconds",
		Help:      "Unix time from which the bundle's DNSKEY sets are signed only by a KSK the trust anchor does not name: the parent must publish its DS, and the trust-anchor file list it, by then (0: none due).",
	}, []string{"zone"})

	// bundleExpiration is when the bundle first has no valid DNSKEY signature.
	bundleExpiration = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: "livesign",
		Name:      "bundle_expiration_timestamp_seconds",
		Help:      "Unix time from which the bundle has no valid DNSKEY RRSIG (a gap between slots or the end of the last slot): sign a new bundle before then.",
	}, []string{"zone"})
)
