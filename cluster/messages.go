package cluster

import "time"

// The messages that stay inside one node. The ones that cross the network
// are the protobuf messages of wire.proto (Partial, Vector, Ping, Pong,
// Expelled, Leaving).

// localCount is this node's count of a room. Rooms (through Node.LocalCount)
// → relay, after a Room's flush, at its creation and at its reaping.
type localCount struct {
	room  string
	users int
	seq   uint64
}

// viewChanged says the set of live members may have changed: a topology
// update, or an endpoint protoactor reported terminated. Node's event-stream
// handlers → relay.
type viewChanged struct {
	suspectedAt time.Time // when the loss that caused it was noticed; zero for other changes
}

// relayTick starts a refresh round: re-send partials, ping every member,
// poll protoactor's blocklist. The relay's timer → relay, every Config.Refresh.
type relayTick struct{}

// leaveNow makes the relay tell every member that this node is leaving.
// Node.Leave → relay, on shutdown; answered with leaveDone.
type leaveNow struct{}

// leaveDone answers leaveNow once the Leaving messages are sent.
type leaveDone struct{}

// aggregatorFlush ends an aggregator's coalescing interval. Its timer → the Aggregator.
type aggregatorFlush struct{}

// aggregatorTick starts an aggregator's housekeeping round: expire partials
// nobody refreshes, passivate when idle. Its timer → the Aggregator, every Config.Refresh.
type aggregatorTick struct{}

// Timer messages may outlive their actor: expected dead letters.
func (*relayTick) IgnoreDeadLetterLogging()       {}
func (*aggregatorFlush) IgnoreDeadLetterLogging() {}
func (*aggregatorTick) IgnoreDeadLetterLogging()  {}
