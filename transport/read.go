package transport

import (
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"golang.org/x/time/rate"

	"presence/internal/leave"
)

// Start satisfies actors.Socket: it runs ReadLoop on a goroutine of its own
// and hands its result to onEnd. The socket counts as reading from the call
// on, so that a Close or a shutdown from then on waits for the peer's reply.
func (c *Conn) Start(onText func(msg []byte), onEnd func(err error)) {
	if !c.reading.CompareAndSwap(false, true) {
		onEnd(errReadTwice)
		return
	}
	go func() { onEnd(c.readLoop(onText)) }()
}

var errReadTwice = errors.New("transport: a socket's reading started twice")

// ReadLoop reads the socket until the peer leaves, the input breaks a rule,
// or a closing handshake the server started completes. It calls onText with
// every complete text message (a fresh slice), answers pings, and pings the
// peer itself. It returns a *LeaveError saying why the socket ended, and the
// connection is closed when it returns. It is Start's blocking form.
//
// What it refuses, and how (docs/architecture.md §6): a protocol violation → close 1002;
// a binary message → 1003; invalid UTF-8 in a text message → 1007; more
// messages than the rate limit → 1008; a message over MaxMessageSize → 1009,
// decided from frame headers before the payload is read; silence past
// PingInterval+PongTimeout → dropped without a close frame.
func (c *Conn) ReadLoop(onText func(msg []byte)) error {
	if !c.reading.CompareAndSwap(false, true) {
		return errReadTwice
	}
	return c.readLoop(onText)
}

func (c *Conn) readLoop(onText func(msg []byte)) error {
	c.startPinging()
	defer c.stopPinging()

	r := &reader{
		c:      c,
		onText: onText,
		limit:  rate.NewLimiter(rate.Limit(c.cfg.RateLimit), c.cfg.RateBurst),
	}
	r.rd = wsutil.Reader{
		Source:         c.src,
		State:          ws.StateServerSide,
		CheckUTF8:      true,
		MaxFrameSize:   c.cfg.MaxMessageSize,
		MaxMessageSize: c.cfg.MaxMessageSize,
		OnContinuation: r.onContinuation,
		OnIntermediate: r.onIntermediate,
	}
	le := r.run()
	c.shut()
	return le
}

// reader is the state of one ReadLoop.
type reader struct {
	c         *Conn
	rd        wsutil.Reader
	onText    func([]byte)
	limit     *rate.Limiter
	fragments int64 // frames of the message being read
}

func (r *reader) run() *LeaveError {
	c := r.c
	for {
		c.armReadDeadline()
		hdr, err := r.rd.NextFrame()
		if err != nil {
			return r.endOnReadError(err)
		}
		if hdr.OpCode.IsControl() {
			if le := r.control(hdr, &r.rd); le != nil {
				return le
			}
			continue
		}

		// The first frame of a data message.
		if c.isClosing() {
			// Closing: the peer's messages no longer matter, only its close frame.
			if err := r.rd.Discard(); err != nil {
				return r.endOnReadError(err)
			}
			continue
		}
		if !r.limit.Allow() {
			return r.refuse(&LeaveError{Reason: leave.Policy, Code: ws.StatusPolicyViolation}, "rate limit exceeded")
		}
		if hdr.OpCode == ws.OpBinary {
			return r.refuse(&LeaveError{Reason: leave.Policy, Code: ws.StatusUnsupportedData}, "binary messages are not supported")
		}
		msg, err := r.readMessage(hdr)
		if err != nil {
			return r.endOnReadError(err)
		}
		r.onText(msg)
	}
}

// readMessage reads the rest of a text message whose first frame is hdr.
// wsutil.Reader crosses fragment boundaries itself, calling onContinuation
// and onIntermediate on the way; its size limits and UTF-8 check apply. The
// buffer grows only as bytes arrive, never to a length the peer declared.
func (r *reader) readMessage(hdr ws.Header) ([]byte, error) {
	r.fragments = 1
	buf := make([]byte, 0, min(hdr.Length, 512)+1)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, len(buf))
		}
		n, err := r.rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			return nil, err
		}
	}
}

// onContinuation runs for each continuation frame. Every frame costs at
// least one byte of the message budget, so a flood of empty fragments is
// refused like an oversized message.
func (r *reader) onContinuation(ws.Header, io.Reader) error {
	r.c.armReadDeadline()
	r.fragments++
	if r.fragments > r.c.cfg.MaxMessageSize {
		return errTooManyFragments
	}
	return nil
}

// onIntermediate runs for a control frame between the fragments of a message.
func (r *reader) onIntermediate(hdr ws.Header, body io.Reader) error {
	r.c.armReadDeadline()
	if le := r.control(hdr, body); le != nil {
		return le
	}
	return nil
}

// control handles a ping, pong or close frame; body yields its payload
// (at most 125 bytes: CheckHeader has seen to that).
func (r *reader) control(hdr ws.Header, body io.Reader) *LeaveError {
	payload := make([]byte, hdr.Length)
	if _, err := io.ReadFull(body, payload); err != nil {
		return r.endOnReadError(err)
	}
	if hdr.OpCode == ws.OpClose {
		return r.peerClosed(payload)
	}
	if !r.limit.Allow() {
		return r.refuse(&LeaveError{Reason: leave.Policy, Code: ws.StatusPolicyViolation}, "rate limit exceeded")
	}
	if hdr.OpCode == ws.OpPing {
		r.c.wmu.Lock()
		defer r.c.wmu.Unlock()
		if r.c.writableLocked() {
			if err := r.c.writeLocked(ws.MustCompileFrame(ws.NewPongFrame(payload))); err != nil {
				return r.c.ended()
			}
		}
	}
	return nil // a pong: its arrival has already re-armed the read deadline
}

// peerClosed answers the peer's close frame (RFC 6455 §5.5.1, §7.4) and ends
// the loop. A valid close is echoed with its code; a one-byte payload or an
// unknown code is a protocol error (1002), a reason that is not UTF-8 is 1007.
func (r *reader) peerClosed(payload []byte) *LeaveError {
	c := r.c
	switch {
	case len(payload) == 1:
		return r.refuse(&LeaveError{Reason: leave.ProtocolError, Code: ws.StatusProtocolError}, "invalid close frame")
	case len(payload) >= 2:
		code := ws.StatusCode(binary.BigEndian.Uint16(payload))
		reason := payload[2:]
		if !utf8.Valid(reason) {
			return r.refuse(&LeaveError{Reason: leave.Policy, Code: ws.StatusInvalidFramePayloadData}, "invalid UTF-8 in close reason")
		}
		if !validCloseCode(code) {
			return r.refuse(&LeaveError{Reason: leave.ProtocolError, Code: ws.StatusProtocolError}, "invalid close code")
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

// endOnReadError ends the loop after a read error, refusing the peer (see
// refuse) when the error is its fault.
func (r *reader) endOnReadError(err error) *LeaveError {
	le, text := classify(err)
	if r.c.isClosing() {
		// The server's own close is under way: whatever ends the wait (the
		// deadline, the peer's EOF) completes it.
		return r.c.ended()
	}
	if le.Code == 0 {
		return r.c.setEnd(le)
	}
	return r.refuse(le, text)
}

// refuse ends the loop because the peer broke a rule: it records le, sends
// its close code with text, and drains the connection, since the frames that
// follow are not worth parsing.
func (r *reader) refuse(le *LeaveError, text string) *LeaveError {
	le = r.c.setEnd(le)
	if r.c.writeClose(le.Code, text) {
		r.c.drainAndShut()
	}
	return le
}
