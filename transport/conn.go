package transport

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/time/rate"

	"presence/internal/leave"
	"presence/internal/wheel"
	"presence/internal/workpool"
)

// Conn is one upgraded WebSocket, server side. It satisfies actors.Socket.
//
// Who reads (docs/architecture.md §7): in the poll read mode nobody waits on
// the socket. The poller wakes the Conn when bytes arrive, and one of the
// edge's pool workers reads what is there without blocking, parses it, and
// leaves; an idle Conn has no goroutine and no buffer. In the goroutine mode
// (the portable fallback) one goroutine blocks in Read. Either way one reader
// at a time, and the parse state exists only while a frame or a message is
// incomplete.
//
// Timers: ping, read, close-linger and drain deadlines are fields checked by
// the edge's timing wheel (timers.go), not a runtime timer per socket.
//
// Writes (write.go): WriteFrame and Close may be called from any goroutine,
// also while the Conn reads. Every frame write holds wmu and never blocks: what
// the kernel does not take at once is queued and written by a short-lived
// goroutine under the write deadline.
type Conn struct {
	nc     net.Conn
	rc     syscall.RawConn // nc's descriptor, for reads and writes that never wait; nil if nc has none
	e      *edge
	remote string // client address, for logs and the per-address limit
	early  []byte // bytes the client sent along with its handshake: parsed first

	// The read side, touched only by the one reader at a time.
	onText   func(msg []byte)
	onEnd    func(err error)
	ps       *parse        // nil at a frame boundary with no message under way
	limit    *rate.Limiter // made at the first message or control frame
	verdict  *LeaveError   // why reading ended, once it has
	draining bool          // after a refusal: discard the peer's bytes until it hangs up
	drained  int64         // bytes discarded so far
	svc      atomic.Int32  // poll mode: the service state (poll.go)

	// Deadlines in monotonic nanoseconds (mono), 0 when unset; the wheel
	// checks them (timers.go).
	pingAt  atomic.Int64 // next ping
	readBy  atomic.Int64 // the peer's next frame must be complete by then
	closeBy atomic.Int64 // the server sent close: it gives up on the reply then
	drainBy atomic.Int64 // a refused peer is cut off then
	timer   wheel.Timer

	wmu       sync.Mutex
	closeSent bool   // a close frame went out: no more frames (guarded by wmu)
	broken    bool   // a write failed: the connection is aborted (guarded by wmu)
	flushing  bool   // a goroutine writes pending (guarded by wmu)
	finAfter  bool   // half-close once pending is written (guarded by wmu)
	shutAfter bool   // close once pending is written (guarded by wmu)
	pending   []byte // bytes the kernel has not taken yet (guarded by wmu)
	writeBy   int64  // mono: pending must be written by then (guarded by wmu)

	reading  atomic.Bool // Start or ReadLoop has been called
	shutDone atomic.Bool // shut has run (or is running)
	polled   bool        // registered with the poller (guarded by the poller's mutex)
	fd       int         // the descriptor it was registered under (guarded likewise)
	endMu    sync.Mutex
	end      *LeaveError // the first reason the socket ended (guarded by endMu)

	// The Server's open set is a list through its Conns (guarded by
	// Server.mu): no map entry per socket.
	srv        *Server // set by Server.track; nil for a Conn no Server's list holds (a Socket.IO session's, tests)
	prev, next *Conn
}

// edge is what a Server's Conns share: settings, the timing wheel, and in
// the poll mode the poller and the worker pool.
type edge struct {
	cfg   *Config
	wheel *wheel.Wheel
	poll  *poller // nil in the goroutine mode
	pool  *workpool.Pool
}

// newEdge returns the shared part of a Server's Conns. poll is nil for the
// goroutine read mode.
func newEdge(cfg *Config, poll *poller, pool *workpool.Pool) *edge {
	if pool == nil {
		pool = workpool.New(0)
	}
	tick := min(cfg.CloseTimeout, cfg.WriteTimeout, cfg.PingInterval, cfg.PongTimeout) / 8
	tick = max(time.Millisecond, min(tick, 100*time.Millisecond))
	slots := int((cfg.PingInterval+cfg.PongTimeout)/tick) + 2
	return &edge{cfg: cfg, wheel: wheel.New(tick, min(max(slots, 16), 4096)), poll: poll, pool: pool}
}

