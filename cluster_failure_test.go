package main

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"presence/internal/wstest"
)

// aggregatorHost returns the running node that hosts the aggregator of the
// (only) room, once exactly one does.
func aggregatorHost(t *testing.T, nodes []*node) *node {
	t.Helper()
	var host *node
	wstest.Eventually(t, 10*time.Second, func() (bool, string) {
		host = nil
		hosts := 0
		for _, n := range nodes {
			if n.alive() && n.gauge("presence_cluster_aggregators") > 0 {
				host = n
				hosts++
			}
		}
		return hosts == 1, fmt.Sprintf("%d nodes host an aggregator", hosts)
	})
	return host
}

// running returns the nodes still running.
func running(nodes []*node) []*node {
	var out []*node
	for _, n := range nodes {
		if n.alive() {
			out = append(out, n)
		}
	}
	return out
}

// checkNeverOvercounted fails if a member was ever shown more members than
// there were, or saw a seq that did not rise across its connections.
func checkNeverOvercounted(t *testing.T, c *crowd, total int) {
	t.Helper()
	if most, where := c.maxShown(); most > total {
		t.Fatalf("a member was shown %d (%s): more than the %d members there are, someone was counted twice", most, where, total)
	}
	for i, r := range c.members {
		if p := r.seqProblem(); p != "" {
			t.Fatalf("member %d: %s", i, p)
		}
	}
}

// TestClusterSIGKILL kills, with SIGKILL, first a node with members that
// does not host the room's aggregator, then the node that does. Each time
// every surviving member must converge on the exact total, the killed
// node's members reconnect to a survivor and are counted once (nobody is
// ever shown more than the members there are), and every member's seq keeps
// rising across its reconnections.
func TestClusterSIGKILL(t *testing.T) {
	// Not parallel: its nodes notice failures by timers (1 s pings, etcd leases) that parallel tests on two cores would stretch.
	_, _, nodes := startCluster(t, 4)
	alive := func() []*node { return running(nodes) }
	const perNode = 10
	total := len(nodes) * perNode
	members := spread(t, alive, "k", perNode)
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return members.converged(total) })

	host := aggregatorHost(t, nodes)
	var victim *node
	for _, n := range nodes {
		if n != host {
			victim = n
			break
		}
	}
	if len(members.on(victim.name)) == 0 {
		t.Fatalf("no member on %s", victim.name)
	}
	for _, target := range []*node{victim, host} {
		onTarget := members.on(target.name)
		target.kill9()
		t.Logf("killed %s (aggregator host: %v) with %d members", target.name, target == host, len(onTarget))
		wstest.Eventually(t, 30*time.Second, func() (bool, string) {
			if ok, why := members.converged(total); !ok {
				return false, why
			}
			for _, r := range onTarget {
				if _, at := r.current(); at == target.name {
					return false, "a member is still on the killed node"
				}
			}
			return allSeeMembers(running(nodes), len(running(nodes)))
		})
		checkNeverOvercounted(t, members, total)
	}
	newHost := aggregatorHost(t, nodes)
	if newHost == nil || !newHost.alive() {
		t.Fatal("no live node hosts the aggregator after its host died")
	}

	// The cluster series say what happened: two members left, each survivor
	// timed its corrections, and the new host activated the room's
	// aggregator and receives partials.
	for _, n := range running(nodes) {
		wstest.Eventually(t, 10*time.Second, func() (bool, string) {
			live, corrected := n.gauge("presence_cluster_members"), n.gauge("presence_cluster_loss_correction_seconds_count")
			return live == float64(len(running(nodes))) && corrected >= 1,
				fmt.Sprintf("%s: presence_cluster_members %v (want %d), loss_correction_seconds_count %v (want ≥ 1)", n.name, live, len(running(nodes)), corrected)
		})
	}
	if a := newHost.gauge("presence_cluster_aggregator_activations_total"); a < 1 {
		t.Fatalf("%s hosts the aggregator but counts %v activations", newHost.name, a)
	}
	if p := newHost.gauge("presence_cluster_partials_received_total"); p < 1 {
		t.Fatalf("%s hosts the aggregator but received %v partials", newHost.name, p)
	}
}

