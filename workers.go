package livesign

import (
	"sync"
	"sync/atomic"
	"time"
)

// workers runs the signing path of queries on long-lived goroutines.
// CoreDNS serves every UDP query on a new goroutine whose stack starts
// small; building and signing an answer there, below the backend's own
// frames, grows that stack again for every query that misses the caches
// (runtime.newstack and copystack were 6 % of a flood answer's CPU). A
// worker grows its stack once and keeps it. Workers start on demand and end
// after idle without work, so their number follows the concurrent misses,
// which the signing slots bound.
type workers struct {
	jobs    chan *job // unbuffered: a send succeeds only if a worker waits
	idle    time.Duration
	running atomic.Int64 // for tests
}

type job struct {
	f        func()
	panicked any
	done     chan struct{}
}

var jobs = sync.Pool{New: func() any { return &job{done: make(chan struct{}, 1)} }}

func newWorkers(idle time.Duration) *workers {
	return &workers{jobs: make(chan *job), idle: idle}
}

// run calls f on a worker and waits for it to return. A panic in f is
// raised again on the caller's goroutine, where CoreDNS recovers it and
// answers SERVFAIL, as if f had run there.
func (p *workers) run(f func()) {
	j := jobs.Get().(*job)
	j.f = f
	select {
	case p.jobs <- j: // an idle worker takes it
	default:
		p.running.Add(1)
		go p.work(j)
	}
	<-j.done
	panicked := j.panicked
	*j = job{done: j.done}
	jobs.Put(j)
	if panicked != nil {
		panic(panicked)
	}
}

// work runs j, then whatever comes next, until idle passes without a job.
func (p *workers) work(j *job) {
	defer p.running.Add(-1)
	idle := time.NewTimer(p.idle)
	defer idle.Stop()
	for {
		j.panicked = call(j.f)
		j.done <- struct{}{}
		idle.Reset(p.idle)
		select {
		case j = <-p.jobs:
		case <-idle.C:
			return
		}
	}
}

// call calls f and returns what it panicked with, if anything: on a worker
// a panic would otherwise end the whole process.
func call(f func()) (panicked any) {
	defer func() { panicked = recover() }()
	f()
	return nil
}
