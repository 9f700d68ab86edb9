package cluster

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
)

// Aggregator is the grain (kind AggregatorKind, identity the room name) that
// joins one room's partials: every node reports its absolute count with its
// own version, the aggregator keeps the newest per origin (replace, never
// add) and pushes the whole vector back to every node that reported,
// coalesced: at most one Vector per node per flush interval, however fast
// people come and go. Each node sums the vector with its own view of who is
// alive (see relay.tell), so the fan-out to sockets stays local.
//
// Its state is soft. A node re-sends its partials on every change of its
// live set and once per refresh interval, so an aggregator re-activated
// elsewhere (its host died) rebuilds within one interval; until it holds a
// partial from every live origin its reporters know of, or one interval has
// passed, it publishes nothing (complete), and it publishes as soon as it
// does. Partials nobody refreshes expire; an aggregator with none
// passivates.
//
// Two activations can exist while members disagree on the topology (each
// side's rendezvous picks a different owner). They cannot double count:
// vectors carry partials per origin with the origin's version, and every
// node merges them per origin, so the same origin's members are counted
// once whichever aggregator a vector came from.
//
// State is touched only in Receive; the view is shared and locked.
type Aggregator struct {
	n    *Node
	room string

	entries  map[string]*aggEntry // by origin
	known    map[string]bool      // origins some reporter holds a partial of
	wantFull map[string]bool      // origins that asked for the whole vector (resync)
	changed  bool                 // an entry changed since the last push
	expelled map[string]time.Time // blocked origins told so, and when

	activated time.Time
	rebuilt   bool // the first push has happened
	timer     *time.Timer
	timerMsg  *aggregatorFlush // what timer sends; a flush from a stopped timer is ignored
	lastFlush time.Time
	idleSince time.Time
	tick      *time.Timer
}

type aggEntry struct {
	Count   int64
	Version uint64
	seq     uint64
	address string    // the origin's relay
	heard   time.Time // last partial from it
}

// Timings of the soft state, in refresh intervals.
const (
	entryTTL  = 4  // a partial nobody refreshed for this long expires
	idleAfter = 30 // an aggregator without partials for this long passivates
)

func newAggregator(n *Node) actor.Actor {
	return &Aggregator{
		n:        n,
		entries:  make(map[string]*aggEntry),
		known:    make(map[string]bool),
		wantFull: make(map[string]bool),
		expelled: make(map[string]time.Time),
	}
}

var aggregatorTickMsg = &aggregatorTick{}

// Receive handles one message.
func (a *Aggregator) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.activated, a.idleSince = time.Now(), time.Now()
		a.n.obs.AggregatorActivated()
		a.scheduleTick(ctx)
	case *pcluster.ClusterInit:
		a.room = msg.Identity.Identity
	case *Partial:
		a.partial(ctx, msg)
	case *aggregatorFlush:
		if msg != a.timerMsg {
			return // from a timer stopped after it fired
		}
		a.timer, a.timerMsg = nil, nil
		a.flush(ctx)
	case *aggregatorTick:
		a.housekeep(ctx)
		a.scheduleTick(ctx)
	case *actor.Stopping:
		if a.timer != nil {
			a.timer.Stop()
		}
		if a.tick != nil {
			a.tick.Stop()
		}
	case *actor.Stopped:
		a.n.obs.AggregatorStopped()
	}
}

// partial takes one node's count, if it is newer than what is held.
func (a *Aggregator) partial(ctx actor.Context, p *Partial) {
	a.n.obs.PartialReceived()
	now := time.Now()
	if a.room == "" {
		a.room = p.Room
	}
	if a.n.view.isBlocked(p.Origin) {
		// protoactor delivers a blocked member's messages; tell it instead.
		if now.Sub(a.expelled[p.Origin]) > a.n.cfg.Refresh {
			a.expelled[p.Origin] = now
			ctx.Send(actor.NewPID(p.OriginAddress, relayName), &Expelled{From: a.n.selfID, Live: int32(a.n.view.liveCount())})
		}
		return
	}
	e := a.entries[p.Origin]
	if e == nil {
		e = &aggEntry{}
		a.entries[p.Origin] = e
	}
	if e.Version == 0 || p.Version > e.Version {
		a.changed = a.changed || e.Count != p.Count || e.Version == 0
		e.Count, e.Version, e.seq = p.Count, p.Version, p.Seq
	}
	e.address, e.heard = p.OriginAddress, now
	a.known[p.Origin] = true
	if p.Resync {
		a.wantFull[p.Origin] = true
		for _, id := range p.Known {
			a.known[id] = true
		}
	}
	if !a.rebuilt && a.timer != nil && a.complete() {
		// The rebuild is complete before its deadline: publish now.
		a.timer.Stop()
		a.timer, a.timerMsg = nil, nil
	}
	if a.changed || p.Resync {
		a.schedule(ctx)
	}
}

