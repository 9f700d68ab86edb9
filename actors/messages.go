package actors

import (
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
)

// Every message the tree exchanges, sent as a pointer. Lifecycle messages
// (*actor.Started, *actor.Terminated, …) come from protoactor itself.

// Join seats Socket in the room named Room. main → Rooms, once per upgraded
// socket. Room must already be a valid name (transport checks it).
type Join struct {
	Room   string
	Socket Socket
}

// socketsWaiting tells a Room that a socket waits in its inbox: Rooms →
// Room, one per Join. The socket travels in the inbox, not here (see inbox).
type socketsWaiting struct{}

var socketsWaitingMsg = &socketsWaiting{}

// MemberStarted says a Member child is live. Member → its Room, from the
// Member's *actor.Started.
type MemberStarted struct {
	PID *actor.PID
}

// UserCount tells a member that the room's count changed. Room → Member, once
// per flush; one value is shared by every recipient and never modified.
type UserCount struct {
	Frame  *CountFrame                 // the count this flush produced
	Latest *atomic.Pointer[CountFrame] // the room's newest count, which a late Member writes instead (latest wins)
}

// CountRequest asks for a room's current count. Tests and operators → Rooms,
// which forwards it to the Room; answered with *CountResponse.
type CountRequest struct {
	Room string
}

// CountResponse answers CountRequest. Room (or Rooms, for a room that does not
// exist) → requester.
type CountResponse struct {
	Room  string
	Users int    // live members right now
	Seq   uint64 // seq of the last count pushed, 0 if none
}

// RoomsRequest asks for every room's last pushed count. /api/rooms → Rooms;
// answered with *RoomsResponse.
type RoomsRequest struct{}

// RoomsResponse answers RoomsRequest. Rooms → requester. Rooms are sorted by
// name; empty rooms are left out.
type RoomsResponse struct {
	Rooms []RoomCount
}

// RoomCount is one room's count as last pushed to its members.
type RoomCount struct {
	Room  string
	Users int // the count its members were shown (cluster-wide in a cluster)
	Local int // members in this process
}

// roomFlushed reports the count a Room just pushed. Room → Rooms, after each
// flush, so RoomsRequest needs no round trip to every room.
type roomFlushed struct {
	pid   *actor.PID // the Room, so that a reaped Room's last flush cannot overwrite its successor's
	room  string
	users int    // the count pushed: this process's members, plus other processes' in a cluster
	local int    // this process's members
	seq   uint64 // the seq pushed
}

// ClusterCount gives a Room the members other processes have in it.
// Options.Cluster's implementation → Rooms → the Room, when that number
// changes (at most once per flush interval) and once in answer to a new Room.
type ClusterCount struct {
	Room   string
	Others int    // members of the room on the other live processes, from their latest partials
	Seq    uint64 // highest seq any process has shown for the room: the Room's next seq goes above it
}

// clusterWaitOver ends a new Room's wait for its first ClusterCount. The
// Room's timer → Room.
type clusterWaitOver struct{}

// roomIdle says a Room has no members left. Room → Rooms; Rooms stops it only
// if joins equals the Joins it has forwarded, so no Join is in flight.
type roomIdle struct {
	pid   *actor.PID
	joins uint64
}

// flushDue ends a coalescing interval. The Room's timer → Room.
type flushDue struct{}

// writeDue ends a Member's wait before its next count frame (see
// Member.deliver). The Member's timer → Member.
type writeDue struct{}

// reconcile asks a Room to rebuild its member sets from ctx.Children() and
// push the result. Rooms (as supervisor) → Room, after resuming it from a failure.
type reconcile struct{}

// inboundText is a complete text message from the client. The Member's read
// goroutine → Member.
type inboundText struct {
	data []byte
}

// socketEnded says the socket's read side has ended and why. The Member's
// read goroutine → Member, exactly once.
type socketEnded struct {
	err error
}

// Timer and goroutine messages may outlive their actor; they are expected
// dead letters, so keep them out of the dead-letter log.
func (*flushDue) IgnoreDeadLetterLogging()        {}
func (*clusterWaitOver) IgnoreDeadLetterLogging() {}
func (*writeDue) IgnoreDeadLetterLogging()        {}
func (*inboundText) IgnoreDeadLetterLogging()     {}
func (*socketEnded) IgnoreDeadLetterLogging()     {}
func (*UserCount) IgnoreDeadLetterLogging()       {}
