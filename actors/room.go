package actors

import (
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Room is the actor for one room. Its members are its live Member children and
// nothing else; it pushes their number to each of them, coalesced (see the
// package comment).
//
// A Room is also the supervisor of its Members (HandleFailure): a failed
// Member is stopped, never restarted.
type Room struct {
	name  string
	opts  *Options
	inbox *inbox // sockets Rooms has handed over; the Room spawns a Member for each

	// The member sets, keyed by PID id. A Member is in starting from its spawn
	// until it reports *actor.Started, then in live until *actor.Terminated.
	// Both are a mirror of ctx.Children() that reconcile can rebuild.
	starting map[string]*actor.PID
	live     map[string]*actor.PID
	fresh    []*actor.PID // went live since the last flush and have not had a count yet
	joins    uint64       // sockets taken from the inbox, so Rooms can tell whether one waits

	seq       uint64                     // seq of the last flush
	latest    atomic.Pointer[CountFrame] // the last flush, read by late Members
	lastUsers int                        // users in the last flush; -1 forces a push to everyone
	changes   int                        // membership changes since the last flush
	changedAt time.Time                  // when the first of those happened
	lastFlush time.Time
	goneSince int         // members that left since the last flush (see inFlight)
	timer     *time.Timer // pending flushDue; nil when none is due
	targets   []*actor.PID
	stopping  bool

	memberProps *actor.Props // one for every Member: its producer takes spawning
	spawning    Socket       // the socket of the Member being spawned (admit)

	cluster roomCluster // the other processes' share; unused without Options.Cluster (room_cluster.go)
}

func newRoom(name string, o *Options, in *inbox) *Room {
	r := &Room{
		name:      name,
		opts:      o,
		inbox:     in,
		starting:  make(map[string]*actor.PID),
		live:      make(map[string]*actor.PID),
		seq:       initialSeq(time.Now()),
		lastUsers: -1,
		cluster:   roomCluster{awaiting: o.Cluster != nil},
	}
	// One Props for all the Room's Members, rather than one each (half a
	// kilobyte per member): protoactor calls the producer inside
	// SpawnPrefix, on this Room's turn, which is when spawning is set.
	r.memberProps = o.props(func() actor.Actor { return newMember(r.name, r.spawning, o) })
	return r
}

// roomProps spawns a Room. A fresh Room per incarnation; Rooms resumes rather
// than restarts a failed Room, so the producer normally runs once.
func roomProps(name string, o *Options, in *inbox) *actor.Props {
	return o.coordinatorProps(func() actor.Actor { return newRoom(name, o, in) })
}

var flushDueMsg = &flushDue{}

// Receive handles one message. State is touched only here and in
// HandleFailure, which protoactor also runs on this actor's goroutine.
func (r *Room) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		r.awaitCluster(ctx)

	case *socketsWaiting:
		r.admit(ctx)

	case *MemberStarted:
		id := msg.PID.Id
		if _, ok := r.starting[id]; !ok {
			return // terminated before its Started report arrived, or not ours
		}
		delete(r.starting, id)
		r.live[id] = msg.PID
		r.fresh = append(r.fresh, msg.PID)
		r.opts.Observer.Joined()
		r.changed(ctx)

	case *actor.Terminated:
		id := msg.Who.Id
		_, wasLive := r.live[id]
		delete(r.live, id)
		delete(r.starting, id)
		if wasLive {
			r.goneSince++
			r.changed(ctx)
		}
		if len(r.live)+len(r.starting) == 0 && !r.stopping {
			ctx.Send(ctx.Parent(), &roomIdle{pid: ctx.Self(), joins: r.joins})
		}

	case *flushDue:
		r.timer = nil
		r.flush(ctx)

	case *ClusterCount:
		r.clusterCount(ctx, msg)

	case *clusterWaitOver:
		r.clusterWaitOver(ctx)

	case *reconcile:
		r.rebuild(ctx)
		r.admit(ctx) // the wake-up a failure lost may have left sockets waiting
		r.lastUsers = -1
		r.changed(ctx)

	case *CountRequest:
		var seq uint64
		if f := r.latest.Load(); f != nil {
			seq = f.Seq
		}
		ctx.Respond(&CountResponse{Room: r.name, Users: len(r.live), Seq: seq})

	case *actor.Stopping:
		r.stopping = true
		// A Member spawned now would never be told to stop.
		for _, s := range r.inbox.close() {
			s.Close(CloseGoingAway, closeReasonShutdown)
		}
		if r.timer != nil {
			r.timer.Stop()
			r.timer = nil
		}
		r.cluster.stop()
	}
}