// TestClusterSIGSTOP freezes the node hosting the room's aggregator for
// longer than its etcd lease. The other nodes' members must converge on the
// total without the frozen node's members (whose sockets stay open but who
// cannot be counted); after SIGCONT the frozen node is either readmitted
// with exact totals or closes its members, who reconnect to another node:
// either way everyone converges on the exact total, and nobody is ever
// shown more members than there are.
func TestClusterSIGSTOP(t *testing.T) {
	// Not parallel: its nodes notice failures by timers (1 s pings, etcd leases) that parallel tests on two cores would stretch.
	_, _, nodes := startCluster(t, 3)
	alive := func() []*node { return running(nodes) }
	const perNode = 8
	total := len(nodes) * perNode
	members := spread(t, alive, "s", perNode)
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return members.converged(total) })

	frozen := aggregatorHost(t, nodes)
	frozenMembers := members.on(frozen.name)
	frozen.signal(syscall.SIGSTOP)
	stoppedAt := time.Now()
	t.Logf("stopped %s (the aggregator host) with %d members", frozen.name, len(frozenMembers))
	wstest.Eventually(t, 30*time.Second, func() (bool, string) {
		for i, r := range members.members {
			c, at := r.current()
			if at == frozen.name {
				continue
			}
			if last, ok := c.Last(); !ok || last.CurrentUsers != total-len(frozenMembers) {
				return false, fmt.Sprintf("member %d on %s shows %v, want %d", i, at, last.CurrentUsers, total-len(frozenMembers))
			}
		}
		return true, ""
	})
	t.Logf("the other nodes' members converged %s after SIGSTOP", time.Since(stoppedAt).Round(time.Millisecond))
	// Stay frozen past the etcd lease (3 s), so that the others remove it.
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return removedBy(nodes, frozen) })
	t.Logf("the others removed %s from the topology %s after SIGSTOP", frozen.name, time.Since(stoppedAt).Round(time.Millisecond))
	frozen.signal(syscall.SIGCONT)
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return members.converged(total) })
	if frozen.alive() {
		t.Logf("%s was readmitted after SIGCONT", frozen.name)
	} else {
		t.Logf("%s left after SIGCONT (%v); its members reconnected elsewhere", frozen.name, frozen.exitErr())
	}
	checkNeverOvercounted(t, members, total)
}

// removedBy reports whether every running node but gone has gone's member
// id as "left" in /api/cluster (its registration expired).
func removedBy(nodes []*node, gone *node) (bool, string) {
	for _, n := range running(nodes) {
		if n == gone {
			continue
		}
		v, err := n.clusterAPI()
		if err != nil {
			return false, err.Error()
		}
		for _, m := range v.Members {
			if m.ID == gone.member && m.Status != "left" {
				return false, fmt.Sprintf("%s still lists %s as %s", n.name, gone.name, m.Status)
			}
		}
	}
	return true, ""
}

// TestClusterEtcdOutage stops etcd while three nodes serve a room. Without
// etcd the rooms keep exact totals among the live nodes: members join and
// leave, and a node killed meanwhile is dropped by the others at once (the
// fast path needs no etcd). When etcd returns nothing breaks: the surviving
// nodes stay members (their leases are renewed), the killed node's lease
// finally expires, and a new node can join.
func TestClusterEtcdOutage(t *testing.T) {
	// Not parallel: its nodes notice failures by timers (1 s pings, etcd leases) that parallel tests on two cores would stretch.
	bin, etcd, nodes := startCluster(t, 3)
	alive := func() []*node { return running(nodes) }
	const perNode = 6
	members := spread(t, alive, "e", perNode)
	total := len(nodes) * perNode
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return members.converged(total) })

	etcd.stop()
	t.Log("etcd stopped")

	// Joins and leaves while etcd is down.
	joiners := spread(t, alive, "e", 2)
	peak := total + 2*len(nodes) // the most members there ever are
	total += 2 * len(nodes)
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return members.converged(total) })
	joiners.stop()
	total -= 2 * len(nodes)
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return members.converged(total) })

	// A node dies while etcd is down: the others drop it at once, its
	// members come back through the others.
	victim := nodes[len(nodes)-1]
	victim.kill9()
	wstest.Eventually(t, 30*time.Second, func() (bool, string) {
		if len(members.on(victim.name)) > 0 {
			return false, "members still on the killed node"
		}
		return members.converged(total)
	})
	checkNeverOvercounted(t, members, peak)

	etcd.start()
	t.Log("etcd back")
	// The dead node's registration expires once etcd runs again; the
	// survivors' are renewed and they stay members.
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return removedBy(nodes, victim) })
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return allSeeMembers(running(nodes), len(running(nodes))) })
	for _, n := range running(nodes) {
		if status, _ := n.server().get(t, "/readyz", nil); status != 200 {
			t.Fatalf("%s /readyz = %d after etcd came back", n.name, status)
		}
	}
	late := startNode(t, bin, "late", nodeOptions{cluster: "test", etcd: etcd.url})
	nodes = append(nodes, late)
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return allSeeMembers(running(nodes), len(running(nodes))) })
	c := late.server().dial(t, "e")
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return members.converged(total + 1) })
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow([]*wstest.Client{c}, total+1) })
	checkNeverOvercounted(t, members, peak)
}
