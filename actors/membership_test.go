package actors

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"presence/internal/wstest"
)

// TestRandomChurnConvergesExactly seats thousands of fake sockets in several
// rooms from several goroutines and makes a random share of them leave, for
// every kind of reason, while others are still joining. At the end every
// live member's last count is its room's true size, the Room says the same
// when asked, and no member ever saw a seq that was not above the one before.
func TestRandomChurnConvergesExactly(t *testing.T) {
	t.Parallel()
	tr := newTree(t, Options{})
	rooms := []string{"lobby", "team-a", "team-b", "x.y", "z_9"}
	reasons := []string{"close_frame", "eof", "ping_timeout", "protocol_error"}

	const workers, perWorker = 4, 1500
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)

	type member struct {
		room string
		s    *fakeSocket
	}
	var (
		mu   sync.Mutex
		live = map[*fakeSocket]string{}
		all  []member
	)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			var mine []member
			for range perWorker {
				if len(mine) > 0 && rng.IntN(10) < 4 {
					i := rng.IntN(len(mine))
					m := mine[i]
					mine = append(mine[:i], mine[i+1:]...)
					mu.Lock()
					delete(live, m.s)
					mu.Unlock()
					// Often before the Room has even handled its join.
					m.s.leave(reasons[rng.IntN(len(reasons))])
					continue
				}
				room := rooms[rng.IntN(len(rooms))]
				s := tr.join(room)
				m := member{room, s}
				mine = append(mine, m)
				mu.Lock()
				live[s] = room
				all = append(all, m)
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	want := map[string][]*fakeSocket{}
	for _, room := range rooms {
		want[room] = nil // an emptied room must count 0 too
	}
	for s, room := range live {
		want[room] = append(want[room], s)
	}
	t.Logf("%d joins, %d still live", len(all), len(live))

	var sockets []*fakeSocket
	for _, m := range all {
		sockets = append(sockets, m.s)
	}
	tr.expectExact(want, sockets)
}

// TestJoinerFirstFrameIncludesItself checks the wire contract's first frame:
// a joiner's first count already counts it.
func TestJoinerFirstFrameIncludesItself(t *testing.T) {
	t.Parallel()
	tr := newTree(t, Options{})
	members := tr.joinAll("lobby", 3)
	late := tr.join("lobby")
	wstest.Eventually(t, 5*time.Second, func() (bool, string) {
		_, ok := late.last()
		return ok, "the joiner has no count yet"
	})
	if first := late.history()[0]; first.CurrentUsers != 4 || first.Room != "lobby" {
		t.Fatalf("first frame %+v, want 4 users in lobby", first)
	}
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged(members, 4) })
}

// TestCoalescesBursts checks that a burst of joins reaches each member as a
// handful of frames, not one per join.
func TestCoalescesBursts(t *testing.T) {
	t.Parallel()
	tr := newTree(t, Options{FlushInterval: 200 * time.Millisecond})
	first := tr.joinAll("lobby", 1)[0]
	before := len(first.history())

	var burst []*fakeSocket
	for range 200 {
		burst = append(burst, tr.join("lobby"))
	}
	all := append(burst, first)
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return converged(all, 201) })

	// 200 joins arrive within a few intervals: far fewer frames than joins.
	if got := len(first.history()) - before; got > 10 {
		t.Fatalf("the first member got %d frames for a burst of 200 joins", got)
	}
}

// TestEmptyRoomIsReapedAndComesBack checks that an empty room's actor goes
// away and a later join creates it again with seqs still rising.
func TestEmptyRoomIsReapedAndComesBack(t *testing.T) {
	t.Parallel()
	tr := newTree(t, Options{})
	members := tr.joinAll("ephemeral", 2)
	lastSeq := tr.count("ephemeral").Seq
	for _, m := range members {
		m.leave("close_frame")
	}
	wstest.Eventually(t, 5*time.Second, func() (bool, string) {
		res, err := tr.system.Root.RequestFuture(tr.rooms, &RoomsRequest{}, time.Second).Result()
		if err != nil {
			return false, err.Error()
		}
		return len(res.(*RoomsResponse).Rooms) == 0, fmt.Sprintf("rooms: %+v", res)
	})
	again := tr.joinAll("ephemeral", 1)
	if c, _ := again[0].last(); c.Seq <= lastSeq {
		t.Fatalf("the new room's seq %d is not above the old room's %d", c.Seq, lastSeq)
	}
}

// TestAtMostOneFramePerIntervalPerMember: however fast members come and go,
// and however late one flush reaches a member, no member is written two
// counts less than a flush interval apart.
func TestAtMostOneFramePerIntervalPerMember(t *testing.T) {
	t.Parallel()
	const interval = 20 * time.Millisecond
	tr := newTree(t, Options{FlushInterval: interval})
	members := tr.joinAll("lobby", 300)

	// Churn for a while: one join and one leave every millisecond or so.
	var churn []*fakeSocket
	tick := time.NewTicker(time.Millisecond)
	for range 400 {
		<-tick.C
		churn = append(churn, tr.join("lobby"))
		if len(churn) > 20 {
			churn[0].leave("eof")
			churn = churn[1:]
		}
	}
	tick.Stop()
	want := 300 + len(churn)
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return converged(members, want) })

	for i, m := range members {
		times := m.writeTimes()
		for j := 1; j < len(times); j++ {
			if gap := times[j].Sub(times[j-1]); gap < interval {
				t.Fatalf("member %d got two counts %s apart (interval %s)", i, gap, interval)
			}
		}
	}
}

// TestJoinsInFlightAtShutdownAreClosed: joins still queued when the tree is
// stopped must not spawn members into a stopping Room (which would then
// never finish stopping); their sockets are closed with 1001 instead.
func TestJoinsInFlightAtShutdownAreClosed(t *testing.T) {
	t.Parallel()
	o := Options{FlushInterval: 10 * time.Millisecond}.withDefaults()
	system := NewSystem(o.Logger, nil)
	defer system.Shutdown()
	rooms := system.Root.Spawn(NewRoomsProps(*o))

	var sockets []*fakeSocket
	for i := range 500 {
		s := newFakeSocket()
		sockets = append(sockets, s)
		system.Root.Send(rooms, &Join{Room: fmt.Sprintf("r%d", i%3), Socket: s})
	}
	if err := system.Root.PoisonFuture(rooms).Wait(); err != nil {
		t.Fatalf("the tree did not stop: %v", err)
	}
	for i, s := range sockets {
		if closed, code := s.closedWith(); !closed || code != CloseGoingAway {
			t.Fatalf("socket %d: closed=%v code=%d, want closed with 1001", i, closed, code)
		}
	}
}
