package cluster

import (
	"maps"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
)

// relay is this node's end of every room: one actor per node, named
// relayName in the cluster's actor system. It
//
//   - sends this node's partial of each room to the room's Aggregator grain
//     (found by rendezvous over the members this node counts as live, and
//     activated through protoactor's disthash placement actor, without its
//     blocking lookup: see resolve), when the count changes, on every change
//     of the live set (resync) and once per refresh interval;
//   - merges the vectors the aggregators push back, per origin, by version;
//   - computes each room's others (the sum of the live origins' counts other
//     than this node) and hands them to the local Room as ClusterCount;
//   - pings every member once per refresh interval, and a suspect at once,
//     to clear suspicions and to learn that the cluster has blocked this
//     node (Expelled).
//
// All its state is touched only in Receive. It reads the shared view.
type relay struct {
	n     *Node
	rooms map[string]*relayRoom
	rdv   *pcluster.Rendezvous // owners, over the live members

	version     uint64               // last partial version handed out
	expelledBy  map[string]time.Time // members that told us they blocked us, and when we last heard it
	corrections []time.Time          // losses noticed and not yet reflected in the rooms' totals
	leaving     bool
	tick        *time.Timer
}

func newRelay(n *Node) *relay {
	return &relay{
		n:          n,
		rooms:      make(map[string]*relayRoom),
		rdv:        pcluster.NewRendezvous(),
		expelledBy: make(map[string]time.Time),
	}
}

var relayTickMsg = &relayTick{}

// Receive handles one message.
func (r *relay) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		r.scheduleTick(ctx)
	case *actor.Stopping:
		if r.tick != nil {
			r.tick.Stop()
		}

	case *localCount:
		r.localCount(ctx, msg)
	case *Vector:
		r.vector(ctx, msg)
	case *viewChanged:
		if !msg.suspectedAt.IsZero() {
			r.corrections = append(r.corrections, msg.suspectedAt)
		}
		r.viewChanged(ctx)
	case *relayTick:
		r.refresh(ctx)
		r.scheduleTick(ctx)

	case *Ping:
		r.ping(ctx, msg)
	case *Pong:
		if !msg.KnowsYou {
			r.n.missedBy(msg.From)
		}
		if r.n.view.heard(msg.From, time.Unix(0, msg.Nonce), time.Now()) {
			r.n.log.Info("member answered after a suspicion: its partials count again", "member", msg.From)
			r.viewChanged(ctx)
		}
	case *Expelled:
		r.expelled(msg)
	case *Leaving:
		if r.n.view.suspect(msg.From, time.Now()) {
			r.n.log.Info("member leaves the cluster", "member", msg.From)
			r.viewChanged(ctx)
		}
	case *leaveNow:
		r.leave(ctx)
		ctx.Respond(&leaveDone{})
	}
}

func (r *relay) scheduleTick(ctx actor.Context) {
	root, self := ctx.ActorSystem().Root, ctx.Self()
	r.tick = time.AfterFunc(r.n.cfg.Refresh, func() { root.Send(self, relayTickMsg) })
}

// viewChanged follows a change of the live set: every room's owner is
// recomputed (a room whose owner changed is resolved again), every partial is
// re-sent with resync ("nodes re-send all their partials on every topology
// change"), and every room's others recomputed without the members that
// are no longer live.
func (r *relay) viewChanged(ctx actor.Context) {
	r.pollBlocked()
	r.rdv.UpdateMembers(r.n.view.liveMembers())
	r.n.obs.MembersLive(r.n.view.liveCount())
	for _, rm := range r.rooms {
		rm.forgetGone(r.n.view)
		if owner := r.owner(rm.name); owner != rm.ownerAddr {
			rm.ownerAddr, rm.agg, rm.resolving = owner, nil, 0 // abandon a request to the old owner
			r.resolve(ctx, rm)
		} else {
			r.sendPartial(ctx, rm, true)
		}
		r.tell(rm, false)
	}
	now := time.Now()
	for _, t := range r.corrections {
		r.n.obs.Corrected(now.Sub(t))
	}
	r.corrections = r.corrections[:0]
	for id, addr := range r.n.view.suspects() {
		r.sendPing(ctx, id, addr) // prove yourself
	}
}