// schedule arranges a push: at once if the last was an interval ago, else
// when the interval ends.
func (a *Aggregator) schedule(ctx actor.Context) {
	if a.timer != nil {
		return
	}
	wait := a.n.cfg.FlushInterval - time.Since(a.lastFlush)
	if wait <= 0 {
		a.flush(ctx)
		return
	}
	a.flushIn(ctx, wait)
}

// flushIn arranges a flush after d.
func (a *Aggregator) flushIn(ctx actor.Context, d time.Duration) {
	root, self, msg := ctx.ActorSystem().Root, ctx.Self(), &aggregatorFlush{}
	a.timer, a.timerMsg = time.AfterFunc(d, func() { root.Send(self, msg) }), msg
}

// flush pushes the vector: to every reporting node when an entry changed,
// else to those that asked for it. A new activation first waits for its
// rebuild (see complete).
func (a *Aggregator) flush(ctx actor.Context) {
	if !a.rebuilt {
		if !a.complete() && time.Since(a.activated) < a.n.cfg.Refresh {
			a.flushIn(ctx, time.Until(a.activated.Add(a.n.cfg.Refresh)))
			return
		}
		a.rebuilt, a.changed = true, true
	}
	if !a.changed && len(a.wantFull) == 0 {
		return
	}
	v := &Vector{Room: a.room, From: a.n.selfID}
	for origin, e := range a.entries {
		if a.n.view.live(origin) {
			v.Entries = append(v.Entries, &Entry{Origin: origin, Count: e.Count, Version: e.Version}) // a copy: the message is read after this returns
			v.Seq = max(v.Seq, e.seq)
		} else {
			v.Down = append(v.Down, origin)
		}
	}
	for origin, e := range a.entries {
		if (a.changed || a.wantFull[origin]) && a.n.view.live(origin) {
			ctx.Send(actor.NewPID(e.address, relayName), v)
			a.n.obs.VectorSent(e.address != a.n.sys.Address())
		}
	}
	a.changed = false
	clear(a.wantFull)
	a.lastFlush = time.Now()
}

// complete reports whether this activation holds a partial from every live
// origin that any reporter knows of: the state a re-activated aggregator
// must rebuild before its first push. A brand-new room is complete with its
// first partial, whose sender knows of nobody else.
func (a *Aggregator) complete() bool {
	for id := range a.known {
		if a.entries[id] == nil && a.n.view.live(id) {
			return false
		}
	}
	return true
}

// housekeep expires partials nobody refreshes (a lost message, a room a node
// retired) and those of members that left, and passivates an idle aggregator.
func (a *Aggregator) housekeep(ctx actor.Context) {
	now := time.Now()
	ttl := entryTTL * a.n.cfg.Refresh
	for origin, e := range a.entries {
		if now.Sub(e.heard) > ttl || a.n.view.isBlocked(origin) {
			delete(a.entries, origin)
			delete(a.known, origin)
			a.changed = true
		}
	}
	if a.changed {
		a.schedule(ctx)
	}
	if len(a.entries) > 0 {
		a.idleSince = now
	} else if now.Sub(a.idleSince) > idleAfter*a.n.cfg.Refresh {
		ctx.Stop(ctx.Self())
	}
}

func (a *Aggregator) scheduleTick(ctx actor.Context) {
	root, self := ctx.ActorSystem().Root, ctx.Self()
	a.tick = time.AfterFunc(a.n.cfg.Refresh, func() { root.Send(self, aggregatorTickMsg) })
}
