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
// submitted, those of SubmitUrgent before those of Submit. The zero value is
// not usable; call New.
//
// Concurrency: Submit may be called from any goroutine, also from a Task.
type Pool struct {
	max int

	mu      sync.Mutex
	urgent  ring // run before anything in normal
	normal  ring
	running int // workers alive
}

// ring is a FIFO queue of tasks in a ring buffer that grows as needed.
type ring struct {
	q       []Task
	head, n int
}

func (r *ring) push(t Task) {
	if r.n == len(r.q) {
		q := make([]Task, max(2*len(r.q), 64))
		for i := range r.n {
			q[i] = r.q[(r.head+i)%len(r.q)]
		}
		r.q, r.head = q, 0
	}
	r.q[(r.head+r.n)%len(r.q)] = t
	r.n++
}

func (r *ring) pop() Task {
	t := r.q[r.head]
	r.q[r.head] = nil
	r.head = (r.head + 1) % len(r.q)
	r.n--
	return t
}

// New returns a pool of at most max workers; max < 1 means DefaultMax().
func New(max int) *Pool {
	if max < 1 {
		max = DefaultMax()
	}
	return &Pool{max: max}
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
func (p *Pool) Submit(t Task) { p.submit(&p.normal, t) }

// SubmitUrgent queues t ahead of every task queued with Submit. The few
// actors that coordinate the rest (a room, the registry) use it, so that a
// join or a count request is not queued behind the thousands of member
// turns of a flush.
func (p *Pool) SubmitUrgent(t Task) { p.submit(&p.urgent, t) }

func (p *Pool) submit(r *ring, t Task) {
	p.mu.Lock()
	r.push(t)
	start := p.running < p.max
	if start {
		p.running++
	}
	p.mu.Unlock()
	if start {
		go p.work()
	}
}

// work runs queued tasks until there are none, then ends. Every few tasks
// it lets the runtime run other goroutines first (the HTTP server's
// handshakes): a worker that went from task to task for its whole time
// slice would make them wait up to 10 ms at a time during a fan-out.
func (p *Pool) work() {
	for i := 1; ; i++ {
		if i%yieldEvery == 0 {
			runtime.Gosched()
		}
		p.mu.Lock()
		var t Task
		switch {
		case p.urgent.n > 0:
			t = p.urgent.pop()
		case p.normal.n > 0:
			t = p.normal.pop()
		default:
			p.running--
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		t.Run()
	}
}

// yieldEvery is how many tasks a worker runs between two yields.
const yieldEvery = 8

// Running is the number of workers alive now, for tests and metrics.
func (p *Pool) Running() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}
