package actors

import (
	"slices"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Rooms is the registry: one per process, the parent of every Room. It spawns
// a Room on the first Join for its name, forwards Joins and CountRequests, and
// stops a Room once it is empty and no Join for it is in flight.
//
// It is also the supervisor of the Rooms (HandleFailure): a failed Room is
// resumed, not restarted, because a restart would stop every member first.
type Rooms struct {
	opts     *Options
	rooms    map[string]*roomEntry // by room name
	names    map[string]string     // Room PID id → room name
	members  int                   // sum of every room's last pushed count
	stopping bool
}

type roomEntry struct {
	pid   *actor.PID
	inbox *inbox // where Joins' sockets wait for the Room
	joins uint64 // sockets put in its inbox
	users int    // its last pushed count
	local int    // this process's members in it, as last pushed
}

// Room failure budget: past it a Room is stopped (its members are closed with
// 1001 and reconnect to a fresh Room) rather than resumed again.
const (
	roomMaxFailures   = 10
	roomFailureWindow = 10 * time.Second
)

// NewRoomsProps returns the props to spawn the registry with, from the root
// context. Rooms itself runs under a guardian that resumes it on failure.
func NewRoomsProps(o Options) *actor.Props {
	opts := o.withDefaults()
	return opts.coordinatorProps(
		func() actor.Actor {
			return &Rooms{opts: opts, rooms: make(map[string]*roomEntry), names: make(map[string]string)}
		},
		actor.WithGuardian(resumeGuardian),
	)
}

// Receive handles one message. State is touched only here and in
// HandleFailure, which protoactor also runs on this actor's goroutine.
func (r *Rooms) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *Join:
		if r.stopping {
			// A Room spawned now would never be stopped (see inbox).
			msg.Socket.Close(CloseGoingAway, closeReasonShutdown)
			return
		}
		e := r.rooms[msg.Room]
		created := e == nil
		if created {
			in := &inbox{}
			pid := ctx.SpawnPrefix(roomProps(msg.Room, r.opts, in), "room-"+msg.Room+"-")
			e = &roomEntry{pid: pid, inbox: in}
			r.rooms[msg.Room] = e
			r.names[pid.Id] = msg.Room
		}
		if !e.inbox.put(msg.Socket) {
			// The Room is stopping (it kept failing): the member reconnects
			// and meets a fresh Room once this one is gone.
			msg.Socket.Close(CloseGoingAway, closeReasonShutdown)
			return
		}
		e.joins++
		ctx.Send(e.pid, socketsWaitingMsg)
		if created {
			r.report() // after the forward: an observer that fails must not lose the join
			r.reportLocal(msg.Room, 0, 0)
		}

	case *roomFlushed:
		if e := r.rooms[msg.room]; e != nil && e.pid.Id == msg.pid.Id {
			r.members += msg.local - e.local
			e.users, e.local = msg.users, msg.local
			r.report()
			r.reportLocal(msg.room, msg.local, msg.seq)
		}

	case *ClusterCount:
		if e := r.rooms[msg.Room]; e != nil {
			ctx.Send(e.pid, msg)
		}

	case *roomIdle:
		name := r.names[msg.pid.Id]
		e := r.rooms[name]
		if e == nil || e.pid.Id != msg.pid.Id || e.joins != msg.joins {
			return // a Join is on its way to it: it is about to have a member again
		}
		// Poison, not Stop: a user message, so it queues behind anything Rooms
		// has already forwarded (a CountRequest), which is answered first. A
		// Stop would overtake it, and protoactor drops what a stopped actor
		// had left in its mailbox.
		ctx.Poison(e.pid)
		r.forget(name, e)

	case *actor.Terminated:
		// A Room stopped without being reaped (it kept failing).
		if name, ok := r.names[msg.Who.Id]; ok {
			r.forget(name, r.rooms[name])
		}

	case *CountRequest:
		if e := r.rooms[msg.Room]; e != nil {
			ctx.Forward(e.pid)
			return
		}
		ctx.Respond(&CountResponse{Room: msg.Room})

	case *RoomsRequest:
		ctx.Respond(&RoomsResponse{Rooms: r.snapshot()})

	case *actor.Stopping:
		r.stopping = true
	}
}

func (r *Rooms) forget(name string, e *roomEntry) {
	delete(r.names, e.pid.Id)
	if r.rooms[name] == e {
		delete(r.rooms, name)
		r.members -= e.local
		r.reportLocal(name, 0, 0)
	}
	r.report()
}

// reportLocal tells the cluster, if there is one, this process's count of a room.
func (r *Rooms) reportLocal(room string, users int, seq uint64) {
	if r.opts.Cluster != nil {
		r.opts.Cluster.LocalCount(room, users, seq)
	}
}

func (r *Rooms) report() {
	r.opts.Observer.RoomsChanged(len(r.rooms), r.members)
}

// snapshot lists the rooms that have members, by name.
func (r *Rooms) snapshot() []RoomCount {
	out := make([]RoomCount, 0, len(r.rooms))
	for name, e := range r.rooms {
		if e.users > 0 {
			out = append(out, RoomCount{Room: name, Users: e.users, Local: e.local})
		}
	}
	slices.SortFunc(out, func(a, b RoomCount) int { return strings.Compare(a.Room, b.Room) })
	return out
}

// HandleFailure resumes a failed Room with its state (its members stay
// connected) and asks it to reconcile that state with its children, since the
// message it failed on is lost. A Room that keeps failing is stopped.
func (r *Rooms) HandleFailure(system *actor.ActorSystem, supervisor actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason, _ any) {
	name := r.names[child.Id]
	rs.Fail()
	if rs.NumberOfFailures(roomFailureWindow) > roomMaxFailures {
		r.opts.Logger.Error("room keeps failing; stopping it", "room", name, "panic", reason)
		supervisor.StopChildren(child)
		return
	}
	r.opts.Logger.Error("room failed; resuming it", "room", name, "panic", reason)
	supervisor.ResumeChildren(child)
	system.Root.Send(child, &reconcile{})
}

// resumeGuardian supervises Rooms itself: resume, keeping every Room.
var resumeGuardian = actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive {
	return actor.ResumeDirective
})
