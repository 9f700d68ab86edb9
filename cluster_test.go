package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"presence/internal/wstest"
)

// startCluster starts etcd and n nodes of one cluster on loopback.
func startCluster(t *testing.T, n int) (bin string, etcd *etcdServer, nodes []*node) {
	t.Helper()
	requireClusterTools(t, "etcd")
	bin = wstest.BuildBinary(t, ".")
	etcd = startEtcd(t, "127.0.0.1")
	var mu sync.Mutex
	nodes = make([]*node, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			nd := startNode(t, bin, "node"+strconv.Itoa(i), nodeOptions{cluster: "test", etcd: etcd.url})
			mu.Lock()
			nodes[i] = nd
			mu.Unlock()
		})
	}
	wg.Wait()
	wstest.Eventually(t, 20*time.Second, func() (bool, string) { return allSeeMembers(nodes, n) })
	return bin, etcd, nodes
}

// allSeeMembers reports whether every running node counts want live members.
func allSeeMembers(nodes []*node, want int) (bool, string) {
	for _, n := range nodes {
		if !n.alive() {
			continue
		}
		v, err := n.clusterAPI()
		if err != nil {
			return false, fmt.Sprintf("%s /api/cluster: %v", n.name, err)
		}
		alive := 0
		for _, m := range v.Members {
			if m.Status == "alive" {
				alive++
			}
		}
		if alive != want || !v.Joined {
			return false, fmt.Sprintf("%s sees %d alive members (joined %v), want %d: %+v", n.name, alive, v.Joined, want, v.Members)
		}
	}
	return true, ""
}

// TestClusterExactTotalsThroughJoinsAndLeaves runs four nodes with members on
// each and checks that every member reads the exact cluster-wide total, and
// /api/rooms the total and each node's share, through joins and every kind
// of leave on every node: close frames, TCP resets and silent peers (found
// by the server's pings). A second room lives on two nodes only.
func TestClusterExactTotalsThroughJoinsAndLeaves(t *testing.T) {
	// Not parallel: its nodes notice failures by timers (1 s pings, etcd leases) that parallel tests on two cores would stretch.
	_, _, nodes := startCluster(t, 4)
	all := func() []*node { return nodes }

	const stay, leavers = 10, 6
	members := spread(t, all, "c1", stay)
	var gone [][]*wstest.Client
	for i, n := range nodes {
		var cs []*wstest.Client
		for j := range leavers {
			cs = append(cs, n.server().dialWith(t, "c1", wstest.Options{Local: "127.0.0." + strconv.Itoa(2+(i+j)%5)}))
		}
		gone = append(gone, cs)
	}
	total := len(nodes) * (stay + leavers)
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return members.converged(total) })
	for i := range gone {
		wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(gone[i], total) })
	}

	// A room on two nodes only.
	var other []*wstest.Client
	for _, n := range []*node{nodes[0], nodes[3]} {
		for range 5 {
			other = append(other, n.server().dial(t, "c2"))
		}
	}
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(other, 10) })

	for _, n := range nodes {
		wstest.Eventually(t, 10*time.Second, func() (bool, string) {
			_, rooms := n.server().roomsAPI(t)
			return rooms["c1"] == total, fmt.Sprintf("%s /api/rooms c1 = %d, want %d", n.name, rooms["c1"], total)
		})
		share := onNode(t, n, "c1")
		if share != stay+leavers {
			t.Fatalf("%s /api/rooms thisNode = %d, want %d", n.name, share, stay+leavers)
		}
	}

	// Leave every way, on every node.
	var wg sync.WaitGroup
	for i, cs := range gone {
		for j, c := range cs {
			switch (i + j) % 3 {
			case 0:
				wg.Go(c.CloseNormally)
			case 1:
				wg.Go(c.Reset)
			case 2:
				c.GoSilent()
			}
		}
	}
	wg.Wait()
	want := len(nodes) * stay
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return members.converged(want) })
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(other, 10) })

	if most, where := members.maxShown(); most > total {
		t.Fatalf("a member was shown %d (%s), more than the %d members there ever were", most, where, total)
	}
	for i, r := range members.members {
		if p := r.seqProblem(); p != "" {
			t.Fatalf("member %d: %s", i, p)
		}
	}
}

// onNode is a room's thisNode in a node's /api/rooms.
func onNode(t *testing.T, n *node, room string) int {
	t.Helper()
	var body struct {
		Rooms []struct {
			Room     string `json:"room"`
			ThisNode *int   `json:"thisNode"`
		} `json:"rooms"`
	}
	res, err := httpClient.Get("http://" + n.http + "/api/rooms")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	for _, r := range body.Rooms {
		if r.Room == room {
			if r.ThisNode == nil {
				t.Fatalf("%s /api/rooms has no thisNode for %s", n.name, room)
			}
			return *r.ThisNode
		}
	}
	return 0
}

