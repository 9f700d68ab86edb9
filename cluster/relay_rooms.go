package cluster

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"

	"presence/actors"
)

// relayRoom is the relay's state for one room this node has (or had, for a
// few refresh intervals) a Room for.
type relayRoom struct {
	name    string
	local   int       // this node's members, as Rooms last reported
	version uint64    // version of this node's partial
	seq     uint64    // highest seq this node's Room has shown
	zero    time.Time // since when local has been 0; zero while it is not (see retired)

	remote map[string]*Entry // the other origins' latest partials, by origin
	floor  uint64            // highest seq in the vectors
	knows  bool              // a vector has arrived: remote is kept current by pushes
	shown  int               // others last handed to the Room; -1 before the first

	ownerAddr  string     // the member that hosts the aggregator, by rendezvous
	agg        *actor.PID // the aggregator grain; nil until resolved
	resolving  int        // generation of the resolution in flight; 0 if none
	generation int        // last generation handed to a resolution
	resyncAt   time.Time  // last resync partial sent
	lastPush   time.Time  // last vector received
}

// resolveTimeout bounds one activation request to a placement actor.
const resolveTimeout = 2 * time.Second

// localCount takes this node's count of a room. A Room that was just created
// (or reaped) reports 0 users and seq 0 and is answered at once when the
// relay already knows the room's vector; otherwise the answer waits for the
// aggregator's first push.
func (r *relay) localCount(ctx actor.Context, msg *localCount) {
	rm := r.rooms[msg.room]
	if rm == nil {
		rm = &relayRoom{name: msg.room, remote: make(map[string]*Entry), shown: -1}
		rm.ownerAddr = r.owner(msg.room)
		r.rooms[msg.room] = rm
	}
	rm.seq = max(rm.seq, msg.seq)
	changed := msg.users != rm.local || rm.version == 0
	rm.local = msg.users
	if msg.users == 0 {
		if rm.zero.IsZero() {
			rm.zero = time.Now()
		}
	} else {
		rm.zero = time.Time{}
	}
	if changed {
		rm.version = r.nextVersion()
		r.sendPartial(ctx, rm, !rm.knows)
	}
	if msg.users == 0 && msg.seq == 0 && rm.knows {
		r.tell(rm, true) // a new Room waits for its first ClusterCount
	}
}

// nextVersion is a new partial version: above every earlier one of this
// node, and close to the wall clock in microseconds, so a re-created room
// still moves forward.
func (r *relay) nextVersion() uint64 {
	r.version = max(r.version+1, uint64(time.Now().UnixMicro()))
	return r.version
}

// sendPartial sends this node's partial of rm to its aggregator, resolving
// the aggregator first if needed (the partial goes once it is).
func (r *relay) sendPartial(ctx actor.Context, rm *relayRoom, resync bool) {
	if r.leaving {
		return
	}
	if rm.agg == nil {
		r.resolve(ctx, rm)
		return
	}
	p := &Partial{
		Room: rm.name, Origin: r.n.selfID, OriginAddress: r.n.sys.Address(),
		Count: int64(rm.local), Version: rm.version, Seq: rm.seq, Resync: resync,
	}
	if resync {
		p.Known = append(sortedKeys(rm.remote), r.n.selfID)
		rm.resyncAt = time.Now()
	}
	ctx.Send(rm.agg, p)
	r.n.obs.PartialSent(rm.agg.Address != r.n.sys.Address())
}

