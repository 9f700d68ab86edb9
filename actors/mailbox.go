package actors

import (
	"sync"

	"github.com/asynkron/protoactor-go/actor"

	"presence/internal/workpool"
)

// mailbox is the mailbox of every actor in the tree, and the pool its
// dispatcher: a run of the mailbox is a task on the worker pool that also
// reads the sockets (docs/architecture.md §7).
//
// Why not protoactor's own: its default dispatcher starts a goroutine for
// every mailbox run, so one flush to 15,000 members made 15,000 goroutines
// at once; and its default mailbox allocates two queues per actor up front
// (a ring of 10 slots and a linked queue). This one holds a slice per
// queue, empty and unallocated while the actor is idle, and submits itself
// (no closure) to the pool.
//
// Semantics follow protoactor's default mailbox (actor/mailbox.go): system
// messages first; SuspendMailbox/ResumeMailbox stop and resume the user
// queue; a panic in the actor is escalated to its supervisor and the run
// ends; at most Throughput messages per run, then the mailbox yields its
// worker and queues again.
type mailbox struct {
	pool       *workpool.Pool
	throughput int
	urgent     bool // runs ahead of the members' turns (Rooms, Room)
	invoker    actor.MessageInvoker

	mu        sync.Mutex
	sys, user fifo
	scheduled bool // queued on the pool, or running
	suspended bool
}

// newMailboxProducer returns the MailboxProducer for actors run on pool;
// urgent ones are queued ahead of the others (workpool.SubmitUrgent).
func newMailboxProducer(pool *workpool.Pool, throughput int, urgent bool) actor.MailboxProducer {
	return func() actor.Mailbox { return &mailbox{pool: pool, throughput: throughput, urgent: urgent} }
}

func (m *mailbox) submit() {
	if m.urgent {
		m.pool.SubmitUrgent(m)
	} else {
		m.pool.Submit(m)
	}
}

func (m *mailbox) PostUserMessage(msg any) { m.post(&m.user, msg) }

func (m *mailbox) PostSystemMessage(msg any) { m.post(&m.sys, msg) }

func (m *mailbox) post(q *fifo, msg any) {
	m.mu.Lock()
	q.push(msg)
	schedule := !m.scheduled
	m.scheduled = true
	m.mu.Unlock()
	if schedule {
		m.submit()
	}
}

func (m *mailbox) RegisterHandlers(invoker actor.MessageInvoker, _ actor.Dispatcher) {
	m.invoker = invoker
}

func (m *mailbox) Start() {}

func (m *mailbox) UserMessageCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.user.len()
}

// Run processes messages until the queues are empty, the mailbox is
// suspended, or the throughput is used up (workpool.Task).
func (m *mailbox) Run() {
	var msg any
	defer func() {
		if r := recover(); r != nil {
			m.invoker.EscalateFailure(r, msg)
			m.yield()
		}
	}()
	for range m.throughput {
		var system bool
		msg, system = m.next()
		if msg == nil {
			return
		}
		if !system {
			m.invoker.InvokeUserMessage(msg)
			continue
		}
		switch msg.(type) {
		case *actor.SuspendMailbox:
			m.setSuspended(true)
		case *actor.ResumeMailbox:
			m.setSuspended(false)
		default:
			m.invoker.InvokeSystemMessage(msg)
		}
	}
	m.yield()
}

// next pops the next message to process, or returns nil and marks the
// mailbox idle when there is none (a post then schedules it again).
func (m *mailbox) next() (msg any, system bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sys.len() > 0 {
		return m.sys.pop(), true
	}
	if !m.suspended && m.user.len() > 0 {
		return m.user.pop(), false
	}
	m.scheduled = false
	return nil, false
}

// yield ends this run early: the mailbox goes back on the pool if it has
// something to do, so that other actors get their turn.
func (m *mailbox) yield() {
	m.mu.Lock()
	more := m.sys.len() > 0 || !m.suspended && m.user.len() > 0
	if !more {
		m.scheduled = false
	}
	m.mu.Unlock()
	if more {
		m.submit()
	}
}

func (m *mailbox) setSuspended(s bool) {
	m.mu.Lock()
	m.suspended = s
	m.mu.Unlock()
}

// fifo is a queue in a slice that keeps its array while it is used and
// lets all but a small one go once it empties: thousands of idle members
// each holding the array of their busiest moment add up.
type fifo struct {
	q    []any
	head int
}

func (f *fifo) len() int { return len(f.q) - f.head }

func (f *fifo) push(v any) { f.q = append(f.q, v) }

func (f *fifo) pop() any {
	v := f.q[f.head]
	f.q[f.head] = nil
	f.head++
	if f.head == len(f.q) {
		f.head = 0
		if cap(f.q) > 2 {
			f.q = nil // an idle member keeps at most two slots
		} else {
			f.q = f.q[:0]
		}
	}
	return v
}

// poolDispatcher is the dispatcher named in the Props, for protoactor code
// that schedules through it rather than through the mailbox: it runs fn on
// the pool too.
type poolDispatcher struct {
	pool       *workpool.Pool
	throughput int
}

func (d poolDispatcher) Schedule(fn func()) { d.pool.Submit(funcTask(fn)) }
func (d poolDispatcher) Throughput() int    { return d.throughput }

type funcTask func()

func (f funcTask) Run() { f() }