// TestClusterStaticPeers runs three nodes with --cluster-peers (protoactor's
// automanaged provider, no etcd): exact totals, and a killed node dropped.
func TestClusterStaticPeers(t *testing.T) {
	// Not parallel: its nodes notice failures by timers (1 s pings, etcd leases) that parallel tests on two cores would stretch.
	requireClusterTools(t)
	bin := wstest.BuildBinary(t, ".")
	var addrs []string
	for len(addrs) < 3 { // each node's cluster port p, with p+1 (its health check) free too
		p := freePort(t, "127.0.0.1")
		if ln, err := net.Listen("tcp", net.JoinHostPort("0.0.0.0", strconv.Itoa(p+1))); err == nil && p < 65535 {
			ln.Close()
			addrs = append(addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		}
	}
	peers := strings.Join(addrs, ",")
	var nodes []*node
	for i, addr := range addrs {
		nodes = append(nodes, startNode(t, bin, "peer"+strconv.Itoa(i), nodeOptions{cluster: "static", bind: addr, peers: peers}))
	}
	wstest.Eventually(t, 20*time.Second, func() (bool, string) { return allSeeMembers(nodes, 3) })
	alive := func() []*node { return running(nodes) }
	const perNode = 5
	total := perNode * len(nodes)
	members := spread(t, alive, "st", perNode)
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return members.converged(total) })

	nodes[1].kill9()
	wstest.Eventually(t, 30*time.Second, func() (bool, string) {
		if len(members.on(nodes[1].name)) > 0 {
			return false, "members still on the killed node"
		}
		return members.converged(total)
	})
	wstest.Eventually(t, 20*time.Second, func() (bool, string) { return allSeeMembers(running(nodes), 2) })
	checkNeverOvercounted(t, members, total)
}

// TestClusterNamesDoNotMix: two clusters whose names share a prefix, on one
// etcd, stay apart (protoactor's provider watches a prefix without a
// trailing slash; see cluster/provider.go).
func TestClusterNamesDoNotMix(t *testing.T) {
	// Not parallel: its nodes notice failures by timers (1 s pings, etcd leases) that parallel tests on two cores would stretch.
	requireClusterTools(t, "etcd")
	bin := wstest.BuildBinary(t, ".")
	etcd := startEtcd(t, "127.0.0.1")
	a := startNode(t, bin, "a", nodeOptions{cluster: "demo", etcd: etcd.url})
	b := startNode(t, bin, "b", nodeOptions{cluster: "demo2", etcd: etcd.url})
	c := startNode(t, bin, "c", nodeOptions{cluster: "demo", etcd: etcd.url})
	wstest.Eventually(t, 20*time.Second, func() (bool, string) { return allSeeMembers([]*node{a, c}, 2) })
	wstest.Eventually(t, 20*time.Second, func() (bool, string) { return allSeeMembers([]*node{b}, 1) })
	for _, n := range []*node{a, c} {
		v, err := n.clusterAPI()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range v.Members {
			if m.ID == b.member {
				t.Fatalf("%s (cluster demo) lists %s of cluster demo2", n.name, b.name)
			}
		}
	}
}

// TestClusterReadyOnceJoined: a node serves at once, but /readyz answers
// 503 and /api/cluster says it has not joined until it has: here until
// etcd, down when the node started, comes up. Meanwhile a joiner is shown
// the node's own count (the bounded wait for the cluster's first answer).
func TestClusterReadyOnceJoined(t *testing.T) {
	// Not parallel: its nodes notice failures by timers (1 s pings, etcd leases) that parallel tests on two cores would stretch.
	requireClusterTools(t, "etcd")
	bin := wstest.BuildBinary(t, ".")
	etcd := newEtcd(t, "127.0.0.1")
	n := launchNode(t, bin, "early", nodeOptions{cluster: "ready", etcd: etcd.url})
	if status, body := n.server().get(t, "/readyz", nil); status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz before joining = %d %q, want 503", status, body)
	}
	if v, err := n.clusterAPI(); err != nil || v.Joined {
		t.Fatalf("/api/cluster before joining: %+v, %v; want joined false", v, err)
	}
	c := n.server().dial(t, "r")
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow([]*wstest.Client{c}, 1) })

	etcd.start()
	n.awaitJoined()
	if status, body := n.server().get(t, "/readyz", nil); status != http.StatusOK {
		t.Fatalf("/readyz once joined = %d %q, want 200", status, body)
	}
	wstest.Eventually(t, 10*time.Second, func() (bool, string) {
		return n.gauge("presence_cluster_members") == 1, fmt.Sprintf("presence_cluster_members = %v, want 1", n.gauge("presence_cluster_members"))
	})
	if last, _ := c.Last(); last.CurrentUsers != 1 {
		t.Fatalf("the member was shown %d once the node joined, want 1", last.CurrentUsers)
	}
}

// TestBrowserClusterPages is the README's cluster quick start in a browser:
// pages on two nodes of a three-node cluster show one total, members of the
// third node are counted on both, and when that node is killed (kill -9)
// both pages drop them, then a page closed on one node is seen on the other.
func TestBrowserClusterPages(t *testing.T) {
	// Not parallel: its nodes notice failures by timers (1 s pings, etcd leases) that parallel tests on two cores would stretch.
	needBrowser(t)
	_, _, nodes := startCluster(t, 3)

	a := openPage(t, "node0", nodes[0].server().url+"/?room=demo")
	b := openPage(t, "node1", nodes[1].server().url+"/?room=demo")
	a.waitCount(2)
	b.waitCount(2)

	for range 3 {
		nodes[2].server().dial(t, "demo")
	}
	a.waitCount(5)
	b.waitCount(5)

	nodes[2].kill9()
	a.waitCount(2)
	b.waitCount(2)

	b.close()
	a.waitCount(1)
}
