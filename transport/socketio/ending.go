package socketio

import (
	"presence/internal/leave"
)

// ending says why a session ends and how each of its transports is told.
// It is the error a Member's onEnd receives (a leave.Error).
type ending struct {
	reason leave.Reason
	text   string
	code   uint16 // close code for a WebSocket still open; 0 leaves it alone (it has ended)
	reply  []byte // what a pending poll is answered with; nil: Engine.IO's close packet
	cause  error  // the transport's own error, when it ended the session
}

func (e *ending) Error() string {
	s := "socket.io session ended: " + string(e.reason)
	if e.text != "" {
		s += ": " + e.text
	}
	return s
}

// LeaveReason makes an ending a leave.Error, which the actor tree reads.
func (e *ending) LeaveReason() leave.Reason { return e.reason }

func (e *ending) Unwrap() error { return e.cause }

// WebSocket close codes (RFC 6455 §7.4.1) a session closes its WebSocket with.
const (
	closeNormal      uint16 = 1000
	closeGoingAway   uint16 = 1001
	closeProtocol    uint16 = 1002
	closeUnsupported uint16 = 1003
	closePolicy      uint16 = 1008
)

// The ways a session ends. A pending poll is answered with Engine.IO's close
// packet when the server ends the session, with a noop when the client did.
func clientClosed(text string) *ending {
	return &ending{reason: leave.CloseFrame, text: text, code: closeNormal, reply: pktNoop}
}

func protocolError(text string) *ending {
	return &ending{reason: leave.ProtocolError, text: text, code: closeProtocol, reply: pktClose}
}

func policyError(text string) *ending {
	return &ending{reason: leave.Policy, text: text, code: closePolicy, reply: pktClose}
}

func binaryRefused() *ending {
	return &ending{reason: leave.Policy, text: errBinary.Error(), code: closeUnsupported, reply: pktClose}
}

func pongMissed() *ending {
	return &ending{reason: leave.PingTimeout, text: "no pong within the ping timeout", code: closeGoingAway, reply: pktClose}
}

// serverClosed is the end of a close the server started (Session.Close or
// Shutdown): its close packets went out, or the wait for them is over.
func serverClosed(reason leave.Reason, code uint16, text string) *ending {
	return &ending{reason: reason, text: text, code: code, reply: pktClose}
}

// transportEnded wraps the error its WebSocket or its pending poll ended with.
func transportEnded(reason leave.Reason, err error) *ending {
	e := &ending{reason: reason, cause: err}
	if err != nil {
		e.text = err.Error()
	}
	return e
}
