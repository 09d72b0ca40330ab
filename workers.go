package livesign

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// workers runs the answers that miss the response cache (backend lookup,
// answer, gate, signatures) on at most n long-lived goroutines, in arrival
// order, with at most a bounded number waiting.
//
// Why a queue in front of the work, and not only in front of the signing:
// CoreDNS reads a UDP socket on one goroutine and serves each query on a
// new one, and Go runs runnable goroutines first come, first served. Left
// to run at once, every query read in a burst does its whole answer before
// the reader runs again; under a flood the reader then waits behind
// hundreds of signings, the socket buffer fills and the kernel drops
// queries without looking at them, the zone's existing names as much as
// the flood. Here a query that misses the caches parks until a worker takes
// it, and a worker with a backlog lets the network poller in every
// yieldEvery (see yield), so the reader keeps reading, answers in the
// response cache go out at once, and what cannot be signed in time is shed
// here, before it costs a backend lookup.
//
// A worker grows its stack once and keeps it (building an answer on a
// fresh query goroutine grew its stack every time). Workers start on demand
// and end after idle without work.
type workers struct {
	known   chan *job // names the response cache has seen: taken first
	queue   chan *job // the rest
	n       int64
	idle    time.Duration
	running atomic.Int64
	pauses  atomic.Int64 // for tests
}

type job struct {
	f        func()
	panicked any
	done     chan struct{}
}

var jobs = sync.Pool{New: func() any { return &job{done: make(chan struct{}, 1)} }}

// newWorkers returns a pool of at most n workers with at most queue
// queries waiting in each of its two queues.
func newWorkers(n, queue int, idle time.Duration) *workers {
	n, queue = max(n, 1), max(queue, 1)
	return &workers{known: make(chan *job, queue), queue: make(chan *job, queue), n: int64(n), idle: idle}
}

// queuePerWorker is how many answers may wait per worker: at the 50-100 µs
// an answer with a fresh signature costs on one core, 256 wait at most
// 15-25 ms, and a client that sends many queries at once (a resolver, a
// closed-loop benchmark) is served, not shed.
const queuePerWorker = 256

// run calls f on a worker and waits for it to return. known puts f in the
// queue that workers take first: the query is for a name the response
// cache has answered before (its entry expired), a name of the zone, while
// a flood of new names fills the other queue. run returns errShed without
// calling f when its queue is full. A panic in f is raised again on the
// caller's goroutine, where CoreDNS recovers it and answers SERVFAIL, as if
// f had run there.
func (p *workers) run(f func(), known bool) error {
	j := jobs.Get().(*job)
	j.f = f
	q := p.queue
	if known {
		q = p.known
	}
	select {
	case q <- j:
	default:
		j.f = nil
		jobs.Put(j)
		return errQueueFull
	}
	if p.grow() {
		go p.work()
	}
	<-j.done
	panicked := j.panicked
	*j = job{done: j.done}
	jobs.Put(j)
	if panicked != nil {
		panic(panicked)
	}
	return nil
}

// errQueueFull is run's error when the queue is full. It is made once: a
// flood sheds tens of thousands of queries a second.
var errQueueFull = fmt.Errorf("%w: every worker busy and the queue full", errShed)

