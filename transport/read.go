package transport

import (
	"encoding/binary"
	"errors"
	"io"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"golang.org/x/time/rate"

	"presence/internal/leave"
)

// Start satisfies actors.Socket: it returns at once, and the socket is read
// from then on by the edge's read mode — the poller and its workers, or a
// goroutine of its own (the fallback) — until onEnd. The socket counts as
// reading from the call on, so that a Close or a shutdown from then on waits
// for the peer's reply.
func (c *Conn) Start(onText func(msg []byte), onEnd func(err error)) {
	if !c.reading.CompareAndSwap(false, true) {
		onEnd(errReadTwice)
		return
	}
	c.onText, c.onEnd = onText, onEnd
	c.startTimers()
	if p := c.e.poll; p != nil && c.rc != nil {
		c.svc.Store(svcIdle)
		if err := p.add(c); err != nil {
			// Shut already (the service ends it), or epoll refused the
			// descriptor: drop the client, which reconnects.
			_ = c.setEnd(&LeaveError{Reason: leave.EOF, Err: err})
			c.shut()
		}
		c.wake() // bytes may have arrived before the registration
		return
	}
	go func() { c.onEnd(c.readLoop()) }()
}

var errReadTwice = errors.New("transport: a socket's reading started twice")

// ReadLoop reads the socket on the calling goroutine until the peer leaves,
// the input breaks a rule, or a closing handshake the server started
// completes: Start's blocking form, whatever the read mode. It calls onText
// with every complete text message (a fresh slice), answers pings, and pings
// the peer itself. It returns a *LeaveError saying why the socket ended, and
// the connection is closed when it returns.
//
// What it refuses, and how (docs/architecture.md §6): a protocol violation → close 1002;
// a binary message → 1003; invalid UTF-8 in a text message → 1007, as soon
// as the bytes that make it invalid arrive; more messages than the rate
// limit → 1008; a message over MaxMessageSize → 1009, decided from frame
// headers before the payload is read; a frame not complete within
// PingInterval+PongTimeout of the one before → dropped without a close frame.
func (c *Conn) ReadLoop(onText func(msg []byte)) error {
	if !c.reading.CompareAndSwap(false, true) {
		return errReadTwice
	}
	c.onText = onText
	c.startTimers()
	return c.readLoop()
}

// readBufSize is what one read(2) asks for; a message is at most
// MaxMessageSize however it arrives.
const readBufSize = 8 << 10

// readLoop is the goroutine read mode: Read blocks in the runtime's poller.
// A deadline of the wheel's shuts the connection, which ends the Read.
func (c *Conn) readLoop() *LeaveError {
	buf := make([]byte, readBufSize)
	le := c.feed(c.early)
	c.early = nil
	for le == nil || c.draining {
		n, err := c.nc.Read(buf)
		if n > 0 {
			if l := c.feed(buf[:n]); le == nil {
				le = l
			}
		}
		if err != nil {
			if le == nil {
				le = c.endOnReadError(err)
			}
			break
		}
	}
	c.shutWhenFlushed()
	c.releaseParse()
	return le
}

// feed parses b, bytes just read from the peer, acting on every frame it
// completes. It returns nil while reading goes on, or why the read side
// ended. After a refusal it discards what the peer still sends (draining)
// until maxDrain bytes, and then reports the end again.
func (c *Conn) feed(b []byte) *LeaveError {
	if c.draining {
		c.drained += int64(len(b))
		if c.drained >= maxDrain {
			c.draining = false
		}
		return c.verdict
	}
	for len(b) > 0 {
		if c.ps == nil {
			c.ps = parsePool.Get().(*parse)
		}
		p := c.ps
		if !p.inFrame {
			used, done := p.header(b)
			b = b[used:]
			if !done {
				return nil
			}
			if le := c.beginFrame(); le != nil {
				return c.stop(le)
			}
		} else {
			k := int(min(p.left, int64(len(b))))
			if le := c.payload(b[:k]); le != nil {
				return c.stop(le)
			}
			p.left -= int64(k)
			b = b[k:]
		}
		if p.inFrame && p.left == 0 {
			if le := c.endFrame(); le != nil {
				return c.stop(le)
			}
		}
	}
	if c.ps != nil && c.ps.idle() {
		c.releaseParse()
	}
	return nil
}

