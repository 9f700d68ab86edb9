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
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"

	"presence/actors"
	"presence/internal/wstest"
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

// testConfig is the settings of an in-process test node.
func testConfig() Config {
	return Config{Name: "t", Bind: "127.0.0.1:0", Etcd: []string{"http://in-process"},
		Refresh: 200 * time.Millisecond, HeartbeatExpiration: 10 * time.Second, FlushInterval: 10 * time.Millisecond}
}

// startNodes starts n nodes sharing one in-process membership agent.
func startNodes(t *testing.T, agent *test.InMemAgent, n int) []*testNode {
	t.Helper()
	cfgs := make([]Config, n)
	for i := range cfgs {
		cfgs[i] = testConfig()
	}
	return startConfigured(t, agent, cfgs...)
}

// startConfigured starts a node per config, sharing one in-process
// membership agent.
func startConfigured(t *testing.T, agent *test.InMemAgent, cfgs ...Config) []*testNode {
	t.Helper()
	var out []*testNode
	for _, cfg := range cfgs {
		local, quiet := quietSystem()
		inProcess := func(_ context.Context, _ Config, id string) (pcluster.ClusterProvider, string, string, error) {
			// The test provider names members by system id.
			return test.NewTestProvider(agent, test.WithTestProviderServiceTtl(time.Hour), test.WithTestProviderRefreshTtl(time.Hour)), id, "in-process", nil
		}
		nd, err := newNode(cfg, quiet, nil, inProcess)
		if err != nil {
			t.Fatal(err)
		}
		tn := &testNode{Node: nd, local: local, others: make(map[string]int)}
		probe := tn.local.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return tn }))
		nd.Start(tn.local.Root, probe)
		out = append(out, tn)
	}
	for _, tn := range out {
		wstest.Eventually(t, 20*time.Second, func() (bool, string) { return tn.Ready(), tn.selfID + " has not joined" })
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
	wstest.Eventually(t, 20*time.Second, func() (bool, string) {
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
	wstest.Eventually(t, 20*time.Second, func() (bool, string) {
		for _, i := range []int{0, 2} {
			if got, _ := nodes[i].othersOf("r"); got != 6-counts[i] {
				return false, fmt.Sprintf("node %d others %d, want %d", i, got, 6-counts[i])
			}
		}
		return true, ""
	})
}

// apiCluster is the body of GET /api/cluster.
type apiCluster struct {
	Cluster string         `json:"cluster"`
	Self    string         `json:"self"`
	Address string         `json:"address"`
	Joined  bool           `json:"joined"`
	Members []MemberStatus `json:"members"`
}

func getAPICluster(t *testing.T, tn *testNode) apiCluster {
	t.Helper()
	rec := httptest.NewRecorder()
	tn.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/cluster", nil))
	var doc apiCluster
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET /api/cluster: %d %q: %v", rec.Code, rec.Body, err)
	}
	return doc
}

// freePort is a port in 20000–29999 that host can listen on now.
func freePort(t *testing.T, host string) string {
	t.Helper()
	for range 100 {
		port := strconv.Itoa(20000 + rand.IntN(10000))
		if ln, err := net.Listen("tcp", net.JoinHostPort(host, port)); err == nil {
			_ = ln.Close()
			return port
		}
	}
	t.Fatal("no free port in 20000–29999")
	return ""
}

// TestClusterAPIAddressesAndLastHeard: every node's /api/cluster gives each
// member's address as the other nodes reach it (its --cluster-bind, its
// --cluster-advertise when set, the port it got for port 0), its own
// address the same way, and a lastHeard for every other member that is
// recent and keeps moving with the pings.
func TestClusterAPIAddressesAndLastHeard(t *testing.T) {
	start := time.Now()
	bound, advertised, anyPort := testConfig(), testConfig(), testConfig()
	bound.Bind = net.JoinHostPort("127.0.0.1", freePort(t, "127.0.0.1"))
	port := freePort(t, "0.0.0.0")
	advertised.Bind, advertised.Advertise = net.JoinHostPort("0.0.0.0", port), net.JoinHostPort("127.0.0.1", port)
	nodes := startConfigured(t, test.NewInMemAgent(), bound, advertised, anyPort)

	addr := map[string]string{nodes[0].selfID: bound.Bind, nodes[1].selfID: advertised.Advertise}
	if got := nodes[2].sys.Address(); strings.HasSuffix(got, ":0") || !strings.HasPrefix(got, "127.0.0.1:") {
		t.Fatalf("a node bound to 127.0.0.1:0 has the address %q", got)
	} else {
		addr[nodes[2].selfID] = got
	}

	for i, tn := range nodes {
		// Every node pings every other once per refresh interval.
		var doc apiCluster
		wstest.Eventually(t, 20*time.Second, func() (bool, string) {
			doc = getAPICluster(t, tn)
			for _, m := range doc.Members {
				if !m.Self && m.LastHeard == nil {
					return false, fmt.Sprintf("node %d has not heard from %s", i, m.ID)
				}
			}
			return len(doc.Members) == len(nodes), fmt.Sprintf("node %d lists %d members", i, len(doc.Members))
		})
		if doc.Self != tn.selfID || !doc.Joined || doc.Address != addr[tn.selfID] {
			t.Errorf("node %d: self %q, joined %v, address %q; want %q, true, %q", i, doc.Self, doc.Joined, doc.Address, tn.selfID, addr[tn.selfID])
		}
		heard := make(map[string]time.Time)
		for _, m := range doc.Members {
			if m.Address != addr[m.ID] || m.Status != "alive" || m.Self != (m.ID == tn.selfID) {
				t.Errorf("node %d lists %+v; want address %q, alive, self %v", i, m, addr[m.ID], m.ID == tn.selfID)
			}
			if m.LastHeard != nil {
				if now := time.Now(); m.LastHeard.Before(start) || m.LastHeard.After(now) {
					t.Errorf("node %d: %s last heard at %s, not between the test's start %s and now %s", i, m.ID, m.LastHeard, start, now)
				}
				heard[m.ID] = *m.LastHeard
			}
		}
		// lastHeard is the last ping or pong, not the first.
		wstest.Eventually(t, 20*time.Second, func() (bool, string) {
			for _, m := range getAPICluster(t, tn).Members {
				if m.LastHeard != nil && !m.LastHeard.After(heard[m.ID]) {
					return false, fmt.Sprintf("node %d: %s still last heard at %s", i, m.ID, m.LastHeard)
				}
			}
			return true, ""
		})
	}
}