// admit spawns a Member child for every socket waiting in the inbox.
func (r *Room) admit(ctx actor.Context) {
	for _, s := range r.inbox.take() {
		r.joins++
		r.spawning = s
		pid := ctx.SpawnPrefix(r.memberProps, "member")
		r.spawning = nil
		r.starting[pid.Id] = pid
	}
}

// changed notes a membership change and flushes now if the room has been
// quiet for a whole interval, else when the interval ends.
func (r *Room) changed(ctx actor.Context) {
	now := time.Now()
	if r.changes == 0 {
		r.changedAt = now
	}
	r.changes++
	if r.stopping || r.timer != nil {
		return
	}
	if wait := r.opts.FlushInterval - now.Sub(r.lastFlush); wait > 0 {
		root, self := ctx.ActorSystem().Root, ctx.Self()
		r.timer = time.AfterFunc(wait, func() { root.Send(self, flushDueMsg) })
		return
	}
	r.flush(ctx)
}

// flush pushes the current count. If the number changed every member gets
// it; if not (someone joined and someone left), only the members that have
// never had a count do. The frame is encoded once and the same message goes
// to every recipient.
func (r *Room) flush(ctx actor.Context) {
	if r.changes == 0 || r.stopping || r.cluster.awaiting || r.inFlight(ctx) {
		return
	}
	users := len(r.live) + r.cluster.others
	r.targets = r.targets[:0]
	if users != r.lastUsers {
		for _, pid := range r.live {
			r.targets = append(r.targets, pid)
		}
	} else {
		for _, pid := range r.fresh {
			if _, ok := r.live[pid.Id]; ok {
				r.targets = append(r.targets, pid)
			}
		}
	}

	r.seq = r.nextSeq()
	frame := newCountFrame(r.opts, r.name, users, r.seq, r.changedAt, len(r.targets))
	r.latest.Store(frame)
	msg := &UserCount{Frame: frame, Latest: &r.latest}
	for _, pid := range r.targets {
		ctx.Send(pid, msg)
	}
	r.opts.Observer.Flushed(r.changes - 1)
	ctx.Send(ctx.Parent(), &roomFlushed{pid: ctx.Self(), room: r.name, users: users, local: len(r.live), seq: r.seq})

	clear(r.targets) // drop PIDs of members that may leave before the next flush
	r.fresh = r.fresh[:0]
	r.changes = 0
	r.lastUsers = users
	r.lastFlush = time.Now()
	r.goneSince = 0
}

// maxInFlight bounds, in flush intervals, how long a flush waits for the
// previous one (see inFlight).
const maxInFlight = 10

// inFlight reports whether the last flush is still on its way to members,
// and if so checks again a fifth of an interval later. One fan-out at a
// time: at tens of thousands of members a flush takes longer than the
// interval, and a second one started meanwhile only queues a count behind
// the first in every member's mailbox, which the member then skips for the
// newer one; under steady churn the room spent its core on skipped counts
// and members read a count every few seconds (docs/architecture.md §4).
// Members that left since may never report the frame, so they are taken off
// what is awaited, and the wait is bounded by maxInFlight intervals.
func (r *Room) inFlight(ctx actor.Context) bool {
	f := r.latest.Load()
	if f == nil || f.pending.Load() <= int64(r.goneSince) ||
		time.Since(r.lastFlush) >= maxInFlight*r.opts.FlushInterval {
		return false
	}
	if r.timer == nil {
		root, self := ctx.ActorSystem().Root, ctx.Self()
		r.timer = time.AfterFunc(max(r.opts.FlushInterval/5, time.Millisecond), func() { root.Send(self, flushDueMsg) })
	}
	return true
}

// rebuild makes the member sets match ctx.Children() again, after a failure
// may have interrupted an update or lost a message. Every child counts as
// live: it exists, and *actor.Started is the first message it handles, so it
// is live or about to be (its own MemberStarted is then ignored). The push
// that follows goes to everyone, so no member misses its first count.
func (r *Room) rebuild(ctx actor.Context) {
	clear(r.starting)
	clear(r.live)
	for _, pid := range ctx.Children() {
		r.live[pid.Id] = pid
	}
}

// HandleFailure makes the Room the supervisor of its Members: a failed Member
// is stopped, which closes its socket with 1011 and removes it from the room.
// Restarting it would re-run *actor.Started on the same socket.
func (r *Room) HandleFailure(_ *actor.ActorSystem, supervisor actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason, _ any) {
	r.opts.Logger.Error("member actor failed; stopping it", "room", r.name, "pid", child.Id, "panic", reason)
	supervisor.StopChildren(child)
}
