package cluster

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"

	"presence/actors"
	"presence/internal/wstest"
)

// roomsProbe stands in for a node's Rooms: it records every ClusterCount.
type roomsProbe struct {
	mu     sync.Mutex
	others []int
}

func (p *roomsProbe) Receive(ctx actor.Context) {
	if cc, ok := ctx.Message().(*actors.ClusterCount); ok {
		p.mu.Lock()
		p.others = append(p.others, cc.Others)
		p.mu.Unlock()
	}
}

func (p *roomsProbe) told() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.others)
}

// TestTwoAggregatorsDoNotDoubleCount: while members disagree on the
// topology, two activations of a room's aggregator can both push to a node.
// The node merges their vectors per origin by version, so each origin is
// counted once, with its newest partial, whichever aggregator it came from
// and in whatever order they arrive.
func TestTwoAggregatorsDoNotDoubleCount(t *testing.T) {
	sys, quiet := quietSystem()
	probe := &roomsProbe{}
	n := &Node{
		cfg: Config{Refresh: time.Hour, FlushInterval: 10 * time.Millisecond},
		log: quiet, obs: nopObserver{}, selfID: "self", view: newView("self"), sys: sys,
		local: sys.Root, rooms: sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return probe })),
	}
	n.view.setTopology([]*pcluster.Member{member("self", 1), member("a", 2), member("b", 3)}, time.Now())
	var handled atomic.Int64 // vectors the relay has finished with
	relayPID := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return newRelay(n) }, actor.WithReceiverMiddleware(countHandled[*Vector](&handled))))
	t.Cleanup(func() { _ = sys.Root.StopFuture(relayPID).Wait() })

	sys.Root.Send(relayPID, &localCount{room: "r", users: 2, seq: 1}) // this node has the room
	entry := func(origin string, count int64, version uint64) *Entry {
		return &Entry{Origin: origin, Count: count, Version: version}
	}
	vectors := []*Vector{
		// Aggregator 1 holds a@10 (5 members) and b@1; and this node's own
		// count, which the node knows exactly and never takes from a vector.
		{Room: "r", From: "agg-1", Entries: []*Entry{entry("self", 2, 1), entry("a", 5, 10), entry("b", 3, 1)}}, // others 5+3
		// Aggregator 2 has a's newer partial: a@20 replaces a@10.
		{Room: "r", From: "agg-2", Entries: []*Entry{entry("a", 7, 20)}}, // 7+3
		// Aggregator 1 again, still with a@10: older, ignored.
		{Room: "r", From: "agg-1", Entries: []*Entry{entry("self", 2, 1), entry("a", 5, 10), entry("b", 3, 1)}},
		// Aggregator 2 with an a@15 it had in flight: older than a@20, ignored.
		{Room: "r", From: "agg-2", Entries: []*Entry{entry("a", 4, 15)}},
		// b changes through aggregator 1, which still has a@10.
		{Room: "r", From: "agg-1", Entries: []*Entry{entry("a", 5, 10), entry("b", 1, 2)}}, // 7+1
	}
	for _, v := range vectors {
		sys.Root.Send(relayPID, v)
	}
	wstest.Eventually(t, 10*time.Second, func() (bool, string) {
		return handled.Load() == int64(len(vectors)), fmt.Sprintf("relay handled %d of %d vectors", handled.Load(), len(vectors))
	})
	// Everything the relay told the rooms is queued before this marker.
	const marker = -1
	sys.Root.Send(n.rooms, &actors.ClusterCount{Room: "r", Others: marker})
	wstest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := probe.told()
		return len(got) > 0 && got[len(got)-1] == marker, fmt.Sprintf("rooms told others %v, waiting for the marker", got)
	})
	want := []int{8, 10, 8, marker}
	if got := probe.told(); !slices.Equal(got, want) {
		t.Fatalf("rooms told others %v, want %v: a counted once, with its newest partial", got, want)
	}
}
