package transport

import (
	"errors"
	"fmt"
	"net"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"presence/internal/leave"
)

// LeaveError says why a socket ended. It is what ReadLoop returns, and what
// writes return once the socket has ended.
type LeaveError struct {
	Reason leave.Reason  // one of the reasons the network edge reports
	Code   ws.StatusCode // the close code the server sent, 0 if none
	Err    error         // the underlying cause, if any
}

func (e *LeaveError) Error() string {
	s := "websocket ended: " + string(e.Reason)
	if e.Code != 0 {
		s += fmt.Sprintf(" (close %d)", e.Code)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *LeaveError) Unwrap() error { return e.Err }

// LeaveReason makes LeaveError a leave.Error, which the actor tree reads
// without importing this package.
func (e *LeaveError) LeaveReason() leave.Reason { return e.Reason }

// errTooManyFragments: a message split into more frames than it may have
// bytes; see Config.MaxMessageSize.
var errTooManyFragments = errors.New("too many fragments")

// classify turns a read error into a LeaveError and the close frame to send
// (code 0: none, the connection is gone or silent).
func classify(err error) (le *LeaveError, text string) {
	var own *LeaveError
	var protocol ws.ProtocolError
	var netErr net.Error
	switch {
	case errors.As(err, &own):
		return own, ""
	case errors.Is(err, wsutil.ErrFrameTooLarge), errors.Is(err, wsutil.ErrMessageTooLarge), errors.Is(err, errTooManyFragments):
		return &LeaveError{Reason: leave.Policy, Code: ws.StatusMessageTooBig, Err: err}, "message too big"
	case errors.Is(err, wsutil.ErrInvalidUTF8):
		return &LeaveError{Reason: leave.Policy, Code: ws.StatusInvalidFramePayloadData, Err: err}, "invalid UTF-8 in text message"
	case errors.As(err, &protocol), errors.Is(err, ws.ErrHeaderLengthMSB), errors.Is(err, ws.ErrHeaderLengthUnexpected):
		return &LeaveError{Reason: leave.ProtocolError, Code: ws.StatusProtocolError, Err: err}, "protocol error"
	case errors.As(err, &netErr) && netErr.Timeout():
		return &LeaveError{Reason: leave.PingTimeout, Err: err}, ""
	default:
		// io.EOF, io.ErrUnexpectedEOF, ECONNRESET, net.ErrClosed: the peer is gone.
		return &LeaveError{Reason: leave.EOF, Err: err}, ""
	}
}
