package actors

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"presence/internal/leave"
)

// Member is the actor for one client socket, a child of its Room. It is the
// only writer of data frames to the socket (the socket itself answers pings
// and close frames), it tells its Room it is live from *actor.Started, and it
// closes the socket when it stops, whoever stopped it.
//
// It is never restarted (Room stops failed Members): a restart would run
// *actor.Started again and start a second reader on the same socket.
type Member struct {
	room   string
	socket Socket
	opts   *Options

	lastSeq   uint64                      // seq of the last count written; older or equal ones are skipped
	lastWrite time.Time                   // when that count was written
	latest    *atomic.Pointer[CountFrame] // the room's newest count, once a UserCount has arrived
	held      []*CountFrame               // counts received but not yet handled (see deliver)
	waiting   bool                        // a writeDue is on its way
	bad       int                         // unusable client messages so far
	reason    leave.Reason                // why it is leaving; "" while it is a member
	failed    bool                        // Receive panicked, so supervision is about to stop it
}

// memberProps spawns a Member for socket. The producer returns the one
// Member value made here: there is no second incarnation to produce, since
// Members are stopped, not restarted, on failure.
func memberProps(room string, socket Socket, o *Options) *actor.Props {
	m := &Member{room: room, socket: socket, opts: o}
	return actor.PropsFromProducer(func() actor.Actor { return m })
}

// Receive handles one message. State is touched only here.
func (m *Member) Receive(ctx actor.Context) {
	defer func() {
		if p := recover(); p != nil {
			// Remember the failure so *actor.Stopped closes with 1011, then let
			// protoactor's supervision see the panic as usual.
			m.failed = true
			panic(p)
		}
	}()

	switch msg := ctx.Message().(type) {
	case *actor.Started:
		m.start(ctx)
	case *UserCount:
		m.latest = msg.Latest
		m.held = append(m.held, msg.Frame)
		m.deliver(ctx)
	case *writeDue:
		m.waiting = false
		m.deliver(ctx)
	case *inboundText:
		m.answer(ctx, msg.data)
	case *socketEnded:
		m.leave(ctx, leave.Of(msg.err), 0, "")
	case *actor.Stopped:
		m.stopped()
	}
}

// start reports the Member live and starts the socket reading. The
// socket's callbacks hold the root context and this Member's PID, never ctx,
// and report each message (inboundText) and the end (socketEnded, once).
func (m *Member) start(ctx actor.Context) {
	ctx.Send(ctx.Parent(), &MemberStarted{PID: ctx.Self()})

	root, self := ctx.ActorSystem().Root, ctx.Self()
	m.socket.Start(
		func(msg []byte) { root.Send(self, &inboundText{data: msg}) },
		func(err error) { root.Send(self, &socketEnded{err: err}) },
	)
}

// deliver writes the room's newest count, unless this member has already
// written it or a newer one, and at most once per flush interval.
//
// Latest wins: while a slow write blocked this Member, several UserCounts may
// have queued up; the first writes the newest frame and the rest are
// skipped, so a slow member never sees a stale count.
//
// Pacing: the Room flushes at most once per interval, but a flush to
// thousands of members takes a while, so one member can be reached late by
// one flush and early by the next. A count that would follow the last write
// by less than an interval waits for the rest of it (writeDue), and the
// newest count then goes out: each member reads at most one count frame per
// interval on the wire, whatever the load.
func (m *Member) deliver(ctx actor.Context) {
	if m.reason != "" {
		m.release()
		return
	}
	f := m.latest.Load()
	if f.Seq <= m.lastSeq {
		m.opts.Observer.FrameSkipped()
		m.release()
		return
	}
	if wait := m.opts.FlushInterval - time.Since(m.lastWrite); wait > 0 {
		if !m.waiting {
			m.waiting = true
			root, self := ctx.ActorSystem().Root, ctx.Self()
			time.AfterFunc(wait, func() { root.Send(self, writeDueMsg) })
		}
		return
	}
	if err := m.socket.WriteFrame(f.Bytes); err != nil {
		m.release()
		m.writeFailed(ctx, err)
		return
	}
	m.lastSeq, m.lastWrite = f.Seq, time.Now()
	m.opts.Observer.FrameWritten()
	m.release()
}

// release marks every held count as handled by this member: written, or
// superseded by the newer one it wrote.
func (m *Member) release() {
	for i, f := range m.held {
		f.handled(m.opts.Observer)
		m.held[i] = nil
	}
	m.held = m.held[:0]
}

var writeDueMsg = &writeDue{}

// answer replies to a client message. No client event is defined yet, so
// every message gets an error event; a client that keeps sending them is
// closed with 1008.
func (m *Member) answer(ctx actor.Context, data []byte) {
	if m.reason != "" {
		return
	}
	m.bad++
	m.opts.Observer.BadMessage()
	if m.bad > m.opts.MaxBadMessages {
		m.leave(ctx, leave.Policy, ClosePolicy, "too many unusable messages")
		return
	}

	var payload []byte
	if ev, err := DecodeEvent(data); err != nil {
		payload = encodeError(ErrCodeBadJSON, truncate(err.Error(), 120))
	} else {
		payload = encodeError(ErrCodeUnknownEvent, fmt.Sprintf("unknown event %q", truncate(ev.Name, 64)))
	}
	if err := m.socket.WriteFrame(m.opts.Frame(payload)); err != nil {
		m.writeFailed(ctx, err)
	}
}

// writeFailed ends the membership after a failed write. A timeout means the
// client stopped reading (its TCP window is full): it is dropped so it cannot
// hold memory or anyone's attention.
func (m *Member) writeFailed(ctx actor.Context, err error) {
	reason := leave.Of(err)
	if reason == leave.WriteTimeout {
		m.opts.Observer.SlowConsumer()
	}
	m.leave(ctx, reason, ClosePolicy, "write timed out")
}

// leave records why the member is leaving (the first reason wins), closes the
// socket when code is not 0, and stops the Member. The Room then gets
// *actor.Terminated and recounts.
func (m *Member) leave(ctx actor.Context, reason leave.Reason, code uint16, text string) {
	if m.reason != "" {
		return
	}
	m.reason = reason
	if code != 0 {
		m.socket.Close(code, text)
	}
	ctx.Stop(ctx.Self())
}

// stopped runs last. A Member stopped from outside (supervision after a panic,
// or its Room stopping for shutdown) has not closed its socket yet.
func (m *Member) stopped() {
	if m.reason == "" {
		if m.failed {
			m.reason = leave.Crash
			m.socket.Close(CloseInternalError, "internal error")
		} else {
			m.reason = leave.Shutdown
			m.socket.Close(CloseGoingAway, closeReasonShutdown)
		}
	}
	m.opts.Observer.Left(m.reason)
	// One line per connection, at its end. Debug: leaves are routine, and
	// their rates by reason are in presence_leaves_total; a crash has
	// already been logged as an error by the Room.
	m.opts.Logger.Debug("member left", "room", m.room, "reason", m.reason)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
