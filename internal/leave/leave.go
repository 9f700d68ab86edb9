// Package leave names why a member left its room: the values of the
// presence_leaves_total{reason} metric. It is a leaf that the network edge
// (which sees most endings), the actor tree (which sees the rest) and the
// metrics all import, so each reason is spelled once.
package leave

import "errors"

// Reason says why a member left. Its string is the metric label.
type Reason string

// Reasons the network edge reports, from what happened on the socket.
const (
	CloseFrame    Reason = "close_frame"    // the client sent a close frame
	EOF           Reason = "eof"            // the connection ended without one (EOF, reset)
	PingTimeout   Reason = "ping_timeout"   // nothing arrived within ping interval + pong timeout
	WriteTimeout  Reason = "write_timeout"  // a write did not finish within the write deadline
	ProtocolError Reason = "protocol_error" // an RFC 6455 violation: closed with 1002
	Policy        Reason = "policy"         // input refused (binary, bad UTF-8, too big, too fast, too many unusable messages): 1003/1007/1008/1009
	ServerClose   Reason = "server_close"   // the server closed it, for a reason its caller chose
)

// Reasons the actor tree records on its own.
const (
	Shutdown Reason = "shutdown" // the server (or the room) stopped the member
	Crash    Reason = "crash"    // the member's actor panicked and was stopped
	Unknown  Reason = "unknown"  // the socket ended with an error that names no reason
)

// All lists every reason, for metrics that show each label from the start.
func All() []Reason {
	return []Reason{CloseFrame, EOF, PingTimeout, WriteTimeout, ProtocolError, Policy, ServerClose, Shutdown, Crash, Unknown}
}

// Error is an error that knows why its socket ended. The network edge's
// errors implement it; the actor tree reads it with Of, without importing
// the edge.
type Error interface {
	error
	LeaveReason() Reason
}

// Of returns the reason carried by err (an Error anywhere in its chain),
// else Unknown.
func Of(err error) Reason {
	var e Error
	if errors.As(err, &e) {
		return e.LeaveReason()
	}
	return Unknown
}