// owner is the address of the member that hosts room's aggregator, by
// rendezvous hashing over the live members: the same function disthash uses
// over the topology, so both agree whenever nobody is suspected.
func (r *relay) owner(room string) string {
	return r.rdv.GetByClusterIdentity(pcluster.NewClusterIdentity(room, AggregatorKind))
}

// refresh runs once per refresh interval: re-send every partial (a
// re-activated aggregator rebuilds from them), retire rooms that have had no
// member here for a while, re-resolve aggregators that stopped answering,
// and ping every member.
func (r *relay) refresh(ctx actor.Context) {
	if r.leaving {
		return
	}
	if r.pollBlocked() {
		r.viewChanged(ctx)
	}
	now := time.Now()
	for name, rm := range r.rooms {
		if rm.retired(now, r.n.cfg.Refresh) {
			delete(r.rooms, name)
			continue
		}
		switch {
		case rm.agg == nil:
			r.resolve(ctx, rm)
		case rm.unanswered(now, r.n.cfg.Refresh):
			rm.agg = nil // the aggregator went away unnoticed: find it again
			r.resolve(ctx, rm)
		default:
			r.sendPartial(ctx, rm, !rm.knows || now.Sub(rm.lastPush) > 3*r.n.cfg.Refresh)
		}
	}
	for id, addr := range r.n.view.others() {
		r.sendPing(ctx, id, addr)
	}
}

// pollBlocked copies protoactor's blocklist into the view (it publishes no
// event when it blocks), and reports whether that changed anything.
func (r *relay) pollBlocked() bool {
	bl := r.n.cl.Remote.BlockList()
	if bl.Len() == 0 {
		return r.n.view.setBlocked(map[string]bool{})
	}
	blocked := make(map[string]bool)
	for id := range r.n.view.others() {
		if bl.IsBlocked(id) {
			blocked[id] = true
		}
	}
	return r.n.view.setBlocked(blocked)
}

func (r *relay) sendPing(ctx actor.Context, id, addr string) {
	ctx.Send(actor.NewPID(addr, relayName), &Ping{From: r.n.selfID, FromAddress: r.n.sys.Address(), Nonce: time.Now().UnixNano()})
}

// ping answers a Ping: Pong, or Expelled when this node has blocked the
// sender (protoactor delivers a blocked member's messages anyway, and never
// tells it it is blocked: endpoint_reader.go:216, endpoint_writer.go:121).
func (r *relay) ping(ctx actor.Context, msg *Ping) {
	to := actor.NewPID(msg.FromAddress, relayName)
	if r.n.view.isBlocked(msg.From) {
		ctx.Send(to, &Expelled{From: r.n.selfID, Live: int32(r.n.view.liveCount())})
		return
	}
	r.n.view.heard(msg.From, time.Time{}, time.Now())
	ctx.Send(to, &Pong{From: r.n.selfID, Nonce: msg.Nonce, KnowsYou: r.n.view.knows(msg.From)})
}

// expelled decides what a member's "I have blocked you" means. A member this
// node still counts has removed it: it must leave. If this node has removed
// that member too (a partition has healed, each side having blocked the
// other), the smaller side leaves; on a tie, the higher id.
func (r *relay) expelled(msg *Expelled) {
	mine := r.n.view.liveCount()
	theirs := int(msg.Live)
	mutual := !r.n.view.live(msg.From)
	if mutual && (mine > theirs || (mine == theirs && r.n.selfID < msg.From)) {
		if time.Since(r.expelledBy[msg.From]) > 10*r.n.cfg.Refresh {
			r.n.log.Info("a member that this node removed has removed it too; the smaller side leaves, which is the other", "member", msg.From, "theirLive", theirs, "ourLive", mine)
		}
		r.expelledBy[msg.From] = time.Now()
		return
	}
	why := "this node was unreachable for too long"
	if mutual {
		why = "after a partition both sides removed each other and this side is smaller"
	}
	r.n.expel("member " + msg.From + " has removed this node from the cluster (" + why + ")")
}

// leave tells every member this node is leaving, and stops refreshing.
func (r *relay) leave(ctx actor.Context) {
	r.leaving = true
	for _, addr := range r.n.view.others() {
		ctx.Send(actor.NewPID(addr, relayName), &Leaving{From: r.n.selfID})
	}
}

// sortedKeys returns m's keys in order (for deterministic messages).
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
