package livesign

import (
	"crypto"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livesign/livesign/keystore"
	"github.com/miekg/dns"
)

// signPool runs signings on long-lived goroutines. CoreDNS serves every UDP
// query on a new goroutine whose stack starts small; signing on it grows the
// stack through the ECDSA code again for every miss (runtime.copystack was
// 11 % of the CPU under a flood of new names). A worker grows its stack once
// and keeps it. Workers start on demand and end after idle without work, so
// their number follows the concurrent signings, which the caller bounds.
type signPool struct {
	jobs    chan *signJob // unbuffered: a send succeeds only if a worker waits
	idle    time.Duration
	workers atomic.Int64 // running, for tests
}

type signJob struct {
	sig   *dns.RRSIG
	key   crypto.Signer
	rrset []dns.RR
	err   error
	done  chan struct{}
}

var signJobs = sync.Pool{New: func() any { return &signJob{done: make(chan struct{}, 1)} }}

func newSignPool(idle time.Duration) *signPool {
	return &signPool{jobs: make(chan *signJob), idle: idle}
}

// sign fills in sig's signature over rrset with k, on a worker, and waits
// for it.
func (p *signPool) sign(sig *dns.RRSIG, k crypto.Signer, rrset []dns.RR) error {
	j := signJobs.Get().(*signJob)
	j.sig, j.key, j.rrset = sig, k, rrset
	select {
	case p.jobs <- j: // an idle worker takes it
	default:
		p.workers.Add(1)
		go p.work(j)
	}
	<-j.done
	err := j.err
	*j = signJob{done: j.done}
	signJobs.Put(j)
	return err
}

// work runs j, then whatever comes next, until idle passes without a job.
func (p *signPool) work(j *signJob) {
	defer p.workers.Add(-1)
	idle := time.NewTimer(p.idle)
	defer idle.Stop()
	for {
		j.err = run(j)
		j.done <- struct{}{}
		idle.Reset(p.idle)
		select {
		case j = <-p.jobs:
		case <-idle.C:
			return
		}
	}
}

// run signs j. A panic in the signing code becomes the job's error: on a
// worker it would otherwise end the whole process, as CoreDNS recovers
// panics only on the goroutine serving a query.
func run(j *signJob) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("signing %s %s panicked: %v", j.rrset[0].Header().Name, dns.TypeToString[j.rrset[0].Header().Rrtype], r)
		}
	}()
	return j.sig.Sign(keystore.Deterministic(j.key), j.rrset)
}