// grow counts one more worker if fewer than n run, and tells whether it did.
func (p *workers) grow() bool {
	for {
		r := p.running.Load()
		if r >= p.n {
			return false
		}
		if p.running.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

// waiting tells how many queries wait for a worker.
func (p *workers) waiting() int { return len(p.known) + len(p.queue) }

// work runs queued functions, known names first, until idle passes
// without one.
func (p *workers) work() {
	idle := time.NewTimer(p.idle)
	defer idle.Stop()
	paused := time.Now()
	for {
		j := p.next()
		if j == nil && time.Since(paused) >= yieldEvery {
			// Let the other queries read in this burst queue up first:
			// woken by each one in turn, this worker would answer them one
			// by one, each before the next is even looked at, and never
			// pause. At most once per yieldEvery, so that under a steady
			// mix of cached and new answers the new ones do not wait
			// behind every cached one each time.
			runtime.Gosched()
			paused = time.Now()
			j = p.next()
		}
		if j == nil {
			select {
			case j = <-p.known:
			case j = <-p.queue:
			case <-idle.C:
				p.running.Add(-1)
				// A query queued while this worker was leaving finds
				// running at n and starts none: take it.
				if p.waiting() == 0 || !p.grow() {
					return
				}
				idle.Reset(p.idle)
				continue
			}
		}
		j.panicked = call(j.f)
		j.done <- struct{}{}
		paused = p.yield(paused)
		idle.Reset(p.idle)
	}
}

// next takes a waiting query, known names first, or returns nil.
func (p *workers) next() *job {
	select {
	case j := <-p.known:
		return j
	default:
	}
	select {
	case j := <-p.queue:
		return j
	default:
		return nil
	}
}

// yieldEvery and pauseAt: a worker that has run queued answers for
// yieldEvery without a pause, with pauseAt or more per worker still
// waiting, waits for one poll of the network (pollWait). Go polls the
// network only when a processor runs out of goroutines to run (or every
// 10 ms from its monitor thread); a worker that always finds more in its
// queue never runs out, and the reader would wait. While the worker waits,
// the queries queued are parked, the processor runs out, and the poll wakes
// the reader, which reads what arrived: at most yieldEvery worth of
// queries, well within a default socket buffer (about 250 queries) at 100k
// a second. Below pauseAt the worker does not pause: the queue is no
// backlog, and pausing would put the cached answers ahead of the new ones
// each time (in a steady mix, the new ones would pile up in the queue).
const (
	yieldEvery = 500 * time.Microsecond
	pauseAt    = 64
)

// yield pauses the worker until the network has been polled once, when
// pauseAt or more per worker wait and its last pause was yieldEvery ago or
// more. It returns the time of the last pause.
func (p *workers) yield(last time.Time) time.Time {
	if p.waiting() < pauseAt*int(p.n) {
		return last // not backed up: the new answers go first, as they came
	}
	now := time.Now()
	if now.Sub(last) < yieldEvery {
		return last
	}
	p.pauses.Add(1)
	runtime.Gosched() // the queries read last run first (cache answers go out)
	pollWait()
	return time.Now()
}

// poller ends a pause at the first network poll after it began: a pause
// writes a byte to a pipe whose reading end a goroutine waits on in the
// network poller, and that goroutine wakes the pause when the poll reports
// the byte. A timer would not do: when nothing else is runnable, the
// runtime waits at least a millisecond in the poller before it looks at
// timers, idle, while the queries in the queue wait.
type poller struct {
	w    *os.File
	mu   sync.Mutex
	woke chan struct{} // closed at the next poll, then replaced
}

var (
	pollOnce sync.Once
	thePoll  *poller // nil: no pipe; pauses are a yield only
)

// pollWait returns after the network poller has run at least once.
func pollWait() {
	pollOnce.Do(func() {
		r, w, err := os.Pipe()
		if err != nil {
			log.Warningf("no pipe for pausing workers (%v): under a flood, reading queries may lag", err)
			return
		}
		thePoll = &poller{w: w, woke: make(chan struct{})}
		go thePoll.read(r)
	})
	if thePoll == nil {
		return
	}
	thePoll.mu.Lock()
	woke := thePoll.woke
	thePoll.mu.Unlock()
	if _, err := thePoll.w.Write([]byte{0}); err != nil {
		return
	}
	<-woke
}

// read wakes the pauses each time the poller reports the pipe readable.
func (pl *poller) read(r *os.File) {
	buf := make([]byte, 512)
	for {
		if _, err := r.Read(buf); err != nil {
			// Cannot happen while w is open; if it does, pauses end at
			// once from now on instead of waiting for a wake-up.
			log.Warningf("pipe for pausing workers: %v", err)
			pl.mu.Lock()
			close(pl.woke)
			pl.mu.Unlock()
			return
		}
		runtime.Gosched() // let what the same poll woke (the reader) run first
		pl.mu.Lock()
		close(pl.woke)
		pl.woke = make(chan struct{})
		pl.mu.Unlock()
	}
}

// call calls f and returns what it panicked with, if anything: on a worker
// a panic would otherwise end the whole process.
func call(f func()) (panicked any) {
	defer func() { panicked = recover() }()
	f()
	return nil
}