// stop records the verdict of the read side; feed returns it from then on.
func (c *Conn) stop(le *LeaveError) *LeaveError {
	c.verdict = le
	c.releaseParse()
	return le
}

// releaseParse gives the parse state back to the pool.
func (c *Conn) releaseParse() {
	if c.ps != nil {
		c.ps.reset()
		parsePool.Put(c.ps)
		c.ps = nil
	}
}

// beginFrame acts on a complete frame header.
func (c *Conn) beginFrame() *LeaveError {
	p := c.ps
	if code := p.check(c.e.cfg.MaxMessageSize); code != 0 {
		text := "protocol error"
		if code == ws.StatusMessageTooBig {
			text = "message too big"
		}
		return c.refuse(&LeaveError{Reason: reasonFor(code), Code: code}, text)
	}
	p.inFrame, p.left, p.pos, p.ctlN = true, p.h.Length, 0, 0
	switch op := p.h.OpCode; {
	case op.IsControl():
	case op == ws.OpContinuation:
		p.frames++
	default: // the first frame of a data message
		p.inMsg, p.frames = true, 1
		if c.isClosing() {
			// Closing: the peer's messages no longer matter, only its close frame.
			p.discard = true
			break
		}
		if !c.allow() {
			return c.refuse(&LeaveError{Reason: leave.Policy, Code: ws.StatusPolicyViolation}, "rate limit exceeded")
		}
		if op == ws.OpBinary {
			return c.refuse(&LeaveError{Reason: leave.Policy, Code: ws.StatusUnsupportedData}, "binary messages are not supported")
		}
		p.text = true
		p.msg = make([]byte, 0, min(p.h.Length, 512))
	}
	return nil
}

// payload takes the next bytes of the current frame's payload.
func (c *Conn) payload(b []byte) *LeaveError {
	p := c.ps
	switch {
	case p.h.OpCode.IsControl():
		n := copy(p.ctl[p.ctlN:], b)
		p.unmask(p.ctl[p.ctlN : p.ctlN+n])
		p.ctlN += n
	case p.discard:
		p.pos += len(b)
	default:
		start := len(p.msg)
		p.msg = append(p.msg, b...) // grows only as bytes arrive, within the limit the header was checked against
		p.unmask(p.msg[start:])
		if p.text && !p.utf8.feed(p.msg[start:]) {
			return c.refuse(&LeaveError{Reason: leave.Policy, Code: ws.StatusInvalidFramePayloadData}, "invalid UTF-8 in text message")
		}
	}
	return nil
}

// endFrame acts on a complete frame, and gives the peer until the ping
// interval plus the pong timeout to complete its next one.
func (c *Conn) endFrame() *LeaveError {
	p := c.ps
	p.inFrame = false
	c.rearmRead()
	if p.h.OpCode.IsControl() {
		return c.control(p.h.OpCode, p.ctl[:p.ctlN])
	}
	if !p.h.Fin {
		return nil
	}
	msg, deliver := p.msg, p.text && !p.discard
	complete := p.utf8.complete()
	p.inMsg, p.text, p.discard, p.msg, p.frames, p.utf8 = false, false, false, nil, 0, utf8Stream{}
	if deliver {
		if !complete {
			return c.refuse(&LeaveError{Reason: leave.Policy, Code: ws.StatusInvalidFramePayloadData}, "invalid UTF-8 in text message")
		}
		c.onText(msg)
	}
	return nil
}

// allow takes one message from the rate limit (control frames count too).
// The limiter is made at the first message: most sockets never send one.
func (c *Conn) allow() bool {
	if c.limit == nil {
		c.limit = rate.NewLimiter(rate.Limit(c.e.cfg.RateLimit), c.e.cfg.RateBurst)
	}
	return c.limit.Allow()
}

