package actors

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"presence/internal/wstest"
)

// TestFlushWaitsForTheFanOutBeforeIt: while the last flush is still on its
// way to a member, the Room starts no other (at tens of thousands of members
// a second fan-out would only queue counts that every member then skips),
// and it waits at most maxInFlight intervals for a member that never
// finishes: then the others get the newest count anyway.
func TestFlushWaitsForTheFanOutBeforeIt(t *testing.T) {
	t.Parallel()
	const interval = 50 * time.Millisecond
	tr := newTree(t, Options{FlushInterval: interval})
	fast := tr.joinAll("lobby", 2)

	release := make(chan struct{})
	var writes atomic.Int32
	slow := tr.joinHooked("lobby", func([]byte) error {
		if writes.Add(1) == 2 {
			<-release // its second count stays on its way
		}
		return nil
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged(append(fast, slow), 3) })

	// This flush (4) reaches the slow member, whose write hangs.
	fast = append(fast, tr.join("lobby"))
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged(fast, 4) })
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return writes.Load() == 2, "the slow member's second write has not begun" })
	times := fast[0].writeTimes()
	flushed := times[len(times)-1]

	for want := 5; want <= 8; want++ {
		fast = append(fast, tr.join("lobby"))
		wstest.Eventually(t, 5*time.Second, func() (bool, string) {
			n := tr.count("lobby").Users
			return n == want, fmt.Sprintf("the room counts %d, want %d", n, want)
		})
	}
	// Three intervals after the flush of 4, the room would have flushed 8
	// long since, were it not waiting for the slow member.
	wstest.Eventually(t, 5*time.Second, func() (bool, string) {
		return time.Since(flushed) >= 3*interval, "three intervals have not passed"
	})
	c, _ := fast[0].last()
	if elapsed := time.Since(flushed); elapsed < maxInFlight*interval && c.CurrentUsers != 4 {
		t.Fatalf("%v after the flush of 4, with that flush still on its way to a member, a member shows %d: the room flushed again", elapsed.Round(time.Millisecond), c.CurrentUsers)
	}

	// The slow member never finishes: after maxInFlight intervals the
	// others get 8 all the same.
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged(fast, 8) })
	times = fast[0].writeTimes()
	if waited := times[len(times)-1].Sub(flushed); waited < (maxInFlight-1)*interval {
		t.Fatalf("8 was written %v after 4; want about %d intervals", waited, maxInFlight)
	}
	close(release)
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged([]*fakeSocket{slow}, 8) })
}
