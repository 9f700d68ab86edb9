package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"

	"presence/actors"
	"presence/internal/quietlog"
)

// Node is this process's membership in a presence cluster, and the
// actors.Cluster the rooms report to. It runs protoactor's cluster (remote,
// gossip, the membership provider, the disthash placement of grains) in an
// actor system of its own, next to the rooms' system, which never becomes
// remote (see doc.go for why two systems).
//
// Lifecycle: New checks the settings and the addresses; Start joins in the
// background (the provider blocks until etcd answers), Ready turns true once
// joined; Leave tells the others and deregisters; Expelled is closed when the
// node finds the cluster has removed it, and Fatal receives a failure to join.
//
// Concurrency: every method is safe for concurrent use. LocalCount is called
// from the rooms' Rooms actor; the event-stream handlers run on protoactor's
// goroutines and only update the view and post to the relay.
type Node struct {
	cfg      Config
	log      *slog.Logger
	obs      Observer
	selfID   string // this node's member id in the topology
	provider string // "etcd" or "peers", for /api/cluster

	sys      *actor.ActorSystem // the cluster's actor system
	cl       *pcluster.Cluster
	prov     pcluster.ClusterProvider
	view     *view
	announce *announcer
	cancel   context.CancelFunc // ends the etcd client's background work

	local *actor.RootContext // the rooms' actor system, and its Rooms
	rooms *actor.PID

	mu      sync.Mutex
	relay   *actor.PID            // nil until joined
	pending map[string]localCount // counts reported before the relay ran

	joined   atomic.Bool
	leaving  atomic.Bool
	fatal    chan error
	expelled chan struct{}
	expelMu  sync.Mutex
	expelWhy string
}

// AggregatorKind is the cluster kind of the per-room aggregator grain; its
// identity is the room name.
const AggregatorKind = "presence-room"

// relayName is the name of every node's relay actor, so that a node can
// address another's relay from its address alone.
const relayName = "presence-relay"

// New checks cfg, checks that this node can listen where it must, and
// prepares protoactor's cluster without touching the network. obs may be nil.
func New(cfg Config, log *slog.Logger, obs Observer) (*Node, error) {
	return newNode(cfg, log, obs, newProvider)
}

// providerFunc builds the membership provider (tests use protoactor's
// in-process one) and says this node's member id and the provider's name.
type providerFunc func(ctx context.Context, cfg Config, systemID string) (pcluster.ClusterProvider, string, string, error)

func newNode(cfg Config, log *slog.Logger, obs Observer, provider providerFunc) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = actors.DefaultFlushInterval
	}
	if obs == nil {
		obs = nopObserver{}
	}
	// protoactor panics on a failed listen, on a goroutine, after this
	// process has started serving: find out now instead.
	if err := checkListen(cfg.Bind); err != nil {
		return nil, fmt.Errorf("--cluster-bind: %w", err)
	}
	if len(cfg.Peers) > 0 {
		if err := checkListen(healthAddr(cfg)); err != nil {
			return nil, fmt.Errorf("--cluster-peers: the static provider's health check: %w", err)
		}
	}

	quiet := quietlog.For(log, "protoactor-cluster")
	sys := actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }),
		actor.WithDeadLetterRequestLogging(false),
	)
	ctx, cancel := context.WithCancel(context.Background())
	prov, selfID, name, err := provider(ctx, cfg, sys.ID)
	if err != nil {
		cancel()
		return nil, err
	}
	announce, err := newAnnouncer(ctx, cfg, selfID)
	if err != nil {
		cancel()
		return nil, err
	}
	n := &Node{
		cfg: cfg, log: log, obs: obs, selfID: selfID, provider: name, announce: announce,
		sys: sys, prov: prov, view: newView(selfID), cancel: cancel,
		pending:  make(map[string]localCount),
		fatal:    make(chan error, 1),
		expelled: make(chan struct{}),
	}
	host, port, _ := splitAddr(cfg.Bind)
	kind := pcluster.NewKind(AggregatorKind, actor.PropsFromProducer(func() actor.Actor { return newAggregator(n) }))
	n.cl = pcluster.New(sys, pcluster.Configure(cfg.Name, prov, disthash.New(),
		remote.Configure(host, port, remoteOptions(cfg)...),
		pcluster.WithKinds(kind),
		pcluster.WithHeartbeatExpiration(cfg.HeartbeatExpiration),
	))
	sys.EventStream.Subscribe(n.onEvent)
	return n, nil
}

// Start joins the cluster in the background. Counts reported before the
// node has joined are kept and sent once it has; ClusterCount goes to rooms
// through local.
func (n *Node) Start(local *actor.RootContext, rooms *actor.PID) {
	n.local, n.rooms = local, rooms
	go n.join()
}

func (n *Node) join() {
	defer func() {
		if p := recover(); p != nil {
			n.fatal <- fmt.Errorf("join cluster %q: %v", n.cfg.Name, p)
		}
	}()
	n.log.Info("joining the cluster", "cluster", n.cfg.Name, "address", n.cfg.advertised(), "membership", n.provider)
	stopNagging := n.nagWhileJoining()
	n.cl.StartMember() // returns once the provider has registered this node
	stopNagging()

	pid, err := n.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return newRelay(n) }), relayName)
	if err != nil {
		panic(fmt.Sprintf("spawn the relay: %v", err))
	}
	n.mu.Lock()
	n.relay = pid
	for _, c := range n.pending {
		n.sys.Root.Send(pid, &c)
	}
	n.pending = nil
	n.mu.Unlock()
	n.sys.Root.Send(pid, &viewChanged{})
	n.joined.Store(true)
	n.log.Info("joined the cluster", "cluster", n.cfg.Name, "member", n.selfID, "address", n.sys.Address())
}