// control handles a ping, pong or close frame's payload (at most 125 bytes).
func (c *Conn) control(op ws.OpCode, payload []byte) *LeaveError {
	if op == ws.OpClose {
		return c.peerClosed(payload)
	}
	if !c.allow() {
		return c.refuse(&LeaveError{Reason: leave.Policy, Code: ws.StatusPolicyViolation}, "rate limit exceeded")
	}
	if op == ws.OpPing {
		c.wmu.Lock()
		defer c.wmu.Unlock()
		if c.writableLocked() {
			if err := c.writeLocked(ws.MustCompileFrame(ws.NewPongFrame(payload))); err != nil {
				return c.ended()
			}
		}
	}
	return nil // a pong: its arrival has already re-armed the read deadline
}

// peerClosed answers the peer's close frame (RFC 6455 §5.5.1, §7.4) and ends
// the reading. A valid close is echoed with its code; a one-byte payload or
// an unknown code is a protocol error (1002), a reason that is not UTF-8 is
// 1007.
func (c *Conn) peerClosed(payload []byte) *LeaveError {
	switch {
	case len(payload) == 1:
		return c.refuse(&LeaveError{Reason: leave.ProtocolError, Code: ws.StatusProtocolError}, "invalid close frame")
	case len(payload) >= 2:
		code := ws.StatusCode(binary.BigEndian.Uint16(payload))
		if !utf8.Valid(payload[2:]) {
			return c.refuse(&LeaveError{Reason: leave.Policy, Code: ws.StatusInvalidFramePayloadData}, "invalid UTF-8 in close reason")
		}
		if !validCloseCode(code) {
			return c.refuse(&LeaveError{Reason: leave.ProtocolError, Code: ws.StatusProtocolError}, "invalid close code")
		}
		le := c.setEnd(&LeaveError{Reason: leave.CloseFrame, Code: code})
		c.writeClose(code, "")
		return le
	default: // no status code
		le := c.setEnd(&LeaveError{Reason: leave.CloseFrame})
		c.writeClose(0, "")
		return le
	}
}

// validCloseCode reports whether a peer may send code in a close frame:
// 1000–1003 and 1007–1014 (RFC 6455 §7.4.1 and the IANA registry it defers
// to), or an application code 3000–4999. 1004–1006 and 1015 are reserved and
// must never be sent; everything else is unassigned.
func validCloseCode(code ws.StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014, code >= 3000 && code <= 4999:
		return true
	default:
		return false
	}
}

// endOnReadError ends the reading after a read error: EOF, a reset, or the
// connection closed under the reader (a deadline of the wheel's, a failed
// write, shutdown), whose reason was recorded first.
func (c *Conn) endOnReadError(err error) *LeaveError {
	if c.isClosing() {
		// The server's own close is under way: whatever ends the wait (the
		// deadline, the peer's EOF) completes it.
		return c.ended()
	}
	if c.ps != nil && c.ps.inMsg && errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return c.setEnd(&LeaveError{Reason: leave.EOF, Err: err})
}

// refuse ends the reading because the peer broke a rule: it records le and
// sends its close code with text. If the frame went out, the connection is
// half-closed (FIN, so the peer reads the close frame and then EOF) and
// drained: what the peer still sends is discarded for up to CloseTimeout and
// maxDrain bytes, since closing with unread input would send a reset and the
// peer might lose the close frame.
func (c *Conn) refuse(le *LeaveError, text string) *LeaveError {
	le = c.setEnd(le)
	if c.writeClose(le.Code, text) {
		c.finishWrites()
		c.draining = true
		c.drainBy.Store(mono() + int64(c.e.cfg.CloseTimeout))
		c.armTimer()
	}
	return le
}

// maxDrain bounds what a refused peer that keeps sending is read for.
const maxDrain = 1 << 20

// reasonFor is the leave reason of a refusal with code.
func reasonFor(code ws.StatusCode) leave.Reason {
	if code == ws.StatusProtocolError {
		return leave.ProtocolError
	}
	return leave.Policy
}
