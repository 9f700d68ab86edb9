package actors

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"presence/internal/wstest"
)

// TestCountRequestsAreAnsweredWhileRoomsAreReaped asks for a room's count
// again and again while the room empties and Rooms reaps it: every request
// must be answered. Rooms forwards a CountRequest to the Room; if the Room is
// then stopped with a system message, that message overtakes the request and
// protoactor drops it with the stopped Room's mailbox.
func TestCountRequestsAreAnsweredWhileRoomsAreReaped(t *testing.T) {
	t.Parallel()
	tr := newTree(t, Options{})
	const rooms, rounds, asks = 4, 150, 16
	var wg sync.WaitGroup
	lost := make(chan string, rooms*rounds*asks)
	for r := range rooms {
		room := fmt.Sprintf("reaped-%d", r)
		wg.Go(func() {
			for round := range rounds {
				s := tr.join(room)
				if !wstest.Poll(5*time.Second, func() bool { _, ok := s.last(); return ok }) {
					lost <- fmt.Sprintf("%s round %d: the member never got its count", room, round)
					return
				}
				s.leave("eof")
				futures := make([]*actor.Future, asks)
				for i := range futures {
					futures[i] = tr.system.Root.RequestFuture(tr.rooms, &CountRequest{Room: room}, 2*time.Second)
				}
				for i, f := range futures {
					if _, err := f.Result(); err != nil {
						lost <- fmt.Sprintf("%s round %d, request %d: %v", room, round, i, err)
					}
				}
			}
		})
	}
	wg.Wait()
	close(lost)
	for why := range lost {
		t.Error(why)
	}
}
