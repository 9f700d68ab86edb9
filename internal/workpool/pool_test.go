package workpool

import (
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type countTask struct {
	wg   *sync.WaitGroup
	runs *atomic.Int64
	peak *atomic.Int64
	live *atomic.Int64
	gate chan struct{}
}

func (c countTask) Run() {
	n := c.live.Add(1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	<-c.gate
	c.runs.Add(1)
	c.live.Add(-1)
	c.wg.Done()
}

// TestBoundAndDrain: many tasks run, never more than Max at once, and the
// workers end once the queue is empty.
func TestBoundAndDrain(t *testing.T) {
	p := New(3)
	var wg sync.WaitGroup
	var runs, peak, live atomic.Int64
	gate := make(chan struct{})
	const n = 1000
	wg.Add(n)
	for range n {
		p.Submit(countTask{&wg, &runs, &peak, &live, gate})
	}
	if r := p.Running(); r != 3 {
		t.Fatalf("%d workers running with 1000 tasks queued, want 3", r)
	}
	close(gate)
	wg.Wait()
	if runs.Load() != n || peak.Load() > 3 {
		t.Fatalf("%d runs (want %d), at most %d at once (want ≤ 3)", runs.Load(), n, peak.Load())
	}
	// goleak (TestMain) checks that the workers have ended.
}

type orderTask struct {
	i   int
	out *[]int
	wg  *sync.WaitGroup
}

func (o orderTask) Run() { *o.out = append(*o.out, o.i); o.wg.Done() }

// TestFIFO: with one worker, tasks run in the order they were submitted,
// also across the queue's growth.
func TestFIFO(t *testing.T) {
	p := New(1)
	var out []int
	var wg sync.WaitGroup
	wg.Add(500)
	for i := range 500 {
		p.Submit(orderTask{i, &out, &wg})
	}
	wg.Wait()
	for i, v := range out {
		if v != i {
			t.Fatalf("task %d ran at position %d", v, i)
		}
	}
}
