package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"presence/internal/wstest"
)

// The cluster tests run real processes: Debian's etcd-server (etcd 3.4, the
// version this repository's test.sh installs) on free ports with a temporary
// data dir, and the server binary as three to five nodes. Everything they
// start is stopped by t.Cleanup, also when a test fails.

// requireClusterTools skips (or, with PRESENCE_CLUSTER_TESTS=required as
// test.sh sets it, fails) when a tool the cluster tests need is missing.
func requireClusterTools(t *testing.T, tools ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts etcd and several server processes")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s is not installed (Debian: apt-get install %s); ./test.sh installs it", tool, map[string]string{"etcd": "etcd-server", "nft": "nftables", "ip": "iproute2"}[tool])
			if os.Getenv("PRESENCE_CLUSTER_TESTS") == "required" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// freePort returns a port nobody listens on at host right now.
func freePort(t *testing.T, host string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// etcdServer is one etcd member with a data dir of its own.
type etcdServer struct {
	t    *testing.T
	url  string // client URL
	args []string
	cmd  *exec.Cmd
	logs *syncBuffer
}

// startEtcd starts etcd with its client and peer URLs on host.
func startEtcd(t *testing.T, host string) *etcdServer {
	t.Helper()
	e := newEtcd(t, host)
	e.start()
	return e
}

// newEtcd is startEtcd without the start: its URL is known, nothing
// listens there until e.start.
func newEtcd(t *testing.T, host string) *etcdServer {
	t.Helper()
	client := "http://" + net.JoinHostPort(host, strconv.Itoa(freePort(t, host)))
	peer := "http://" + net.JoinHostPort(host, strconv.Itoa(freePort(t, host)))
	e := &etcdServer{t: t, url: client, logs: &syncBuffer{}, args: []string{
		"--name", "presence-test", "--data-dir", filepath.Join(t.TempDir(), "etcd"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "presence-test=" + peer,
	}}
	t.Cleanup(func() {
		e.stop()
		if t.Failed() {
			t.Logf("--- etcd's last lines:\n%s", e.logs.tail(30))
		}
	})
	return e
}

func (e *etcdServer) start() {
	e.t.Helper()
	e.cmd = exec.Command("etcd", e.args...)
	e.cmd.Stdout, e.cmd.Stderr = e.logs, e.logs
	if err := e.cmd.Start(); err != nil {
		e.t.Fatalf("start etcd: %v", err)
	}
	wstest.Eventually(e.t, 30*time.Second, func() (bool, string) {
		res, err := httpClient.Get(e.url + "/health")
		if err != nil {
			return false, "etcd not answering: " + err.Error()
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return bytes.Contains(body, []byte(`"health":"true"`)), "etcd /health: " + string(body)
	})
}

// stop stops etcd (SIGTERM) and waits for it; the data dir stays for restart.
func (e *etcdServer) stop() {
	if e.cmd == nil {
		return
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	_ = e.cmd.Wait()
	e.cmd = nil
}

// node is one server process in a cluster.
type node struct {
	t      *testing.T
	name   string
	p      *wstest.Process
	http   string // host:port of its HTTP server
	member string // its member id
}

// nodeOptions are the differences between the nodes of a test.
type nodeOptions struct {
	cluster   string   // --cluster
	httpHost  string   // host for --addr (port 0); default 127.0.0.1
	bind      string   // --cluster-bind; default 127.0.0.1:0
	advertise string   // --cluster-advertise
	etcd      string   // --etcd
	peers     string   // --cluster-peers
	netns     string   // run inside this network namespace
	extra     []string // more flags
}

// startNode starts the binary as a cluster node and waits until it has
// joined.
func startNode(t *testing.T, bin, name string, o nodeOptions) *node {
	t.Helper()
	n := launchNode(t, bin, name, o)
	n.awaitJoined()
	return n
}

// launchNode starts the binary as a cluster node (wstest.StartBinary, whose
// cleanup kills it) and returns once it serves HTTP, joined or not.
func launchNode(t *testing.T, bin, name string, o nodeOptions) *node {
	t.Helper()
	if o.httpHost == "" {
		o.httpHost = "127.0.0.1"
	}
	if o.bind == "" {
		o.bind = "127.0.0.1:0"
	}
	args := []string{"--addr", net.JoinHostPort(o.httpHost, "0"), "--log-format", "json",
		"--flush-interval", "20ms", "--ping-interval", "1s", "--pong-timeout", "1s", "--max-conns-per-ip", "0",
		"--cluster", o.cluster, "--cluster-bind", o.bind, "--cluster-refresh", "500ms"}
	if o.advertise != "" {
		args = append(args, "--cluster-advertise", o.advertise)
	}
	if o.etcd != "" {
		args = append(args, "--etcd", o.etcd)
	}
	if o.peers != "" {
		args = append(args, "--cluster-peers", o.peers)
	}
	args = append(args, o.extra...)
	if o.netns != "" { // ip execs the server in place: the same process id
		args = append([]string{"netns", "exec", o.netns, bin}, args...)
		bin = "ip"
	}
	p := wstest.StartBinary(t, bin, args...)
	n := &node{t: t, name: name, p: p, http: p.Addr}
	t.Logf("%s is process %d, serving on %s", name, p.Pid(), p.Addr)
	return n
}

// awaitJoined waits until the node has joined: its /api/cluster says so
// and names its member id.
func (n *node) awaitJoined() {
	n.t.Helper()
	wstest.Eventually(n.t, 40*time.Second, func() (bool, string) {
		if !n.alive() {
			n.t.Fatalf("%s exited before joining: %v\n%s", n.name, n.exitErr(), n.p.LogTail(30))
		}
		v, err := n.clusterAPI()
		if err != nil {
			return false, fmt.Sprintf("%s /api/cluster: %v", n.name, err)
		}
		n.member = v.Self
		return v.Joined && v.Self != "", fmt.Sprintf("%s has not joined: %+v\n%s", n.name, v, n.p.LogTail(30))
	})
}

// signal sends sig to the node if it still runs.
func (n *node) signal(sig syscall.Signal) {
	if n.alive() {
		_ = n.p.Signal(sig)
	}
}

// kill9 kills the node with SIGKILL and waits for it.
func (n *node) kill9() {
	n.signal(syscall.SIGKILL)
	_ = n.p.Wait(30 * time.Second)
}

func (n *node) alive() bool {
	select {
	case <-n.p.Done():
		return false
	default:
		return true
	}
}

// exitErr is how the node's process ended; only once it has (!alive).
func (n *node) exitErr() error { return n.p.Wait(0) }

// server is the node as a testServer, for the HTTP and WebSocket helpers.
func (n *node) server() *testServer {
	return &testServer{t: n.t, url: "http://" + n.http, wsURL: "ws://" + n.http}
}

// gauge reads one presence metric from the node.
func (n *node) gauge(sample string) float64 {
	v, _ := n.server().metric(n.t, sample)
	return v
}

// clusterView is /api/cluster.
type clusterView struct {
	Self    string `json:"self"`
	Joined  bool   `json:"joined"`
	Members []struct {
		ID, Address, Status string
	} `json:"members"`
}

func (n *node) clusterAPI() (clusterView, error) {
	var v clusterView
	res, err := httpClient.Get("http://" + n.http + "/api/cluster")
	if err != nil {
		return v, err
	}
	defer res.Body.Close()
	return v, json.NewDecoder(res.Body).Decode(&v)
}

// roamer is a member using client.js behind a load balancer: when its
// connection ends it waits client.js's first backoff (250–500 ms), then
// reconnects to the first node of its list that accepts (a killed node
// refuses, a draining one answers 503), as a load balancer would route it.
//
// The wait matters: the cluster notices a killed node within milliseconds,
// from its own connections to it; a client that came back sooner than that
// would be counted by its new node while the old node's partial still
// counted it, for one flush (docs/architecture.md §11).
type roamer struct {
	room  string
	local string // source address

	mu    sync.Mutex
	conns []*wstest.Client
	nodes []string // the node each connection went to
}

func (r *roamer) current() (*wstest.Client, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.conns) == 0 {
		return nil, ""
	}
	return r.conns[len(r.conns)-1], r.nodes[len(r.nodes)-1]
}

// run keeps the member connected until ctx ends, starting with nodes[0].
func (r *roamer) run(ctx context.Context, t *testing.T, nodes func() []*node, rng *rand.Rand) {
	for ctx.Err() == nil {
		var c *wstest.Client
		var at string
		for _, n := range nodes() {
			var err error
			if c, err = n.server().tryDial(t, r.room, wstest.Options{Local: r.local, NoCleanup: true, Name: n.name}); err == nil {
				at = n.name
				break
			}
		}
		if c == nil {
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		r.mu.Lock()
		r.conns = append(r.conns, c)
		r.nodes = append(r.nodes, at)
		r.mu.Unlock()
		select {
		case <-c.Done():
			select {
			case <-ctx.Done():
			case <-time.After(250*time.Millisecond + time.Duration(rng.Int64N(int64(250*time.Millisecond)))):
			}
		case <-ctx.Done():
			c.Kill()
		}
	}
}

// counts returns every count the member was shown, over all its connections.
func (r *roamer) counts() []wstest.Count {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []wstest.Count
	for _, c := range r.conns {
		out = append(out, c.Snapshot().Counts...)
	}
	return out
}

// seqProblem reports a seq that did not rise, within a connection or from
// one connection to the next (client.js keeps its last seq across
// reconnects and ignores a count whose seq is not above it).
func (r *roamer) seqProblem() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var last uint64
	for i, c := range r.conns {
		st := c.Snapshot()
		broken, counts := st.SeqProblem, st.Counts
		if broken != "" {
			return fmt.Sprintf("connection %d (to %s): %s", i, r.nodes[i], broken)
		}
		if len(counts) > 0 {
			if counts[0].Seq <= last {
				return fmt.Sprintf("connection %d (to %s) started at seq %d, after %d on the previous one", i, r.nodes[i], counts[0].Seq, last)
			}
			last = counts[len(counts)-1].Seq
		}
	}
	return ""
}

// crowd is a set of roamers and the goroutines that keep them connected.
type crowd struct {
	members []*roamer
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// spread connects perNode roamers to each node (in the order given), all in
// room, from loopback source addresses; each roams over the nodes from its own.
func spread(t *testing.T, nodes func() []*node, room string, perNode int) *crowd {
	return spreadFrom(t, nodes, room, perNode, []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"})
}

// spreadFrom is spread from the given source addresses ("" = the kernel's choice).
func spreadFrom(t *testing.T, nodes func() []*node, room string, perNode int, sources []string) *crowd {
	ctx, cancel := context.WithCancel(context.Background())
	c := &crowd{cancel: cancel}
	ns := nodes()
	for i := range len(ns) * perNode {
		r := &roamer{room: room, local: sources[i%len(sources)]}
		c.members = append(c.members, r)
		first := i % len(ns)
		order := func() []*node {
			all := nodes()
			return append(append([]*node(nil), all[first%len(all):]...), all[:first%len(all)]...)
		}
		rng := rand.New(rand.NewPCG(uint64(i), 10))
		c.wg.Go(func() { r.run(ctx, t, order, rng) })
	}
	t.Cleanup(c.stop)
	return c
}

func (c *crowd) stop() {
	c.cancel()
	c.wg.Wait()
}

// converged reports whether every member is connected and its last count is want.
func (c *crowd) converged(want int) (bool, string) {
	for i, r := range c.members {
		conn, at := r.current()
		if conn == nil || !conn.Open() {
			return false, fmt.Sprintf("member %d is not connected", i)
		}
		last, ok := conn.Last()
		if !ok {
			return false, fmt.Sprintf("member %d (on %s) has no count yet", i, at)
		}
		if last.CurrentUsers != want {
			return false, fmt.Sprintf("member %d (on %s) shows %d, want %d", i, at, last.CurrentUsers, want)
		}
	}
	return true, ""
}

// maxShown is the highest count any member was ever shown.
func (c *crowd) maxShown() (int, string) {
	most, where := 0, ""
	for i, r := range c.members {
		for _, ce := range r.counts() {
			if ce.CurrentUsers > most {
				most, where = ce.CurrentUsers, fmt.Sprintf("member %d at seq %d", i, ce.Seq)
			}
		}
	}
	return most, where
}

// on returns the members currently connected to the named node.
func (c *crowd) on(name string) []*roamer {
	var out []*roamer
	for _, r := range c.members {
		if _, at := r.current(); at == name {
			out = append(out, r)
		}
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// tail returns the last n lines.
func (s *syncBuffer) tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := strings.Split(strings.TrimRight(s.b.String(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
