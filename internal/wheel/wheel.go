// Package wheel is a hashed timing wheel: many coarse timers served by one
// goroutine, instead of a runtime timer (and a goroutine per firing, for
// time.AfterFunc) per socket or per member (docs/architecture.md §7).
//
// A Timer fires at the first tick at or after the time it was armed for,
// never before that tick and at most one tick late; a timer armed beyond the
// wheel's horizon fires at the horizon, early. Its owner therefore always
// re-checks its own deadlines when it fires and arms it again for the next
// one: the wheel only promises a wake-up, never that a deadline has passed.
//
// The goroutine runs only while some timer is armed, so an idle process (or a
// finished test) holds none.
package wheel

import (
	"sync"
	"time"
)

// Firer is told that its Timer fired. Fire runs on the wheel's goroutine, so
// it must be quick and must not block: hand the work on.
type Firer interface {
	Fire()
}

// Timer is one entry of a Wheel, usually a field of its owner. Its fields are
// guarded by the Wheel's mutex.
type Timer struct {
	prev, next *Timer
	tick       int64 // the absolute tick it fires on; 0 while not armed
	f          Firer
}

// Init sets who is told when t fires. Call it once, before Arm.
func (t *Timer) Init(f Firer) { t.f = f }

// Wheel is a ring of slots, one per tick. The zero value is not usable; call
// New. Its methods may be called from any goroutine.
type Wheel struct {
	tick  time.Duration
	epoch time.Time // tick k ends at epoch + k*tick

	mu      sync.Mutex
	slots   []*Timer // each the head of a doubly linked list
	done    int64    // the last tick whose slot has been fired
	armed   int      // timers armed
	running bool     // the goroutine runs
	fire    []*Timer // scratch for the goroutine
}

// New returns a wheel of n slots of the given tick: timers up to tick*(n-1)
// ahead fire on time.
func New(tick time.Duration, n int) *Wheel {
	if tick <= 0 {
		tick = time.Millisecond
	}
	return &Wheel{tick: tick, epoch: time.Now(), slots: make([]*Timer, max(n, 2))}
}

// Arm makes t fire at the first tick at or after at. A timer already armed
// for that tick or an earlier one is left alone (it fires first, and its
// owner arms it again); one armed for a later tick is moved.
func (w *Wheel) Arm(t *Timer, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.running {
		// Idle since w.done: no slot between then and now holds a timer.
		w.done = max(w.done, int64(time.Since(w.epoch)/w.tick))
	}
	k := int64((at.Sub(w.epoch) + w.tick - 1) / w.tick) // ceil: never early
	k = max(k, w.done+1)
	k = min(k, w.done+int64(len(w.slots))-1)
	if t.tick != 0 {
		if t.tick <= k {
			return
		}
		w.unlink(t)
	}
	t.tick = k
	slot := &w.slots[k%int64(len(w.slots))]
	t.prev, t.next = nil, *slot
	if *slot != nil {
		(*slot).prev = t
	}
	*slot = t
	w.armed++
	if !w.running {
		w.running = true
		go w.run()
	}
}

// Stop disarms t. A Fire already under way may still run.
func (w *Wheel) Stop(t *Timer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t.tick != 0 {
		w.unlink(t)
	}
}

// unlink removes an armed t from its slot. The caller holds mu.
func (w *Wheel) unlink(t *Timer) {
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		w.slots[t.tick%int64(len(w.slots))] = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	}
	t.prev, t.next, t.tick = nil, nil, 0
	w.armed--
}

// run fires the slots as their ticks pass, until no timer is armed.
func (w *Wheel) run() {
	ticker := time.NewTicker(w.tick)
	defer ticker.Stop()
	for range ticker.C {
		now := int64(time.Since(w.epoch) / w.tick)
		w.mu.Lock()
		fire := w.fire[:0]
		for w.done < now && w.armed > 0 {
			w.done++
			slot := &w.slots[w.done%int64(len(w.slots))]
			for t := *slot; t != nil; {
				next := t.next
				if t.tick <= w.done {
					w.unlink(t)
					fire = append(fire, t)
				}
				t = next
			}
		}
		w.done = max(w.done, now)
		w.mu.Unlock()

		for i, t := range fire {
			t.f.Fire()
			fire[i] = nil
		}

		w.mu.Lock()
		w.fire = fire[:0]
		if w.armed == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
	}
}