func newConn(nc net.Conn, early []byte, e *edge, remote string) *Conn {
	c := &Conn{nc: nc, early: early, e: e, remote: remote}
	c.rc = rawConn(nc)
	c.timer.Init(c)
	return c
}

// Close starts the closing handshake: it sends a close frame with code and
// reason, and the reader then waits up to CloseTimeout for the peer's reply
// before closing the connection. It is idempotent and never blocks; if the
// frame cannot be written, the connection is closed now.
func (c *Conn) Close(code uint16, reason string) {
	_ = c.setEnd(&LeaveError{Reason: leave.ServerClose, Code: ws.StatusCode(code)}) // unless the socket has already ended
	if c.writeClose(ws.StatusCode(code), reason) {
		c.lingerUntil(mono() + int64(c.e.cfg.CloseTimeout))
		return
	}
	c.wmu.Lock()
	broken := c.broken
	c.wmu.Unlock()
	if broken || !c.reading.Load() {
		c.shut() // nobody will read the reply
		c.wakeReader()
	}
}

// lingerUntil makes a closing socket give up on the peer's close frame at t
// (mono). The first call wins. Whoever sees the socket closing also sees when
// the wait ends: the deadline is the closing state.
func (c *Conn) lingerUntil(t int64) {
	if c.closeBy.CompareAndSwap(0, t) {
		c.armTimer()
	}
	if !c.reading.Load() {
		c.shut()
	}
}

// isClosing reports whether the server has sent close and waits for the
// peer's reply.
func (c *Conn) isClosing() bool { return c.closeBy.Load() != 0 }

// setEnd records why the socket ended, if nothing has yet, and returns the
// recorded reason: the first cause wins over its consequences (a write
// timeout over the read error the abort then causes).
func (c *Conn) setEnd(le *LeaveError) *LeaveError {
	c.endMu.Lock()
	defer c.endMu.Unlock()
	if c.end == nil {
		c.end = le
	}
	return c.end
}

// ended returns the recorded reason, or an EOF one if there is none yet.
func (c *Conn) ended() *LeaveError {
	return c.setEnd(&LeaveError{Reason: leave.EOF, Err: net.ErrClosed})
}

// shut closes the connection now, once: it leaves the poller and the wheel,
// closes the descriptor and releases its slot. A reader blocked in Read (the
// goroutine mode) wakes with an error; a poll-mode reader must be woken with
// wakeReader.
func (c *Conn) shut() {
	if !c.shutDone.CompareAndSwap(false, true) {
		return
	}
	c.e.wheel.Stop(&c.timer)
	if c.e.poll != nil {
		c.e.poll.remove(c)
	}
	_ = c.nc.Close()
	if c.srv != nil {
		c.srv.untrack(c)
	}
}

// shutWhenFlushed closes the connection once what is queued for the peer
// (a close frame, say) is written, or at once when nothing is: the end of
// the read side must not cut off the last frames.
func (c *Conn) shutWhenFlushed() {
	c.wmu.Lock()
	if c.flushing && !c.broken {
		c.shutAfter = true
		c.wmu.Unlock()
		return
	}
	c.wmu.Unlock()
	c.shut()
}

// monoEpoch is the origin of mono: time.Since reads the monotonic clock, so
// deadlines do not jump with the wall clock.
var monoEpoch = time.Now()

// mono is monotonic nanoseconds since the process started.
func mono() int64 { return int64(time.Since(monoEpoch)) }

// monoTime turns a mono reading back into a time.Time (with its monotonic
// reading), for the wheel and for write deadlines.
func monoTime(t int64) time.Time { return monoEpoch.Add(time.Duration(t)) }
