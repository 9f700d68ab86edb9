package actors

import (
	"sync"
	"sync/atomic"
	"time"

	"presence/internal/leave"
)

// recordingObserver counts what the tree reports, and can make the Room
// panic inside Joined or Flushed: the Observer is one of the Room's real
// collaborators, so a failure there is a failure of the Room, with no hook
// in production code.
type recordingObserver struct {
	nopObserver
	mu     sync.Mutex
	leaves map[leave.Reason]int
	slow   atomic.Int32

	panicOnJoined  atomic.Int32 // panics left to inject
	panicOnFlushed atomic.Int32
}

func (o *recordingObserver) Left(reason leave.Reason) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.leaves == nil {
		o.leaves = map[leave.Reason]int{}
	}
	o.leaves[reason]++
}

func (o *recordingObserver) left(reason leave.Reason) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.leaves[reason]
}

func (o *recordingObserver) SlowConsumer() { o.slow.Add(1) }

func (o *recordingObserver) Joined() {
	if o.panicOnJoined.Add(-1) >= 0 {
		panic("injected room panic in Joined")
	}
	o.panicOnJoined.Store(0)
}

func (o *recordingObserver) Flushed(int) {
	if o.panicOnFlushed.Add(-1) >= 0 {
		panic("injected room panic in Flushed")
	}
	o.panicOnFlushed.Store(0)
}

func (o *recordingObserver) PushLatency(time.Duration) {}
