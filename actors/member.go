package actors

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"presence/internal/leave"
	"presence/internal/wheel"
	"presence/internal/wire"
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
	writer MessageWriter // socket, when it picks its own format; nil for a /ws socket
	opts   *Options
	root   *actor.RootContext // for what sends from outside Receive: the pacing timer and the socket callbacks
	self   *actor.PID
	timer  wheel.Timer // the pacing wait (Options.pacer)

	lastSeq   uint64                      // seq of the last count written; older or equal ones are skipped
	lastWrite int64                       // when that count was written (monoNow)
	latest    *atomic.Pointer[CountFrame] // the room's newest count, once a UserCount has arrived
	held      []*CountFrame               // counts received but not yet handled (see deliver)
	waiting   bool                        // a writeDue is on its way
	bad       int                         // unusable client messages so far
	reason    leave.Reason                // why it is leaving; "" while it is a member
	failed    bool                        // Receive panicked, so supervision is about to stop it
}

// newMember is the Member for socket; Room.memberProps produces it. There
// is no second incarnation to produce: Members are stopped, not restarted,
// on failure.
func newMember(room string, socket Socket, o *Options) *Member {
	m := &Member{room: room, socket: socket, opts: o}
	m.writer, _ = socket.(MessageWriter)
	m.timer.Init(m)
	return m
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

	m.root, m.self = ctx.ActorSystem().Root, ctx.Self()
	m.socket.Start(m.socketText, m.socketEnded)
}

// socketText and socketEnded are the socket's callbacks: they run on
// whatever reads the socket and only send, with the root context and the
// PID that start stored before the socket could call them.
func (m *Member) socketText(msg []byte) { m.root.Send(m.self, &inboundText{data: msg}) }
func (m *Member) socketEnded(err error) { m.root.Send(m.self, &socketEnded{err: err}) }

// deliver writes the room's newest count, unless this member has already
// written it or a newer one, and at most once per flush interval.
//
// Latest wins: while this Member waited (for its turn on the pool, or for
// its pacing below), several UserCounts may have queued up; the first writes
// the newest frame and the rest are skipped, so a late member never sees a
// stale count.
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
	now := monoNow()
	if wait := int64(m.opts.FlushInterval) - (now - m.lastWrite); m.lastWrite != 0 && wait > 0 {
		if !m.waiting {
			m.waiting = true
			m.opts.pacer.Arm(&m.timer, time.Now().Add(time.Duration(wait)))
		}
		return
	}
	if err := m.write(f); err != nil {
		m.release()
		m.writeFailed(ctx, err)
		return
	}
	m.lastSeq, m.lastWrite = f.Seq, monoNow() // after the write: the next one is spaced from its end
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

// Fire is the pacing timer (wheel.Firer): the wait is over, or nearly (the
// wheel may fire early; deliver then waits again). It runs on the wheel's
// goroutine, so it only sends.
func (m *Member) Fire() { m.root.Send(m.self, writeDueMsg) }

// monoEpoch is the origin of monoNow.
var monoEpoch = time.Now()

// monoNow is monotonic nanoseconds since the process started, never 0.
func monoNow() int64 { return int64(time.Since(monoEpoch)) + 1 }

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

	reply := errorMessage{encoders: &m.opts.Encoders}
	if ev, err := DecodeEvent(data); err != nil {
		reply.code, reply.message = ErrCodeBadJSON, truncate(err.Error(), 120)
	} else {
		reply.code, reply.message = ErrCodeUnknownEvent, fmt.Sprintf("unknown event %q", truncate(ev.Name, 64))
	}
	if err := m.write(reply); err != nil {
		m.writeFailed(ctx, err)
	}
}

// write hands msg to the socket in the format it needs: a MessageWriter
// picks its own, any other socket writes the JSON frame.
func (m *Member) write(msg wire.Message) error {
	if m.writer != nil {
		return m.writer.WriteMessage(msg)
	}
	return m.socket.WriteFrame(msg.Encoded(wire.JSON))
}

// writeFailed ends the membership after a failed write. A timeout means the
// client stopped reading (its TCP window is full): it is dropped so it cannot
// hold memory or anyone's attention.
func (m *Member) writeFailed(ctx actor.Context, err error) {
	m.leave(ctx, leave.Of(err), ClosePolicy, "write timed out")
}

// leave records why the member is leaving (the first reason wins), closes the
// socket when code is not 0, and stops the Member. The Room then gets
// *actor.Terminated and recounts.
func (m *Member) leave(ctx actor.Context, reason leave.Reason, code uint16, text string) {
	if m.reason != "" {
		return
	}
	m.reason = reason
	if reason == leave.WriteTimeout {
		// A slow consumer, whichever noticed first: the write, or the
		// socket's own deadline on what it had queued (socketEnded).
		m.opts.Observer.SlowConsumer()
	}
	if code != 0 {
		m.socket.Close(code, text)
	}
	ctx.Stop(ctx.Self())
}

// stopped runs last. A Member stopped from outside (supervision after a panic,
// or its Room stopping for shutdown) has not closed its socket yet.
func (m *Member) stopped() {
	m.opts.pacer.Stop(&m.timer)
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