// nagWhileJoining logs every few seconds while the provider has not let
// this node in (etcd unreachable, or no peer answering), until stopped.
func (n *Node) nagWhileJoining() (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				n.log.Warn("still joining the cluster: is the membership store reachable?", "etcd", n.cfg.Etcd, "peers", n.cfg.Peers)
			}
		}
	}()
	return func() { close(done) }
}

// LocalCount implements actors.Cluster: it hands this node's count of a
// room to the relay, or keeps it until the relay runs.
func (n *Node) LocalCount(room string, users int, seq uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.relay == nil {
		if n.pending != nil {
			n.pending[room] = localCount{room: room, users: users, seq: seq}
		}
		return
	}
	n.sys.Root.Send(n.relay, &localCount{room: room, users: users, seq: seq})
}

// toRelay posts msg to the relay once it runs.
func (n *Node) toRelay(msg any) {
	n.mu.Lock()
	relay := n.relay
	n.mu.Unlock()
	if relay != nil {
		n.sys.Root.Send(relay, msg)
	}
}

// toRooms hands a ClusterCount to the rooms' actor system.
func (n *Node) toRooms(msg *actors.ClusterCount) {
	n.local.Send(n.rooms, msg)
}

// onEvent keeps the view current from protoactor's event stream. It runs on
// the publisher's goroutine (the provider's, a remote endpoint's), sometimes
// under protoactor's own locks: it only updates the view and posts.
func (n *Node) onEvent(ev any) {
	now := time.Now()
	switch e := ev.(type) {
	case *pcluster.ClusterTopology:
		selfRemoved, left := n.view.setTopology(e.Members, now)
		if len(left) > 0 {
			n.log.Info("members left the cluster", "members", left)
		}
		if selfRemoved && !n.leaving.Load() {
			n.expel("this node is no longer in the cluster topology: its registration expired (frozen or cut off from the membership store for longer than its lease) or the others removed it")
		}
		n.toRelay(&viewChanged{})
	case *remote.EndpointTerminatedEvent:
		if ids := n.view.suspectAddress(e.Address, now); len(ids) > 0 {
			n.log.Info("member unreachable: its partials no longer count until it answers a ping", "members", ids, "address", e.Address)
			n.toRelay(&viewChanged{suspectedAt: now})
		}
	}
}

// Ready reports whether this node has joined and is neither leaving nor
// removed: /readyz answers 503 until then.
func (n *Node) Ready() bool {
	select {
	case <-n.expelled:
		return false
	default:
	}
	return n.joined.Load() && !n.leaving.Load()
}

// Fatal receives the error that stopped this node from joining.
func (n *Node) Fatal() <-chan error { return n.fatal }

// Expelled is closed once this node has found that the cluster removed it;
// ExpelReason says how. The process should shut down (closing its sockets,
// whose clients reconnect to other nodes) and be restarted by its
// supervisor, with a new member id: protoactor never readmits an id.
func (n *Node) Expelled() <-chan struct{} { return n.expelled }

// ExpelReason says why Expelled was closed.
func (n *Node) ExpelReason() string {
	n.expelMu.Lock()
	defer n.expelMu.Unlock()
	return n.expelWhy
}

func (n *Node) expel(why string) {
	n.expelMu.Lock()
	defer n.expelMu.Unlock()
	if n.expelWhy != "" {
		return
	}
	n.expelWhy = why
	close(n.expelled)
	n.obs.Expelled()
	n.log.Error("removed from the cluster", "why", why)
}

// Leave tells every member that this node is leaving (they drop its
// partials at once), deregisters it from the membership store and stops
// protoactor's cluster, within ctx. Idempotent.
func (n *Node) Leave(ctx context.Context) {
	if !n.leaving.CompareAndSwap(false, true) {
		return
	}
	defer n.cancel()
	defer n.announce.close()
	if !n.joined.Load() {
		return // still waiting for the provider: nobody counts this node
	}
	n.mu.Lock()
	relay := n.relay
	n.mu.Unlock()
	if err := n.sys.Root.RequestFuture(relay, &leaveNow{}, time.Second).Wait(); err != nil {
		n.log.Warn("telling the members this node leaves", "err", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := n.prov.Shutdown(true); err != nil {
			n.log.Warn("deregistering from the membership store", "err", err)
		}
		n.cl.Shutdown(false) // graceful would sleep 2 s and wait up to 10 s for gRPC
	}()
	select {
	case <-done:
	case <-ctx.Done():
		n.log.Warn("leaving the cluster took too long", "err", ctx.Err())
	}
}

// missedBy handles a Pong that says the member peer does not have this node
// in its topology: its provider missed this node's registration (see
// announcer), so this node registers again.
func (n *Node) missedBy(peer string) {
	n.announce.reannounce(func(err error) {
		if err != nil {
			n.log.Warn("re-announcing this node to a member that missed it", "member", peer, "err", err)
			return
		}
		n.log.Info("re-announced this node: a member's etcd provider had missed its registration", "member", peer)
	})
}

// checkListen reports whether addr can be listened on now.
func checkListen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			return op.Err
		}
		return err
	}
	return ln.Close()
}
