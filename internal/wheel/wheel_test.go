package wheel

import (
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type firer struct {
	at    atomic.Int64 // when it fired, unix nanos
	fired chan struct{}
}

func (f *firer) Fire() {
	f.at.Store(time.Now().UnixNano())
	close(f.fired)
}

// TestNeverEarly: a timer fires at or after the time it was armed for,
// within a few ticks, and the goroutine ends when nothing is armed.
func TestNeverEarly(t *testing.T) {
	w := New(2*time.Millisecond, 64)
	var ts [20]Timer
	var fs [20]*firer
	start := time.Now()
	for i := range ts {
		fs[i] = &firer{fired: make(chan struct{})}
		ts[i].Init(fs[i])
		w.Arm(&ts[i], start.Add(time.Duration(i)*5*time.Millisecond))
	}
	for i, f := range fs {
		select {
		case <-f.fired:
		case <-time.After(10 * time.Second):
			t.Fatalf("timer %d did not fire", i)
		}
		want := start.Add(time.Duration(i) * 5 * time.Millisecond)
		if got := time.Unix(0, f.at.Load()); got.Before(want) {
			t.Fatalf("timer %d fired %s early", i, want.Sub(got))
		}
	}
}

// TestEarlierArmMovesAndStopDisarms: arming for an earlier time moves the
// timer, a later one leaves it, and a stopped timer never fires.
func TestEarlierArmMovesAndStopDisarms(t *testing.T) {
	w := New(time.Millisecond, 1024)
	a, b := &firer{fired: make(chan struct{})}, &firer{fired: make(chan struct{})}
	var ta, tb Timer
	ta.Init(a)
	tb.Init(b)
	now := time.Now()
	w.Arm(&ta, now.Add(time.Hour)) // beyond the horizon: parked at its end
	w.Arm(&ta, now.Add(5*time.Millisecond))
	w.Arm(&ta, now.Add(30*time.Minute)) // later: ignored
	w.Arm(&tb, now.Add(5*time.Millisecond))
	w.Stop(&tb)
	select {
	case <-a.fired:
	case <-time.After(10 * time.Second):
		t.Fatal("the timer moved earlier did not fire")
	}
	w.mu.Lock()
	armed := w.armed
	w.mu.Unlock()
	if armed != 0 {
		t.Fatalf("%d timers still armed", armed)
	}
	select {
	case <-b.fired:
		t.Fatal("a stopped timer fired")
	default:
	}
}
