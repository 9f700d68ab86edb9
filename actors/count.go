package actors

import (
	"sync"
	"sync/atomic"
	"time"

	"presence/internal/wire"
)

// CountFrame is one count a Room pushed, shared read-only by every member it
// goes to. It is a wire.Message: each wire format's bytes are encoded the
// first time a member needs them and then shared, so a flush encodes each
// format at most once, whatever the number of members, and not at all a
// format no member of the room speaks.
type CountFrame struct {
	Seq   uint64 // strictly increasing within a room
	Users int    // members live when it was flushed

	room      string
	encoders  *[wire.NumFormats]Encoder
	formats   [wire.NumFormats]encoding
	changedAt time.Time    // the first membership change this flush carries
	pending   atomic.Int64 // recipients that have not yet handled it
}

// encoding is one format's bytes, made once.
type encoding struct {
	once  sync.Once
	bytes []byte
}

// newCountFrame makes the count for room; nothing is encoded yet.
func newCountFrame(o *Options, room string, users int, seq uint64, changedAt time.Time, recipients int) *CountFrame {
	f := &CountFrame{
		Seq:       seq,
		Users:     users,
		room:      room,
		encoders:  &o.Encoders,
		changedAt: changedAt,
	}
	f.pending.Store(int64(recipients))
	return f
}

// Encoded returns the count in format w, encoding it on the first call for
// w. It is safe for concurrent use: members of one room call it from their
// own goroutines at once.
func (f *CountFrame) Encoded(w wire.Format) []byte {
	e := &f.formats[w]
	e.once.Do(func() { e.bytes = f.encoders[w].Count(f.room, f.Users, f.Seq) })
	return e.bytes
}

// KeepLatest is true: a newer count replaces an older one not yet sent.
func (f *CountFrame) KeepLatest() bool { return true }

// handled records that one recipient has dealt with f (written it, or skipped
// it for a newer one). The last recipient reports how long the change took to
// reach everyone. Recipients that stop first never call it, so a flush to a
// member that leaves meanwhile reports nothing, rather than a wrong time.
func (f *CountFrame) handled(o Observer) {
	if f.pending.Add(-1) == 0 {
		o.PushLatency(time.Since(f.changedAt))
	}
}

// errorMessage is the "error" event answering one client message, for the
// one socket that sent it.
type errorMessage struct {
	code, message string
	encoders      *[wire.NumFormats]Encoder
}

func (e errorMessage) Encoded(w wire.Format) []byte { return e.encoders[w].Error(e.code, e.message) }
func (e errorMessage) KeepLatest() bool             { return false }

// initialSeq is where a new Room starts counting: the wall clock in
// microseconds. A room that is reaped and created again, or a server that
// restarts, therefore still sends seqs above any it sent before (a Room
// flushes far less than once a microsecond), and a client that never resets
// its last-seen seq is not stuck ignoring the new room's counts.
func initialSeq(now time.Time) uint64 {
	return uint64(now.UnixMicro())
}
