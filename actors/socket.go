package actors

import (
	"errors"
	"log/slog"
	"time"
)

// Socket is what a Conn needs from a client connection. transport.Conn
// implements it; tests use fakes.
type Socket interface {
	// WriteFrame writes one frame made by Options.Frame. It returns when the
	// bytes are written or the socket's write deadline has passed, and is safe
	// to call while ReadLoop runs. It must not keep or modify frame: the same
	// bytes go to every member of a room.
	WriteFrame(frame []byte) error

	// Close starts closing the socket with a close code and a short reason. It
	// is idempotent, never blocks longer than one write deadline, and makes
	// ReadLoop return soon after.
	Close(code uint16, reason string) error

	// ReadLoop reads until the peer leaves or Close completes, calling onText
	// with each complete text message (a fresh slice the callee may keep). It
	// returns why the socket ended; see LeaveReason.
	ReadLoop(onText func(msg []byte)) error
}

// Close codes a Conn sends (RFC 6455 §7.4.1). They are plain numbers so that
// this package does not depend on a WebSocket library.
const (
	CloseGoingAway      uint16 = 1001 // server shutting down, or the room was stopped
	ClosePolicy         uint16 = 1008 // the client kept sending messages we cannot use
	CloseInternalError  uint16 = 1011 // the Conn actor failed
	closeReasonShutdown        = "server shutting down"
)

// Leave reasons a Conn records on its own; the socket reports the others
// (close_frame, eof, ping_timeout, protocol_error, policy, write_timeout …)
// through an error with a LeaveReason method.
const (
	ReasonShutdown     = "shutdown"      // the server (or the room) stopped the member
	ReasonCrash        = "crash"         // the Conn actor panicked and was stopped
	ReasonPolicy       = "policy"        // too many unusable messages
	ReasonWriteTimeout = "write_timeout" // a write did not finish within the deadline
	ReasonUnknown      = "unknown"       // the socket ended with an error that names no reason
)

// LeaveReason returns the metric label for why a socket ended: the reason
// carried by err (an error with a LeaveReason() string method anywhere in its
// chain), else ReasonUnknown.
func LeaveReason(err error) string {
	var r interface{ LeaveReason() string }
	if errors.As(err, &r) {
		return r.LeaveReason()
	}
	return ReasonUnknown
}

// Observer receives the events the presence metrics are made of. Every method
// may be called from any actor's goroutine at the same time, so
// implementations must be safe for concurrent use and cheap: FrameWritten is
// called once per member per flush.
type Observer interface {
	Joined()                         // a member went live
	Left(reason string)              // a member left, and why
	Flushed(coalesced int)           // a count went out; coalesced changes got no frame of their own
	FrameWritten()                   // one count frame was written to a socket
	FrameSkipped()                   // a member skipped a count because it had already written a newer one
	SlowConsumer()                   // a member was dropped because a write timed out
	PushLatency(d time.Duration)     // first membership change of a flush → its last member handled it
	RoomsChanged(rooms, members int) // rooms alive, and members in them as last pushed
	BadMessage()                     // a client message was answered with an error event
}

// Options configure the actor tree. Zero fields take the defaults listed.
type Options struct {
	// FlushInterval is the coalescing window: a member gets at most one count
	// frame per interval. Default 50 ms.
	FlushInterval time.Duration

	// Frame turns a JSON payload into the bytes Socket.WriteFrame writes
	// (transport.TextFrame: a WebSocket text frame). Default: the payload as is.
	Frame func(payload []byte) []byte

	// MaxBadMessages is how many unusable client messages a connection may
	// send (each answered with an error event) before it is closed with 1008.
	// Default 10.
	MaxBadMessages int

	// Observer receives metric events. Default: none.
	Observer Observer

	// Logger gets one line per leave worth an operator's time. Default: slog.Default().
	Logger *slog.Logger
}

// withDefaults returns a copy of o with every zero field set.
func (o Options) withDefaults() *Options {
	if o.FlushInterval <= 0 {
		o.FlushInterval = 50 * time.Millisecond
	}
	if o.Frame == nil {
		o.Frame = func(p []byte) []byte { return p }
	}
	if o.MaxBadMessages <= 0 {
		o.MaxBadMessages = 10
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &o
}

type nopObserver struct{}

func (nopObserver) Joined()                   {}
func (nopObserver) Left(string)               {}
func (nopObserver) Flushed(int)               {}
func (nopObserver) FrameWritten()             {}
func (nopObserver) FrameSkipped()             {}
func (nopObserver) SlowConsumer()             {}
func (nopObserver) PushLatency(time.Duration) {}
func (nopObserver) RoomsChanged(int, int)     {}
func (nopObserver) BadMessage()               {}
