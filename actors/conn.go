package actors

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Conn is the actor for one client socket, a child of its Room. It is the
// only writer of data frames to the socket (the socket itself answers pings
// and close frames), it tells its Room it is live from *actor.Started, and it
// closes the socket when it stops, whoever stopped it.
//
// It is never restarted (Room stops failed Conns): a restart would run
// *actor.Started again and start a second reader on the same socket.
type Conn struct {
	room   string
	socket Socket
	opts   *Options

	lastSeq   uint64                      // seq of the last count written; older or equal ones are skipped
	lastWrite time.Time                   // when that count was written
	latest    *atomic.Pointer[CountFrame] // the room's newest count, once a UserCount has arrived
	held      []*CountFrame               // counts received but not yet handled (see deliver)
	waiting   bool                        // a writeDue is on its way
	bad       int                         // unusable client messages so far
	reason    string                      // why it is leaving; "" while it is a member
	failed    bool                        // Receive panicked, so supervision is about to stop it
}

// connProps spawns a Conn for socket. The producer returns the one Conn value
// made here: there is no second incarnation to produce, since Conns are
// stopped, not restarted, on failure.
func connProps(room string, socket Socket, o *Options) *actor.Props {
	c := &Conn{room: room, socket: socket, opts: o}
	return actor.PropsFromProducer(func() actor.Actor { return c })
}

// Receive handles one message. State is touched only here.
func (c *Conn) Receive(ctx actor.Context) {
	defer func() {
		if p := recover(); p != nil {
			// Remember the failure so *actor.Stopped closes with 1011, then let
			// protoactor's supervision see the panic as usual.
			c.failed = true
			panic(p)
		}
	}()

	switch msg := ctx.Message().(type) {
	case *actor.Started:
		c.start(ctx)
	case *UserCount:
		c.latest = msg.Latest
		c.held = append(c.held, msg.Frame)
		c.deliver(ctx)
	case *writeDue:
		c.waiting = false
		c.deliver(ctx)
	case *inboundText:
		c.answer(ctx, msg.data)
	case *socketEnded:
		c.leave(ctx, LeaveReason(msg.err), 0, "")
	case *actor.Stopped:
		c.stopped()
	}
}

// start reports the Conn live and starts the socket's read loop on its own
// goroutine. The goroutine holds the root context and this Conn's PID, never
// ctx, and always ends by reporting socketEnded.
func (c *Conn) start(ctx actor.Context) {
	ctx.Send(ctx.Parent(), &MemberStarted{PID: ctx.Self()})

	root, self, socket := ctx.ActorSystem().Root, ctx.Self(), c.socket
	go func() {
		err := socket.ReadLoop(func(msg []byte) {
			root.Send(self, &inboundText{data: msg})
		})
		root.Send(self, &socketEnded{err: err})
	}()
}

// deliver writes the room's newest count, unless this member has already
// written it or a newer one, and at most once per flush interval.
//
// Latest wins: while a slow write blocked this Conn, several UserCounts may
// have queued up; the first writes the newest frame and the rest are
// skipped, so a slow member never sees a stale count.
//
// Pacing: the Room flushes at most once per interval, but a flush to
// thousands of members takes a while, so one member can be reached late by
// one flush and early by the next. A count that would follow the last write
// by less than an interval waits for the rest of it (writeDue), and the
// newest count then goes out: each member reads at most one count frame per
// interval on the wire, whatever the load.
func (c *Conn) deliver(ctx actor.Context) {
	if c.reason != "" {
		c.release()
		return
	}
	f := c.latest.Load()
	if f.Seq <= c.lastSeq {
		c.opts.Observer.FrameSkipped()
		c.release()
		return
	}
	if wait := c.opts.FlushInterval - time.Since(c.lastWrite); wait > 0 {
		if !c.waiting {
			c.waiting = true
			root, self := ctx.ActorSystem().Root, ctx.Self()
			time.AfterFunc(wait, func() { root.Send(self, writeDueMsg) })
		}
		return
	}
	if err := c.socket.WriteFrame(f.Bytes); err != nil {
		c.release()
		c.writeFailed(ctx, err)
		return
	}
	c.lastSeq, c.lastWrite = f.Seq, time.Now()
	c.opts.Observer.FrameWritten()
	c.release()
}

// release marks every held count as handled by this member: written, or
// superseded by the newer one it wrote.
func (c *Conn) release() {
	for i, f := range c.held {
		f.handled(c.opts.Observer)
		c.held[i] = nil
	}
	c.held = c.held[:0]
}

var writeDueMsg = &writeDue{}

// answer replies to a client message. No client event is defined yet, so
// every message gets an error event; a client that keeps sending them is
// closed with 1008.
func (c *Conn) answer(ctx actor.Context, data []byte) {
	if c.reason != "" {
		return
	}
	c.bad++
	c.opts.Observer.BadMessage()
	if c.bad > c.opts.MaxBadMessages {
		c.leave(ctx, ReasonPolicy, ClosePolicy, "too many unusable messages")
		return
	}

	var payload []byte
	if ev, err := DecodeEvent(data); err != nil {
		payload = encodeError(ErrCodeBadJSON, truncate(err.Error(), 120))
	} else {
		payload = encodeError(ErrCodeUnknownEvent, fmt.Sprintf("unknown event %q", truncate(ev.Name, 64)))
	}
	if err := c.socket.WriteFrame(c.opts.Frame(payload)); err != nil {
		c.writeFailed(ctx, err)
	}
}

// writeFailed ends the membership after a failed write. A timeout means the
// client stopped reading (its TCP window is full): it is dropped so it cannot
// hold memory or anyone's attention.
func (c *Conn) writeFailed(ctx actor.Context, err error) {
	reason := LeaveReason(err)
	if reason == ReasonWriteTimeout {
		c.opts.Observer.SlowConsumer()
	}
	c.leave(ctx, reason, ClosePolicy, "write timed out")
}

// leave records why the member is leaving (the first reason wins), closes the
// socket when code is not 0, and stops the Conn. The Room then gets
// *actor.Terminated and recounts.
func (c *Conn) leave(ctx actor.Context, reason string, code uint16, text string) {
	if c.reason != "" {
		return
	}
	c.reason = reason
	if code != 0 {
		_ = c.socket.Close(code, text)
	}
	ctx.Stop(ctx.Self())
}

// stopped runs last. A Conn stopped from outside (supervision after a panic,
// or its Room stopping for shutdown) has not closed its socket yet.
func (c *Conn) stopped() {
	if c.reason == "" {
		if c.failed {
			c.reason = ReasonCrash
			_ = c.socket.Close(CloseInternalError, "internal error")
		} else {
			c.reason = ReasonShutdown
			_ = c.socket.Close(CloseGoingAway, closeReasonShutdown)
		}
	}
	c.opts.Observer.Left(c.reason)
	// One line per connection, at its end. Debug: leaves are routine, and
	// their rates by reason are in presence_leaves_total; a crash has
	// already been logged as an error by the Room.
	c.opts.Logger.Debug("member left", "room", c.room, "reason", c.reason)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
