package actors

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"

	"presence/internal/wstest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// protoactor's dead-letter log throttle: a goroutine that lives for
		// one throttle interval (1 s) after a dead letter, such as a Stop
		// that reaches a member which has just stopped by itself.
		goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"))
}

// tree is a real actor system with a Rooms registry, for one test.
type tree struct {
	t      *testing.T // nil for a tree from startTree
	system *actor.ActorSystem
	rooms  *actor.PID
}

// newTree starts an actor system and a Rooms registry with o (a short flush
// interval unless o sets one); both stop when the test ends.
func newTree(t *testing.T, o Options) *tree {
	t.Helper()
	tr, stop := startTree(o)
	tr.t = t
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stopping rooms: %v", err)
		}
	})
	return tr
}

// startTree is newTree without a test (for Examples): stop stops the Rooms
// registry and then the actor system. A tree from startTree has no t, so
// only join, joinHooked and the sockets' own methods may be used on it.
func startTree(o Options) (tr *tree, stop func() error) {
	if o.FlushInterval == 0 {
		o.FlushInterval = 10 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	system := NewSystem(o.Logger, nil)
	tr = &tree{system: system, rooms: system.Root.Spawn(NewRoomsProps(o))}
	return tr, func() error {
		defer system.Shutdown()
		return system.Root.PoisonFuture(tr.rooms).Wait()
	}
}

// join seats a new fake socket in room.
func (tr *tree) join(room string) *fakeSocket {
	return tr.joinHooked(room, nil)
}

// joinHooked seats a new fake socket whose writes go through hook first.
func (tr *tree) joinHooked(room string, hook func(frame []byte) error) *fakeSocket {
	s := newFakeSocket()
	s.writeHook = hook
	tr.system.Root.Send(tr.rooms, &Join{Room: room, Socket: s})
	return s
}

// count asks the Room for its count.
func (tr *tree) count(room string) CountResponse {
	tr.t.Helper()
	res, err := tr.system.Root.RequestFuture(tr.rooms, &CountRequest{Room: room}, 10*time.Second).Result()
	if err != nil {
		tr.t.Fatalf("CountRequest %s: %v", room, err)
	}
	return *res.(*CountResponse)
}

// converged reports whether every socket in members shows want as its last
// count, and names one that does not.
func converged(members []*fakeSocket, want int) (bool, string) {
	for i, s := range members {
		c, ok := s.last()
		if !ok {
			return false, fmt.Sprintf("member %d has no count yet (want %d)", i, want)
		}
		if c.CurrentUsers != want {
			return false, fmt.Sprintf("member %d shows %d, want %d", i, c.CurrentUsers, want)
		}
	}
	return true, ""
}

// joinAll seats n fake sockets in room and waits until they all show n.
func (tr *tree) joinAll(room string, n int) []*fakeSocket {
	tr.t.Helper()
	members := make([]*fakeSocket, n)
	for i := range members {
		members[i] = tr.join(room)
	}
	wstest.Eventually(tr.t, 10*time.Second, func() (bool, string) { return converged(members, n) })
	return members
}

// expectExact waits until every room's Room counts exactly its live members
// and each of them shows that count, then checks every socket ever seated:
// no seq went backwards, and no socket was started twice (no Member was restarted).
func (tr *tree) expectExact(live map[string][]*fakeSocket, all []*fakeSocket) {
	tr.t.Helper()
	for room, members := range live {
		wstest.Eventually(tr.t, 15*time.Second, func() (bool, string) {
			if got := tr.count(room).Users; got != len(members) {
				return false, fmt.Sprintf("room %s: the Room counts %d, want %d", room, got, len(members))
			}
			ok, why := converged(members, len(members))
			return ok, "room " + room + ": " + why
		})
	}
	for _, s := range all {
		if p := s.seqProblem(); p != "" {
			tr.t.Fatalf("a member saw %s", p)
		}
		if n := s.starts.Load(); n > 1 {
			tr.t.Fatalf("a member's socket was started %d times: a Member was restarted", n)
		}
	}
}
