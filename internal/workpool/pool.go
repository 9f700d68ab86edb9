// Package workpool is a bounded pool of goroutines that exist only while
// there is work: the presence server's sockets are read, and its actors run,
// on it (docs/architecture.md §7).
//
// Why not a goroutine per task: protoactor's default dispatcher starts a
// goroutine for every mailbox run, so a flush to 15,000 members made 15,000
// goroutines at once, and the HTTP handshakes waited behind all of them in
// the scheduler's queue. Why not fixed goroutines: an idle server (and a test
// that has finished) should hold none, so there is nothing to stop. A worker
// starts when a task arrives and fewer than Max are running, and ends when
// the queue is empty.
package workpool

import (
	"runtime"
	"sync"
)

// Task is one unit of work. Run must not block for long: a blocked Run holds
// one of the pool's few workers (sockets are read and written without
// blocking, and an actor never blocks in Receive).
type Task interface {
	Run()
}

// Pool runs Tasks on at most Max goroutines, in the order they were
// submitted. The zero value is not usable; call New.
//
// Concurrency: Submit may be called from any goroutine, also from a Task.
type Pool struct {
	max int

	mu      sync.Mutex
	queue   []Task // a ring: head is the oldest, n the number queued
	head, n int
	running int // workers alive
}

// New returns a pool of at most max workers; max < 1 means DefaultMax().
func New(max int) *Pool {
	if max < 1 {
		max = DefaultMax()
	}
	return &Pool{max: max, queue: make([]Task, 64)}
}

// DefaultMax is four workers per processor the Go runtime may use: enough
// that a task which does block now and then (a log write, a test's fake
// socket) does not hold everything up, few enough to stay a small constant.
func DefaultMax() int { return 4 * runtime.GOMAXPROCS(0) }

// Max is the most workers the pool runs at once.
func (p *Pool) Max() int { return p.max }

// Submit queues t and starts a worker if fewer than Max are running. It never
// blocks: the queue grows as needed (it holds each socket and each mailbox at
// most once at a time, so it is bounded by their number).
func (p *Pool) Submit(t Task) {
	p.mu.Lock()
	if p.n == len(p.queue) {
		p.grow()
	}
	p.queue[(p.head+p.n)%len(p.queue)] = t
	p.n++
	start := p.running < p.max
	if start {
		p.running++
	}
	p.mu.Unlock()
	if start {
		go p.work()
	}
}

func (p *Pool) grow() {
	q := make([]Task, 2*len(p.queue))
	for i := range p.n {
		q[i] = p.queue[(p.head+i)%len(p.queue)]
	}
	p.queue, p.head = q, 0
}

// work runs queued tasks until there are none, then ends.
func (p *Pool) work() {
	for {
		p.mu.Lock()
		if p.n == 0 {
			p.running--
			p.mu.Unlock()
			return
		}
		t := p.queue[p.head]
		p.queue[p.head] = nil
		p.head = (p.head + 1) % len(p.queue)
		p.n--
		p.mu.Unlock()
		t.Run()
	}
}

// Running is the number of workers alive now, for tests and metrics.
func (p *Pool) Running() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}