// resolve finds rm's aggregator: it asks the owner's disthash placement
// actor, which activates the grain if needed, with an asynchronous request.
// It never calls cluster.Get, whose disthash lookup waits up to 5 s in a
// hard-coded RequestFuture (disthash/manager.go:86) on the caller's
// goroutine, and whose partition manager swaps its rendezvous without a lock
// (manager.go:69). The owner is computed over the live members, so a room
// whose aggregator's host was just suspected moves at once, without waiting
// for the topology.
func (r *relay) resolve(ctx actor.Context, rm *relayRoom) {
	if rm.resolving != 0 || rm.ownerAddr == "" || r.leaving {
		return // in flight, or nobody to ask yet (a view change will)
	}
	rm.generation++
	gen := rm.generation
	rm.resolving = gen
	placement := actor.NewPID(rm.ownerAddr, disthash.PartitionActivatorActorName)
	req := &pcluster.ActivationRequest{ClusterIdentity: pcluster.NewClusterIdentity(rm.name, AggregatorKind)}
	f := ctx.RequestFuture(placement, req, resolveTimeout)
	ctx.ReenterAfter(f, func(res any, err error) {
		if r.rooms[rm.name] != rm || rm.resolving != gen {
			return // retired, or superseded by a newer resolution
		}
		rm.resolving = 0
		resp, ok := res.(*pcluster.ActivationResponse)
		if err != nil || !ok || resp.Pid == nil || resp.Failed {
			r.n.log.Debug("aggregator not resolved; retrying at the next refresh", "room", rm.name, "owner", rm.ownerAddr, "err", err)
			return
		}
		rm.agg = resp.Pid
		r.sendPartial(ctx, rm, true)
	})
}

// vector merges an aggregator's push: per origin, a higher version replaces
// what the relay holds; a missing origin changes nothing (a re-activated
// aggregator may not have heard from everyone yet, and the liveness view,
// not the vector, decides who counts). Origins it reports down are suspected
// here too, so that a node without a connection to a dead member learns of
// its death from the aggregator — unless this node has heard from them
// within the last refresh interval and a half: the aggregator may be the one
// cut off from them (a partial partition), and this node would otherwise
// suspect and readmit them with every vector.
func (r *relay) vector(ctx actor.Context, v *Vector) {
	r.n.obs.VectorReceived()
	rm := r.rooms[v.Room]
	if rm == nil {
		return
	}
	for _, e := range v.Entries {
		if e.Origin == r.n.selfID {
			continue // this node's own count is known here, exactly
		}
		if cur := rm.remote[e.Origin]; cur == nil || e.Version > cur.Version {
			rm.remote[e.Origin] = e
		}
	}
	now := time.Now()
	suspected := false
	recent := now.Add(-3 * r.n.cfg.Refresh / 2)
	for _, id := range v.Down {
		if !r.n.view.heardSince(id, recent) && r.n.view.suspect(id, now) {
			r.n.log.Info("an aggregator reports a member down: its partials no longer count until it answers a ping", "member", id, "room", v.Room)
			suspected = true
		}
	}
	rm.floor = max(rm.floor, v.Seq)
	rm.lastPush = now
	first := !rm.knows
	rm.knows = true
	if suspected {
		r.corrections = append(r.corrections, now)
		r.viewChanged(ctx)
		return
	}
	r.tell(rm, first)
}

// tell hands the Room its others (the sum of the live origins' latest
// counts, this node excluded) when that changed, or always with force.
func (r *relay) tell(rm *relayRoom, force bool) {
	if !rm.knows {
		return
	}
	others := 0
	for origin, e := range rm.remote {
		if r.n.view.live(origin) {
			others += int(e.Count)
		}
	}
	if !force && others == rm.shown {
		return
	}
	rm.shown = others
	r.n.toRooms(&actors.ClusterCount{Room: rm.name, Others: others, Seq: rm.floor})
}

// forgetGone drops the partials of members that left the topology or were
// blocked: they can never count again.
func (rm *relayRoom) forgetGone(v *view) {
	for origin := range rm.remote {
		if v.isBlocked(origin) {
			delete(rm.remote, origin)
		}
	}
}

// retired reports whether the room has had no member here for long enough
// that its zero partial has reached the aggregator and expired there.
func (rm *relayRoom) retired(now time.Time, refresh time.Duration) bool {
	return !rm.zero.IsZero() && now.Sub(rm.zero) > 3*refresh
}

// unanswered reports whether a resync was sent two refresh intervals ago
// with no vector since: the aggregator's PID is stale (it passivated, or its
// host removed it after a topology change this node has not seen).
func (rm *relayRoom) unanswered(now time.Time, refresh time.Duration) bool {
	return rm.resyncAt.After(rm.lastPush) && now.Sub(rm.resyncAt) > 2*refresh
}
