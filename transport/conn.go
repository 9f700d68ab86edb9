package transport

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"presence/internal/leave"
)

// Conn is one upgraded WebSocket, server side. It satisfies actors.Socket.
//
// Concurrency: ReadLoop runs on one goroutine, once. WriteFrame and Close may
// be called from any goroutine, also while ReadLoop runs. All frame writes go
// through wmu and carry a write deadline.
type Conn struct {
	nc     net.Conn
	src    io.Reader // what ReadLoop reads: nc, or the handshake's reader while it holds early bytes
	cfg    *Config
	remote string // client address, for logs and the per-address limit

	wmu       sync.Mutex
	closeSent bool        // a close frame went out: no more frames (guarded by wmu)
	broken    bool        // a write failed: the connection is aborted (guarded by wmu)
	pinger    *time.Timer // guarded by wmu; nil once ReadLoop has ended

	reading  atomic.Bool  // Start or ReadLoop has been called
	closeBy  atomic.Int64 // 0 while open; once the server has sent close, when (unix nanos) it stops waiting for the peer's
	endMu    sync.Mutex
	end      *LeaveError // the first reason the socket ended (guarded by endMu)
	shutOnce sync.Once
	onShut   func() // runs once, after nc is closed
}

func newConn(nc net.Conn, src io.Reader, cfg *Config, remote string, onShut func()) *Conn {
	return &Conn{nc: nc, src: src, cfg: cfg, remote: remote, onShut: onShut}
}

// TextFrame returns payload as one unmasked WebSocket text frame, the bytes
// WriteFrame expects. It is called once per count flush, not once per member.
func TextFrame(payload []byte) []byte {
	return ws.MustCompileFrame(ws.NewTextFrame(payload))
}

var pingFrame = ws.MustCompileFrame(ws.NewPingFrame(nil))

// WriteFrame writes one frame made by TextFrame. It fails once a close frame
// has been sent or the socket has ended, and a write that misses its deadline
// aborts the connection: after a partial frame nothing else can follow.
func (c *Conn) WriteFrame(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.writableLocked() {
		return c.ended()
	}
	return c.writeLocked(frame)
}

// writableLocked reports whether frames may still be written: no close frame
// has gone out (RFC 6455 §5.5.1: nothing may follow it) and no write has
// failed (a partial frame may be on the wire). The caller holds wmu.
func (c *Conn) writableLocked() bool {
	return !c.closeSent && !c.broken
}

// writeLocked writes b with a deadline. The caller holds wmu.
func (c *Conn) writeLocked(b []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
	if _, err := c.nc.Write(b); err != nil {
		c.broken = true
		reason := leave.EOF
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			reason = leave.WriteTimeout
		}
		le := c.setEnd(&LeaveError{Reason: reason, Err: err})
		c.shut()
		return le
	}
	return nil
}

// writeClose sends a close frame unless one was sent already or writes are
// broken. Code 0 sends a close frame with no body (the answer to a peer's
// close that carried no code). It reports whether the frame went out now.
func (c *Conn) writeClose(code ws.StatusCode, reason string) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.writableLocked() {
		return false
	}
	c.closeSent = true
	frame := ws.CompiledClose
	if code != 0 {
		if len(reason) > ws.MaxControlFramePayloadSize-2 {
			reason = reason[:ws.MaxControlFramePayloadSize-2]
		}
		frame = ws.MustCompileFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(code, reason)))
	}
	return c.writeLocked(frame) == nil
}

// Close starts the closing handshake: it sends a close frame with code and
// reason, and ReadLoop then waits up to CloseTimeout for the peer's reply
// before closing the connection. It is idempotent and returns at once after
// the write; if the write cannot be made, the connection is closed now.
func (c *Conn) Close(code uint16, reason string) {
	_ = c.setEnd(&LeaveError{Reason: leave.ServerClose, Code: ws.StatusCode(code)}) // unless the socket has already ended
	if c.writeClose(ws.StatusCode(code), reason) {
		c.lingerUntil(time.Now().Add(c.cfg.CloseTimeout))
		return
	}
	c.wmu.Lock()
	broken := c.broken
	c.wmu.Unlock()
	if broken || !c.reading.Load() {
		c.shut() // nobody will read the reply
	}
}

// lingerUntil makes a closing socket give up on the peer's close frame at t.
// The first call wins. The deadline and the fact of closing are one atomic
// value, so whoever sees the socket closing also sees when the wait ends.
func (c *Conn) lingerUntil(t time.Time) {
	if c.closeBy.CompareAndSwap(0, t.UnixNano()) {
		_ = c.nc.SetReadDeadline(t)
	}
	if !c.reading.Load() {
		c.shut()
	}
}

// isClosing reports whether the server has sent close and waits for the
// peer's reply.
func (c *Conn) isClosing() bool { return c.closeBy.Load() != 0 }

// armReadDeadline gives the peer until the ping interval plus the pong
// timeout to send its next frame; any frame re-arms it. A closing socket
// keeps the deadline Close set.
func (c *Conn) armReadDeadline() {
	if c.isClosing() {
		return
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(c.cfg.PingInterval + c.cfg.PongTimeout))
	if by := c.closeBy.Load(); by != 0 { // Close raced us: restore its deadline
		_ = c.nc.SetReadDeadline(time.Unix(0, by))
	}
}

// startPinging pings the peer every PingInterval until stopPinging. The
// timer runs a short-lived goroutine per ping, so an idle socket costs no
// goroutine for it.
func (c *Conn) startPinging() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.pinger = time.AfterFunc(c.cfg.PingInterval, c.ping)
}

func (c *Conn) ping() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.pinger == nil || !c.writableLocked() {
		return
	}
	if c.writeLocked(pingFrame) == nil {
		c.pinger.Reset(c.cfg.PingInterval)
	}
}

func (c *Conn) stopPinging() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.pinger != nil {
		c.pinger.Stop()
		c.pinger = nil
	}
}

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

// shut closes the connection now, once, and releases its slot.
func (c *Conn) shut() {
	c.shutOnce.Do(func() {
		_ = c.nc.Close()
		if c.onShut != nil {
			c.onShut()
		}
	})
}

// drainAndShut ends a connection the server has given up on (its input broke
// the protocol or a limit) after telling it why: it sends FIN so the peer
// reads the close frame and then EOF, discards what the peer still sends for
// up to CloseTimeout (closing with unread input would send RST, and the peer
// might lose the close frame), then closes.
func (c *Conn) drainAndShut() {
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(c.cfg.CloseTimeout))
	_, _ = io.CopyN(io.Discard, c.src, maxDrain)
	c.shut()
}

// maxDrain bounds what drainAndShut reads from a peer that keeps sending.
const maxDrain = 1 << 20
