package transport

import (
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/gobwas/ws"

	"presence/internal/leave"
)

// TextFrame returns payload as one unmasked WebSocket text frame, the bytes
// WriteFrame expects. A count is framed once per flush and format (the
// wire.Message keeps the bytes), not once per member.
func TextFrame(payload []byte) []byte {
	return ws.MustCompileFrame(ws.NewTextFrame(payload))
}

var pingFrame = ws.MustCompileFrame(ws.NewPingFrame(nil))

// maxPending bounds what a socket may owe its peer. A peer that lets this
// much pile up (counts come at most one per flush interval) is a reader too
// slow to keep, like one whose write misses its deadline.
const maxPending = 64 << 10

// WriteFrame writes one frame made by TextFrame. It never blocks: what the
// kernel does not take at once is queued and written by a goroutine that
// lives only until the queue is empty, under the write deadline (a queue
// that does not drain by then ends the socket with write_timeout). It fails
// once a close frame has been sent or the socket has ended. frame is not
// kept: the same bytes go to every member of a room.
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

// writeLocked writes b, or queues what the kernel does not take. The caller
// holds wmu. In the common case (an empty queue, room in the socket buffer)
// it is one write(2) and allocates nothing.
func (c *Conn) writeLocked(b []byte) error {
	if c.flushing {
		if len(c.pending)+len(b) > maxPending {
			return c.abortLocked(leave.WriteTimeout, errors.New("write queue full: the peer does not read"))
		}
		c.pending = append(c.pending, b...)
		return nil
	}
	if c.rc == nil {
		return c.writeBlockingLocked(b)
	}
	n, err := c.tryWrite(b)
	switch {
	case err == nil && n == len(b):
		return nil
	case err != nil && !errors.Is(err, syscall.EAGAIN):
		return c.abortLocked(leave.EOF, err)
	}
	c.pending = append(c.pending[:0], b[max(n, 0):]...)
	c.flushing = true
	c.writeBy = mono() + int64(c.e.cfg.WriteTimeout)
	go c.flush()
	return nil
}

// writeBlockingLocked writes b under the write deadline, for a connection
// without a descriptor (net.Pipe in tests). The caller holds wmu.
func (c *Conn) writeBlockingLocked(b []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.e.cfg.WriteTimeout))
	if _, err := c.nc.Write(b); err != nil {
		return c.abortLocked(writeReason(err), err)
	}
	return nil
}

// flush writes the queue until it is empty, blocking under the deadline set
// when the queue began; frames written meanwhile join the queue. It is the
// only goroutine a socket ever has in the poll mode, and only while its
// peer is slow to read.
func (c *Conn) flush() {
	for {
		c.wmu.Lock()
		b, by := c.pending, c.writeBy
		if len(b) == 0 || c.broken {
			c.flushing = false
			fin, shut := c.finAfter && !c.broken, c.shutAfter
			c.wmu.Unlock()
			if fin {
				c.halfClose()
			}
			if shut {
				c.shut()
			}
			return
		}
		c.pending = nil
		c.wmu.Unlock()

		_ = c.nc.SetWriteDeadline(monoTime(by))
		if _, err := c.nc.Write(b); err != nil {
			c.wmu.Lock()
			_ = c.abortLocked(writeReason(err), err)
			c.flushing = false
			c.wmu.Unlock()
			return
		}
	}
}

// abortLocked ends the socket after a failed write: after a partial frame
// nothing else can follow. The caller holds wmu.
func (c *Conn) abortLocked(reason leave.Reason, err error) error {
	c.broken = true
	c.pending = nil
	le := c.setEnd(&LeaveError{Reason: reason, Err: err})
	c.shut()
	c.wakeReader()
	return le
}

// writeReason tells a write that missed its deadline from a peer that is gone.
func writeReason(err error) leave.Reason {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return leave.WriteTimeout
	}
	return leave.EOF
}

// writeClose sends a close frame unless one was sent already or writes are
// broken. Code 0 sends a close frame with no body (the answer to a peer's
// close that carried no code). It reports whether the frame went out (or
// is queued to).
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

// finishWrites half-closes the connection (FIN) once everything queued is
// written, so the peer reads the close frame and then EOF.
func (c *Conn) finishWrites() {
	c.wmu.Lock()
	if c.flushing {
		c.finAfter = true
		c.wmu.Unlock()
		return
	}
	c.wmu.Unlock()
	c.halfClose()
}

func (c *Conn) halfClose() {
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}

// ping sends a ping frame, if frames may still be sent.
func (c *Conn) ping() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.writableLocked() {
		_ = c.writeLocked(pingFrame)
	}
}
