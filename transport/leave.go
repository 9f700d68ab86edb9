package transport

import (
	"errors"
	"fmt"
	"net"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// Leave reasons a socket reports: the values of the presence_leaves_total
// reason label that come from the network side.
const (
	ReasonCloseFrame    = "close_frame"    // the client sent a close frame
	ReasonEOF           = "eof"            // the connection ended without one (EOF, reset)
	ReasonPingTimeout   = "ping_timeout"   // nothing arrived within ping interval + pong timeout
	ReasonWriteTimeout  = "write_timeout"  // a write did not finish within the write deadline
	ReasonProtocolError = "protocol_error" // RFC 6455 violation: closed with 1002
	ReasonPolicy        = "policy"         // input we refuse (binary, bad UTF-8, too big, too fast): 1003/1007/1008/1009
	ReasonServerClose   = "server_close"   // the server closed it (the caller chose the reason)
)

// LeaveError says why a socket ended. It is what ReadLoop returns, and what
// writes return once the socket has ended.
type LeaveError struct {
	Reason string        // one of the Reason constants
	Code   ws.StatusCode // the close code the server sent, 0 if none
	Err    error         // the underlying cause, if any
}

func (e *LeaveError) Error() string {
	s := "websocket ended: " + e.Reason
	if e.Code != 0 {
		s += fmt.Sprintf(" (close %d)", e.Code)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *LeaveError) Unwrap() error { return e.Err }

// LeaveReason lets the actors package read the reason without importing
// this one.
func (e *LeaveError) LeaveReason() string { return e.Reason }

// CloseCode is the close code the server sent, 0 if none.
func (e *LeaveError) CloseCode() uint16 { return uint16(e.Code) }

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
		return &LeaveError{Reason: ReasonPolicy, Code: ws.StatusMessageTooBig, Err: err}, "message too big"
	case errors.Is(err, wsutil.ErrInvalidUTF8):
		return &LeaveError{Reason: ReasonPolicy, Code: ws.StatusInvalidFramePayloadData, Err: err}, "invalid UTF-8 in text message"
	case errors.As(err, &protocol), errors.Is(err, ws.ErrHeaderLengthMSB), errors.Is(err, ws.ErrHeaderLengthUnexpected):
		return &LeaveError{Reason: ReasonProtocolError, Code: ws.StatusProtocolError, Err: err}, "protocol error"
	case errors.As(err, &netErr) && netErr.Timeout():
		return &LeaveError{Reason: ReasonPingTimeout, Err: err}, ""
	default:
		// io.EOF, io.ErrUnexpectedEOF, ECONNRESET, net.ErrClosed: the peer is gone.
		return &LeaveError{Reason: ReasonEOF, Err: err}, ""
	}
}
