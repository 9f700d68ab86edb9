// These tests cannot run under the race detector: the pinned protoactor's
// gossip races with its own remote — the gossip actor updates heartbeat
// entries (cluster/gossip_state_management.go:43) that a GossipRequest in
// flight shares with the endpoint writer serializing it — and every
// in-process member shares one math/rand source (cluster/informer.go:25).
// test.sh runs them without -race; the real-process tests in the repository
// root cover the same behaviour.

//go:build !race

package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"

	"presence/actors"
)

// These tests run several nodes in one process on loopback, with
// protoactor's in-process test provider for membership, and a probe in
// place of each node's Rooms. The failure behaviour is tested with real
// processes and real etcd in the repository root (cluster_*_test.go).

// testNode is one node and the ClusterCounts its rooms were handed.
type testNode struct {
	*Node
	local *actor.ActorSystem

	mu     sync.Mutex
	others map[string]int // room → last Others
}

func (tn *testNode) Receive(ctx actor.Context) {
	if cc, ok := ctx.Message().(*actors.ClusterCount); ok {
		tn.mu.Lock()
		tn.others[cc.Room] = cc.Others
		tn.mu.Unlock()
	}
}

func (tn *testNode) othersOf(room string) (int, bool) {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	n, ok := tn.others[room]
	return n, ok
}

// startNodes starts n nodes sharing one in-process membership agent.
func startNodes(t *testing.T, agent *test.InMemAgent, n int) []*testNode {
	t.Helper()
	var out []*testNode
	for range n {
		cfg := Config{Name: "t", Bind: "127.0.0.1:0", Etcd: []string{"http://in-process"},
			Refresh: 200 * time.Millisecond, HeartbeatExpiration: 10 * time.Second, FlushInterval: 10 * time.Millisecond}
		inProcess := func(context.Context, Config, string) (pcluster.ClusterProvider, string, string, error) {
			return test.NewTestProvider(agent, test.WithTestProviderServiceTtl(time.Hour), test.WithTestProviderRefreshTtl(time.Hour)), "", "in-process", nil
		}
		nd, err := newNode(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, func(ctx context.Context, c Config, id string) (pcluster.ClusterProvider, string, string, error) {
			p, _, name, err := inProcess(ctx, c, id)
			return p, id, name, err // the test provider names members by system id
		})
		if err != nil {
			t.Fatal(err)
		}
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		local := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }))
		tn := &testNode{Node: nd, local: local, others: make(map[string]int)}
		probe := tn.local.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return tn }))
		nd.Start(tn.local.Root, probe)
		out = append(out, tn)
	}
	for _, tn := range out {
		waitFor(t, 20*time.Second, func() (bool, string) { return tn.Ready(), tn.selfID + " has not joined" })
	}
	return out
}

// othersAre waits until every node's room shows total minus its own count.
func othersAre(t *testing.T, nodes []*testNode, room string, counts []int) {
	t.Helper()
	total := 0
	for _, c := range counts {
		total += c
	}
	waitFor(t, 20*time.Second, func() (bool, string) {
		for i, tn := range nodes {
			if got, ok := tn.othersOf(room); !ok || got != total-counts[i] {
				return false, fmt.Sprintf("node %d: others %d (told %v), want %d", i, got, ok, total-counts[i])
			}
		}
		return true, ""
	})
}

func TestPartialsAddUpAcrossNodes(t *testing.T) {
	nodes := startNodes(t, test.NewInMemAgent(), 3)
	counts := []int{3, 0, 5}
	for i, tn := range nodes {
		tn.LocalCount("lobby", 0, 0) // the Room is created
		tn.LocalCount("lobby", counts[i], uint64(i+1))
	}
	othersAre(t, nodes, "lobby", counts)

	// Absolute counts replace, whatever the order of changes.
	counts = []int{1, 7, 5}
	for i, tn := range nodes {
		tn.LocalCount("lobby", counts[i], 10)
	}
	othersAre(t, nodes, "lobby", counts)

	// A second room, on two nodes only, does not disturb the first.
	nodes[0].LocalCount("side", 0, 0)
	nodes[0].LocalCount("side", 2, 1)
	nodes[2].LocalCount("side", 0, 0)
	nodes[2].LocalCount("side", 4, 1)
	othersAre(t, []*testNode{nodes[0], nodes[2]}, "side", []int{2, 4})
	othersAre(t, nodes, "lobby", counts)
}

func TestADeadNodeStopsCounting(t *testing.T) {
	agent := test.NewInMemAgent()
	nodes := startNodes(t, agent, 3)
	counts := []int{2, 3, 4}
	for i, tn := range nodes {
		tn.LocalCount("r", 0, 0)
		tn.LocalCount("r", counts[i], 1)
	}
	othersAre(t, nodes, "r", counts)

	// The node's remote dies: the others' connections to it break and they
	// stop counting it at once, before the membership store notices.
	dead := nodes[1]
	dead.cl.Remote.Shutdown(false)
	waitFor(t, 20*time.Second, func() (bool, string) {
		for _, i := range []int{0, 2} {
			if got, _ := nodes[i].othersOf("r"); got != 6-counts[i] {
				return false, fmt.Sprintf("node %d others %d, want %d", i, got, 6-counts[i])
			}
		}
		return true, ""
	})
}
