package livesign

import (
	"context"
	"slices"
	"time"
)

// presignLead is how long before a ZSK switch the hottest RRsets are
// signed with the successor, and presignCount how many.
const (
	presignLead  = 3 * time.Second
	presignCount = 1000
)

// watch is the background loop of a server block's zones until stop is
// closed. It sleeps until the next event: a file poll every period (a
// changed bundle, keys directory or anchor that checks out replaces the old
// one atomically; one that does not is logged and counted, and the old one
// keeps serving), a key set running out (the switch happens then, not at
// the next query), or shortly before a ZSK switch, when the hottest RRsets
// are signed with the successor.
func (l *Livesign) watch(period time.Duration, stop <-chan struct{}) {
	nextPoll := l.now().Add(period)
	for {
		now := l.now()
		wake := nextPoll
		for _, z := range l.zones {
			if t := z.nextEvent(now); t.Before(wake) {
				wake = t
			}
		}
		timer := time.NewTimer(max(wake.Sub(now), 10*time.Millisecond))
		select {
		case <-stop:
			timer.Stop()
			return
		case <-timer.C:
		}
		now = l.now()
		if !now.Before(nextPoll) {
			l.poll()
			nextPoll = now.Add(period)
		}
		for _, z := range l.zones {
			z.tick(now)
		}
	}
}

// nextEvent returns when the zone's key set next needs attention.
func (z *Zone) nextEvent(now time.Time) time.Time {
	ks := z.current.Load()
	if ks == nil || !now.Before(ks.Until) {
		return now.Add(time.Second) // failing: try again soon
	}
	if !ks.Until.Equal(z.presigned) {
		return ks.Until.Add(-presignLead)
	}
	return ks.Until
}

// tick switches the key set when it has run out and pre-signs for the
// next one shortly before.
func (z *Zone) tick(now time.Time) {
	ks := z.current.Load()
	if ks == nil || !now.Before(ks.Until) {
		if _, err := z.Keys(now); err != nil {
			z.logFailure(now, "%v", err)
		}
		return
	}
	if now.Before(ks.Until.Add(-presignLead)) || ks.Until.Equal(z.presigned) {
		return
	}
	z.presigned = ks.Until
	z.mu.Lock()
	tl := z.Timeline
	z.mu.Unlock()
	next, err := tl.At(ks.Until)
	if err != nil {
		return
	}
	// Pre-signing must not hold up the loop past the switch.
	ctx, cancel := context.WithTimeout(context.Background(), presignLead)
	defer cancel()
	for _, zsk := range next.ZSKs {
		if slices.Contains(ks.ZSKs, zsk) {
			continue
		}
		n := z.signer.Presign(ctx, z.Name, zsk, ks.Until, presignCount)
		log.Infof("zone %s: ZSK %d signs from %s (now %s); pre-signed %d hot RRsets with it",
			z.Name, zsk.Tag(), ks.Until.UTC().Format(time.RFC3339), ks.Signers(), n)
	}
}
