package actors

import (
	"sync/atomic"
	"time"
)

// CountFrame is one count a Room pushed: encoded once per flush and shared,
// read-only, by every member it goes to.
type CountFrame struct {
	Seq   uint64 // strictly increasing within a room
	Users int    // members live when it was flushed
	Bytes []byte // the frame as sockets write it (Options.Frame of the JSON payload)

	changedAt time.Time    // the first membership change this flush carries
	pending   atomic.Int64 // recipients that have not yet handled it
}

// newCountFrame encodes the count for room once.
func newCountFrame(o *Options, room string, users int, seq uint64, changedAt time.Time, recipients int) *CountFrame {
	f := &CountFrame{
		Seq:       seq,
		Users:     users,
		Bytes:     o.Frame(encodeCount(room, users, seq)),
		changedAt: changedAt,
	}
	f.pending.Store(int64(recipients))
	return f
}

// handled records that one recipient has dealt with f (written it, or skipped
// it for a newer one). The last recipient reports how long the change took to
// reach everyone. Recipients that stop first never call it, so a flush to a
// member that leaves meanwhile reports nothing, rather than a wrong time.
func (f *CountFrame) handled(o Observer) {
	if f.pending.Add(-1) == 0 {
		o.PushLatency(time.Since(f.changedAt))
	}
}

// initialSeq is where a new Room starts counting: the wall clock in
// microseconds. A room that is reaped and created again, or a server that
// restarts, therefore still sends seqs above any it sent before (a Room
// flushes far less than once a microsecond), and a client that never resets
// its last-seen seq is not stuck ignoring the new room's counts.
func initialSeq(now time.Time) uint64 {
	return uint64(now.UnixMicro())
}
