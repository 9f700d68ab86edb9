package actors

import (
	"log/slog"
	"time"

	"presence/internal/leave"
)

// Socket is what a Member needs from a client connection. transport.Conn
// implements it; tests use fakes.
type Socket interface {
	// Start begins reading and returns at once; the Member calls it once.
	// Until the peer leaves or Close completes, the socket calls onText with
	// each complete text message (a fresh slice the callee may keep), one call
	// at a time; then it calls onEnd exactly once with why the socket ended (a
	// leave.Error when it knows the reason). The callbacks run on whatever
	// goroutine reads the socket, so they must only hand the event on.
	Start(onText func(msg []byte), onEnd func(err error))

	// WriteFrame writes one frame made by Options.Frame. It returns when the
	// bytes are written or the socket's write deadline has passed, and is safe
	// to call while the socket reads. It must not keep or modify frame: the
	// same bytes go to every member of a room.
	WriteFrame(frame []byte) error

	// Close starts closing the socket with a close code and a short reason. It
	// is idempotent, never blocks longer than one write deadline, and makes
	// the socket call onEnd soon after.
	Close(code uint16, reason string)
}

// Close codes a Member sends (RFC 6455 §7.4.1). They are plain numbers so that
// this package does not depend on a WebSocket library.
const (
	CloseGoingAway      uint16 = 1001 // server shutting down, or the room was stopped
	ClosePolicy         uint16 = 1008 // the client kept sending messages we cannot use
	CloseInternalError  uint16 = 1011 // the Member actor failed
	closeReasonShutdown        = "server shutting down"
)

// Observer receives the events the presence metrics are made of. Every method
// may be called from any actor's goroutine at the same time, so
// implementations must be safe for concurrent use and cheap: FrameWritten is
// called once per member per flush.
type Observer interface {
	Joined()                         // a member went live
	Left(reason leave.Reason)        // a member left, and why
	Flushed(coalesced int)           // a count went out; coalesced changes got no frame of their own
	FrameWritten()                   // one count frame was written to a socket
	FrameSkipped()                   // a member skipped a count because it had already written a newer one
	SlowConsumer()                   // a member was dropped because a write timed out
	PushLatency(d time.Duration)     // first membership change of a flush → its last member handled it
	RoomsChanged(rooms, members int) // rooms alive, and members in them as last pushed
	BadMessage()                     // a client message was answered with an error event
}

// Defaults of the Options fields a zero value leaves unset.
const (
	DefaultFlushInterval  = 50 * time.Millisecond
	DefaultMaxBadMessages = 10
)

// Options configure the actor tree. Zero fields take the defaults listed.
type Options struct {
	// FlushInterval is the coalescing window: a member gets at most one count
	// frame per interval. Default DefaultFlushInterval.
	FlushInterval time.Duration

	// Frame turns a JSON payload into the bytes Socket.WriteFrame writes
	// (transport.TextFrame: a WebSocket text frame). Default: the payload as is.
	Frame func(payload []byte) []byte

	// MaxBadMessages is how many unusable client messages a connection may
	// send (each answered with an error event) before it is closed with 1008.
	// Default DefaultMaxBadMessages.
	MaxBadMessages int

	// Observer receives metric events. Default: none.
	Observer Observer

	// Logger gets one line per leave worth an operator's time. Default: slog.Default().
	Logger *slog.Logger

	// Cluster, when set, makes every room span the processes of a cluster
	// (see Cluster). Default: nil, one process.
	Cluster Cluster

	// ClusterWait bounds how long a new Room in a cluster waits for the
	// cluster's first answer before its first push. Default DefaultClusterWait.
	ClusterWait time.Duration
}

// withDefaults returns a copy of o with every zero field set.
func (o Options) withDefaults() *Options {
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.Frame == nil {
		o.Frame = func(p []byte) []byte { return p }
	}
	if o.MaxBadMessages <= 0 {
		o.MaxBadMessages = DefaultMaxBadMessages
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ClusterWait <= 0 {
		o.ClusterWait = DefaultClusterWait
	}
	return &o
}

type nopObserver struct{}

func (nopObserver) Joined()                   {}
func (nopObserver) Left(leave.Reason)         {}
func (nopObserver) Flushed(int)               {}
func (nopObserver) FrameWritten()             {}
func (nopObserver) FrameSkipped()             {}
func (nopObserver) SlowConsumer()             {}
func (nopObserver) PushLatency(time.Duration) {}
func (nopObserver) RoomsChanged(int, int)     {}
func (nopObserver) BadMessage()               {}
