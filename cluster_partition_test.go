package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"presence/internal/wstest"
)

// netnsLink is a network namespace joined to this one by a veth pair:
// host.1 here, host.2 in the namespace. Removed by t.Cleanup.
type netnsLink struct {
	name     string // the namespace, presence-i10-…
	hostIP   string // this side
	insideIP string // the namespace's side
}

// newNetns creates the namespace and the veth pair (needs root).
func newNetns(t *testing.T) *netnsLink {
	t.Helper()
	if os.Geteuid() != 0 {
		msg := "needs root for network namespaces"
		if os.Getenv("PRESENCE_CLUSTER_TESTS") == "required" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	requireClusterTools(t, "ip", "nft")
	tag := fmt.Sprintf("%d%03d", os.Getpid()%1000, rand.IntN(1000))
	subnet := 1 + rand.IntN(250)
	l := &netnsLink{
		name:     "presence-i10-" + tag,
		hostIP:   fmt.Sprintf("10.213.%d.1", subnet),
		insideIP: fmt.Sprintf("10.213.%d.2", subnet),
	}
	hostIf, nsIf := "pi10h"+tag, "pi10n"+tag
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", l.name).Run() // takes the veth pair and its nft tables with it
		_ = exec.Command("ip", "link", "del", hostIf).Run()
	})
	for _, args := range [][]string{
		{"netns", "add", l.name},
		{"link", "add", hostIf, "type", "veth", "peer", "name", nsIf},
		{"link", "set", nsIf, "netns", l.name},
		{"addr", "add", l.hostIP + "/30", "dev", hostIf},
		{"link", "set", hostIf, "up"},
		{"netns", "exec", l.name, "ip", "addr", "add", l.insideIP + "/30", "dev", nsIf},
		{"netns", "exec", l.name, "ip", "link", "set", nsIf, "up"},
		{"netns", "exec", l.name, "ip", "link", "set", "lo", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return l
}

// nft runs an nft script inside the namespace.
func (l *netnsLink) nft(t *testing.T, script string) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", l.name, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v: %s\n%s", err, out, script)
	}
}

// clusterPort is the port of a node's protoactor remote.
func clusterPort(t *testing.T, n *node) string {
	t.Helper()
	v, err := n.clusterAPI()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range v.Members {
		if m.ID == n.member {
			_, port, err := net.SplitHostPort(m.Address)
			if err != nil {
				t.Fatal(err)
			}
			return port
		}
	}
	t.Fatalf("%s does not list itself", n.name)
	return ""
}

// TestClusterPartition cuts one node (in a network namespace of its own)
// off from the two others with nftables drop rules on the cluster ports,
// while etcd and every client still reach everyone. Both sides must
// converge: the two nodes on the members they can see, the minority node on
// its own members only, and from then on it must never show a total that
// counts members it cannot see. When the rules go, the node answers pings
// again and everyone converges on the whole total.
func TestClusterPartition(t *testing.T) {
	// Not parallel: its nodes notice failures by timers (1 s pings, etcd leases) that parallel tests on two cores would stretch.
	link := newNetns(t)
	requireClusterTools(t, "etcd")
	bin := wstest.BuildBinary(t, ".")
	etcd := startEtcd(t, link.hostIP)
	opts := func(host string) nodeOptions {
		return nodeOptions{cluster: "part", etcd: etcd.url, bind: net.JoinHostPort(host, "0")}
	}
	a := startNode(t, bin, "a", opts(link.hostIP))
	b := startNode(t, bin, "b", opts(link.hostIP))
	co := opts(link.insideIP)
	co.httpHost, co.netns = link.insideIP, link.name
	c := startNode(t, bin, "c", co)
	nodes := []*node{a, b, c}
	wstest.Eventually(t, 20*time.Second, func() (bool, string) { return allSeeMembers(nodes, 3) })

	alive := func() []*node { return running(nodes) }
	const perNode = 6
	total := perNode * len(nodes)
	members := spreadFrom(t, alive, "p", perNode, []string{""})
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return members.converged(total) })

	pa, pb, pc := clusterPort(t, a), clusterPort(t, b), clusterPort(t, c)
	link.nft(t, fmt.Sprintf(`table inet presence-i10-partition {
	chain in { type filter hook input priority 0; policy accept; tcp sport { %[1]s, %[2]s } drop; tcp dport %[3]s drop; }
	chain out { type filter hook output priority 0; policy accept; tcp dport { %[1]s, %[2]s } drop; tcp sport %[3]s drop; }
}`, pa, pb, pc))
	cutAt := time.Now()
	t.Logf("partitioned c (cluster port %s) from a and b (%s, %s)", pc, pa, pb)

	onC, onAB := members.on("c"), append(members.on("a"), members.on("b")...)
	shows := func(rs []*roamer, want int) (bool, string) {
		for i, r := range rs {
			conn, at := r.current()
			if last, ok := conn.Last(); !ok || last.CurrentUsers != want {
				return false, fmt.Sprintf("member %d on %s shows %d, want %d", i, at, last.CurrentUsers, want)
			}
		}
		return true, ""
	}
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return shows(onC, len(onC)) })
	t.Logf("the minority side converged on its %d members %s after the cut", len(onC), time.Since(cutAt).Round(time.Millisecond))
	minoritySince := make([]int, len(onC))
	for i, r := range onC {
		minoritySince[i] = len(r.counts())
	}
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return shows(onAB, len(onAB)) })
	t.Logf("the majority side converged on its %d members %s after the cut", len(onAB), time.Since(cutAt).Round(time.Millisecond))

	// Members come and go on both sides while cut off: each side counts its own.
	var joinC, joinA []*wstest.Client
	for range 2 {
		joinC = append(joinC, c.server().dial(t, "p"))
	}
	for range 3 {
		joinA = append(joinA, a.server().dial(t, "p"))
	}
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return shows(onC, len(onC)+2) })
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return shows(onAB, len(onAB)+3) })
	for _, j := range append(joinC, joinA...) {
		j.CloseNormally()
	}
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return shows(onC, len(onC)) })
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return shows(onAB, len(onAB)) })

	// Every count the minority's members were shown from their convergence
	// until now, while still cut off, must count only the members it sees.
	checked := 0
	for i, r := range onC {
		for _, ce := range r.counts()[minoritySince[i]:] {
			checked++
			if ce.CurrentUsers > len(onC)+2 {
				t.Fatalf("cut off, the minority side showed %d; it can see at most %d members", ce.CurrentUsers, len(onC)+2)
			}
		}
	}
	if checked == 0 {
		t.Fatal("the minority side's members were shown no count while cut off")
	}
	t.Logf("%d counts shown on the minority side while cut off, none above the %d members it could see", checked, len(onC)+2)
	link.nft(t, "delete table inet presence-i10-partition")
	healedAt := time.Now()
	wstest.Eventually(t, 30*time.Second, func() (bool, string) { return members.converged(total) })
	t.Logf("healed: everyone converged on %d %s after the rules went (c %s)", total, time.Since(healedAt).Round(time.Millisecond),
		map[bool]string{true: "was readmitted", false: "left; its members reconnected elsewhere"}[c.alive()])
	checkNeverOvercounted(t, members, total)
}
