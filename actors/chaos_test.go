package actors

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"presence/internal/leave"

	"presence/internal/wstest"
)

// chaosObserver makes Rooms fail at random: it panics inside Joined (while a
// Room handles a member going live) and Flushed (in the middle of a push),
// on a random schedule, up to a budget that stays under the Room's failure
// limit (roomMaxFailures in roomFailureWindow), past which a Room is
// stopped on purpose. The Observer is one of the Room's real collaborators,
// so this needs no hook in production code.
type chaosObserver struct {
	recordingObserver
	mu     sync.Mutex
	rng    *rand.Rand
	joined atomic.Int32 // panics injected in Joined, at most 4
	flush  atomic.Int32 // panics injected in Flushed, at most 4

	// catchUp is set when the churn is over: a kind with no panic yet panics
	// at its next call. How many members go live during the churn (and so
	// how often Joined runs) depends on the machine's load, from hundreds to
	// well over a thousand, so the odds alone left a kind empty in about 1
	// run in 10, which fails the test; the members that join after the
	// churn make both kinds run again.
	catchUp atomic.Bool
}

// roll says whether to panic now: while fewer than four panics of this kind
// have been injected, with odds 1 in n, or at once if it is catching up on a
// kind that has none.
func (o *chaosObserver) roll(n int, done *atomic.Int32) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if done.Load() < 4 && (o.rng.IntN(n) == 0 || o.catchUp.Load() && done.Load() == 0) {
		done.Add(1)
		return true
	}
	return false
}

func (o *chaosObserver) Joined() {
	if o.roll(300, &o.joined) {
		panic("chaos: room panic in Joined")
	}
}

func (o *chaosObserver) Flushed(int) {
	if o.roll(8, &o.flush) { // flushes are fewer: they coalesce changes
		panic("chaos: room panic in Flushed")
	}
}

// TestChaosRandomPanicsDuringChurn joins and leaves thousands of members in
// five rooms from four goroutines while Rooms fail at random and a third of
// the members are fragile: their socket's write panics, so their Member
// fails, on a random later count. Throughout and at the end: every Member that
// failed was closed with 1011 and left (reason crash), no other member was
// ever closed, and every remaining member shows its room's exact count,
// which the Room confirms.
func TestChaosRandomPanicsDuringChurn(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	obs := &chaosObserver{rng: rand.New(rand.NewPCG(seed, 99))}
	tr := newTree(t, Options{Observer: obs})
	rooms := []string{"r0", "r1", "r2", "r3", "r4"}

	type member struct {
		room    string
		s       *fakeSocket
		fragile bool
		crashed *atomic.Bool // its write panicked
	}
	var (
		mu    sync.Mutex
		all   []member
		final atomic.Bool // the churn is over: fragile members fail on their next write
	)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			var mine []member
			for range 1000 {
				if len(mine) > 0 && rng.IntN(10) < 4 {
					i := rng.IntN(len(mine))
					mine[i].s.leave([]string{"close_frame", "eof", "ping_timeout"}[rng.IntN(3)])
					mine = append(mine[:i], mine[i+1:]...)
					continue
				}
				m := member{room: rooms[rng.IntN(len(rooms))], crashed: new(atomic.Bool)}
				if rng.IntN(3) == 0 {
					m.fragile = true
					writes, failAt := 0, 2+rng.IntN(3) // its first count gets through
					m.s = tr.joinHooked(m.room, func([]byte) error {
						if writes++; writes >= failAt || final.Load() {
							m.crashed.Store(true)
							panic("chaos: conn panic in WriteFrame")
						}
						return nil
					})
				} else {
					m.s = tr.join(m.room)
				}
				mine = append(mine, m)
				mu.Lock()
				all = append(all, m)
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	// Every fragile member still there must fail on its next write: one more
	// member per room pushes a new count to everyone. Those joins and pushes
	// also inject the kinds of Room panic the churn happened not to.
	final.Store(true)
	obs.catchUp.Store(true)
	for _, room := range rooms {
		m := member{room: room, crashed: new(atomic.Bool), s: tr.join(room)}
		all = append(all, m)
	}
	wstest.Eventually(t, 15*time.Second, func() (bool, string) {
		for _, m := range all {
			select {
			case <-m.s.ended:
			default:
				if m.fragile {
					return false, fmt.Sprintf("a fragile member is still live (its write panicked: %v)", m.crashed.Load())
				}
			}
		}
		return true, ""
	})

	want := map[string][]*fakeSocket{}
	for _, room := range rooms {
		want[room] = nil // an emptied room must count 0 too
	}
	crashed := 0
	for _, m := range all {
		closed, code := m.s.closedWith()
		switch {
		case m.crashed.Load():
			crashed++
			if !closed || code != CloseInternalError {
				t.Fatalf("a member whose Member failed: closed=%v code %d, want 1011", closed, code)
			}
		case closed:
			t.Fatalf("a member was closed with %d by someone else's failure", code)
		}
		select {
		case <-m.s.ended:
		default:
			want[m.room] = append(want[m.room], m.s)
		}
	}
	var sockets []*fakeSocket
	for _, m := range all {
		sockets = append(sockets, m.s)
	}
	tr.expectExact(want, sockets)
	if got := obs.left(leave.Crash); got != crashed {
		t.Fatalf("%d crash leaves, but %d Members failed", got, crashed)
	}
	t.Logf("%d members, %d Member panics, %d Room panics in Joined and %d in Flushed", len(all), crashed, obs.joined.Load(), obs.flush.Load())
	if crashed == 0 || obs.joined.Load() == 0 || obs.flush.Load() == 0 {
		t.Fatal("the chaos injected no failure of some kind")
	}
}
