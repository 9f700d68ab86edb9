package cluster

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"

	"presence/internal/wstest"
)

// These tests run one Aggregator (or one relay) in a local actor system,
// with a hand-built Node whose view is set by the test, and capture what it
// sends to other nodes' relays with an address resolver (the hook
// protoactor's remote uses): no network, no membership provider, no gossip,
// so they run under the race detector too.

// quietSystem is an actor system whose logger, also returned, discards
// everything.
func quietSystem() (*actor.ActorSystem, *slog.Logger) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	return actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet })), quiet
}

// countHandled counts the messages of type T the actor has finished
// handling, so that a test can tell "nothing was sent" from "not handled yet".
func countHandled[T any](n *atomic.Int64) actor.ReceiverMiddleware {
	return func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
			next(c, env)
			if _, ok := env.Message.(T); ok {
				n.Add(1)
			}
		}
	}
}

// sentVector is one Vector an aggregator sent, to the relay at address, and
// when (captured on the aggregator's goroutine, inside its Send).
type sentVector struct {
	at time.Time
	v  *Vector
}

// vectorSink stands in for every other node: it records the Vectors sent
// to their relays, by address.
type vectorSink struct {
	mu  sync.Mutex
	got map[string][]sentVector
}

func (s *vectorSink) SendUserMessage(pid *actor.PID, msg any) {
	v, ok := actor.UnwrapEnvelopeMessage(msg).(*Vector)
	if !ok || pid.Id != relayName {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got[pid.Address] = append(s.got[pid.Address], sentVector{time.Now(), v})
}
func (*vectorSink) SendSystemMessage(*actor.PID, any) {}
func (*vectorSink) Stop(*actor.PID)                   {}

func (s *vectorSink) to(addr string) []sentVector {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got[addr])
}

func (s *vectorSink) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, vs := range s.got {
		n += len(vs)
	}
	return n
}

// aggHarness is one aggregator of room "r" on node "host", among origins
// o1, o2, … whose relays listen at 127.0.0.1:1, :2, ….
type aggHarness struct {
	t       *testing.T
	sys     *actor.ActorSystem
	n       *Node
	sink    *vectorSink
	agg     *actor.PID
	spawned time.Time // before the aggregator started

	sent atomic.Int64 // partials sent by the test
	done atomic.Int64 // partials the aggregator has finished handling
}

func newAggHarness(t *testing.T, flush, refresh time.Duration, origins int) *aggHarness {
	t.Helper()
	sys, quiet := quietSystem()
	h := &aggHarness{t: t, sys: sys, sink: &vectorSink{got: make(map[string][]sentVector)}}
	sys.ProcessRegistry.RegisterAddressResolver(func(*actor.PID) (actor.Process, bool) { return h.sink, true })
	h.n = &Node{
		cfg: Config{Refresh: refresh, FlushInterval: flush},
		log: quiet, obs: nopObserver{}, selfID: "host", view: newView("host"), sys: sys,
	}
	members := []*pcluster.Member{member("host", 9)}
	for i := 1; i <= origins; i++ {
		members = append(members, member(h.id(i), int32(i)))
	}
	h.n.view.setTopology(members, time.Now())

	h.spawned = time.Now()
	h.agg = sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return newAggregator(h.n) }, actor.WithReceiverMiddleware(countHandled[*Partial](&h.done))))
	t.Cleanup(func() { _ = sys.Root.StopFuture(h.agg).Wait() })
	return h
}

func (h *aggHarness) id(i int) string   { return fmt.Sprintf("o%d", i) }
func (h *aggHarness) addr(i int) string { return fmt.Sprintf("127.0.0.1:%d", i) }

// partial sends origin i's count at version v (known: the origins it holds
// partials of, which makes it a resync partial).
func (h *aggHarness) partial(i int, count int64, v uint64, known ...string) {
	h.sent.Add(1)
	h.sys.Root.Send(h.agg, &Partial{
		Room: "r", Origin: h.id(i), OriginAddress: h.addr(i),
		Count: count, Version: v, Resync: len(known) > 0, Known: known,
	})
}

// handled waits until the aggregator has handled every partial sent so far.
func (h *aggHarness) handled() {
	h.t.Helper()
	wstest.Eventually(h.t, 10*time.Second, func() (bool, string) {
		return h.done.Load() == h.sent.Load(), fmt.Sprintf("%d of %d partials handled", h.done.Load(), h.sent.Load())
	})
}

// counts is a vector's entries as origin → count@version.
func counts(v *Vector) map[string]string {
	m := make(map[string]string, len(v.Entries))
	for _, e := range v.Entries {
		m[e.Origin] = fmt.Sprintf("%d@%d", e.Count, e.Version)
	}
	return m
}

// TestAggregatorCoalescesPerNode: bursts of partial changes reach every
// node as at most one Vector per flush interval (consecutive Vectors to one
// node at least an interval apart, so no more than elapsed/interval + 1 of
// them), and the last Vector each node gets carries the final counts.
func TestAggregatorCoalescesPerNode(t *testing.T) {
	const flush = 40 * time.Millisecond
	h := newAggHarness(t, flush, time.Hour, 3)
	start := time.Now()
	h.partial(1, 0, 1)
	h.partial(2, 0, 1)
	h.partial(3, 5, 1)
	// Four waves of 50 changes from o1 and 25 from o2, each wave as fast
	// as it can be sent, with a resync (wants the whole vector back) now
	// and then; each wave ends when every node holds its final counts.
	changes := 0
	for wave := range 4 {
		for i := wave*50 + 1; i <= (wave+1)*50; i++ {
			var known []string
			if i%20 == 0 {
				known = []string{h.id(1), h.id(2), h.id(3)}
			}
			h.partial(1, int64(i), uint64(1+i), known...)
			changes++
			if i%2 == 0 {
				h.partial(2, int64(i/2), uint64(1+i/2))
				changes++
			}
		}
		last := (wave + 1) * 50
		final := map[string]string{"o1": fmt.Sprintf("%d@%d", last, last+1), "o2": fmt.Sprintf("%d@%d", last/2, last/2+1), "o3": "5@1"}
		wstest.Eventually(t, 10*time.Second, func() (bool, string) {
			for i := 1; i <= 3; i++ {
				got := h.sink.to(h.addr(i))
				if len(got) == 0 {
					return false, h.id(i) + " got no vector"
				}
				if last := counts(got[len(got)-1].v); fmt.Sprint(last) != fmt.Sprint(final) {
					return false, fmt.Sprintf("wave %d: %s's last vector is %v, want %v", wave, h.id(i), last, final)
				}
			}
			return true, ""
		})
	}
	elapsed := time.Since(start)
	for i := 1; i <= 3; i++ {
		got := h.sink.to(h.addr(i))
		for k := 1; k < len(got); k++ {
			if gap := got[k].at.Sub(got[k-1].at); gap < flush {
				t.Errorf("%s got vectors %d and %d %s apart, less than the flush interval %s", h.id(i), k, k+1, gap, flush)
			}
		}
		if bound := int(elapsed/flush) + 1; len(got) > bound {
			t.Errorf("%s got %d vectors in %s, more than one per %s flush interval (%d)", h.id(i), len(got), elapsed, flush, bound)
		}
		t.Logf("%s: %d vectors for %d changes in %s", h.id(i), len(got), changes, elapsed.Round(time.Millisecond))
	}
}

// TestAggregatorWaitsForItsRebuild: a (re-)activated aggregator publishes
// nothing until it holds a partial from every live origin its reporters
// know of, then publishes at once; an origin that is known but not live
// does not hold it back.
func TestAggregatorWaitsForItsRebuild(t *testing.T) {
	h := newAggHarness(t, 10*time.Millisecond, time.Hour, 4)
	h.n.view.suspect(h.id(4), time.Now()) // known to o1, but dead

	// o1 held the vector of the previous activation: o1 to o4.
	known := []string{h.id(1), h.id(2), h.id(3), h.id(4)}
	h.partial(1, 1, 10, known...)
	h.handled()
	if n := h.sink.total(); n != 0 {
		t.Fatalf("%d vectors sent with only o1's partial; o2 and o3 are live and known", n)
	}
	h.partial(2, 2, 10)
	h.handled()
	if n := h.sink.total(); n != 0 {
		t.Fatalf("%d vectors sent without o3's partial; o3 is live and known", n)
	}
	h.partial(3, 3, 10)
	want := map[string]string{"o1": "1@10", "o2": "2@10", "o3": "3@10"}
	// The refresh interval is an hour: this push is the rebuild's.
	wstest.Eventually(t, 10*time.Second, func() (bool, string) {
		for i := 1; i <= 3; i++ {
			got := h.sink.to(h.addr(i))
			if len(got) == 0 {
				return false, fmt.Sprintf("%s got no vector though every live known origin reported", h.id(i))
			}
			if first := counts(got[0].v); fmt.Sprint(first) != fmt.Sprint(want) {
				t.Fatalf("%s's first vector is %v, want the whole rebuilt %v", h.id(i), first, want)
			}
		}
		return true, ""
	})
}

// TestAggregatorPublishesAfterARefreshInterval: when a known origin never
// reports, the aggregator publishes what it has one refresh interval after
// its activation, and not before.
func TestAggregatorPublishesAfterARefreshInterval(t *testing.T) {
	const refresh = 300 * time.Millisecond
	h := newAggHarness(t, 10*time.Millisecond, refresh, 2)
	h.partial(1, 4, 10, h.id(1), h.id(2)) // o2 is live and known, and silent
	wstest.Eventually(t, 10*time.Second, func() (bool, string) {
		return len(h.sink.to(h.addr(1))) > 0, "o1 got no vector"
	})
	first := h.sink.to(h.addr(1))[0]
	if waited := first.at.Sub(h.spawned); waited < refresh {
		t.Fatalf("first vector %s after the activation, before the refresh interval %s", waited, refresh)
	}
	if got := counts(first.v); fmt.Sprint(got) != fmt.Sprint(map[string]string{"o1": "4@10"}) {
		t.Fatalf("first vector %v, want o1's partial only", got)
	}
}
