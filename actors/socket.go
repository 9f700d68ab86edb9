package actors

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"presence/internal/leave"
	"presence/internal/wheel"
	"presence/internal/wire"
	"presence/internal/workpool"
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

	// WriteFrame writes one frame made by Options.Frame. It should not block:
	// Members run on a small pool of workers (Options.Pool), so a write that
	// waits holds one of them. transport.Conn never waits: it queues what the
	// kernel does not take and ends the socket (write_timeout) if the queue
	// does not drain within its write deadline. It is safe to call while the
	// socket reads, and must not keep or modify frame: the same bytes go to
	// every member of a room.
	WriteFrame(frame []byte) error

	// Close starts closing the socket with a close code and a short reason. It
	// is idempotent, never blocks longer than one write deadline, and makes
	// the socket call onEnd soon after.
	Close(code uint16, reason string)
}

// MessageWriter is implemented by a Socket that does not speak /ws's JSON
// frames, or whose format changes while it is open: a Socket.IO session
// long-polls first and may upgrade to a WebSocket. The Member then hands it
// every message whole (instead of calling WriteFrame), and the socket takes
// the encoding it needs at the moment it writes. Otherwise WriteMessage has
// WriteFrame's contract.
type MessageWriter interface {
	WriteMessage(m wire.Message) error
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
	// It makes the wire.JSON format.
	Frame func(payload []byte) []byte

	// Encoders encode the events for the other wire formats, indexed by
	// wire.Format (main sets the Socket.IO ones). An entry left nil, and the
	// wire.JSON entry always, is the JSON of wire.go through Frame.
	Encoders [wire.NumFormats]Encoder

	// MaxBadMessages is how many unusable client messages a connection may
	// send (each answered with an error event) before it is closed with 1008.
	// Default DefaultMaxBadMessages.
	MaxBadMessages int

	// Observer receives metric events. Default: none.
	Observer Observer

	// Logger gets one line per leave worth an operator's time. Default: slog.Default().
	Logger *slog.Logger

	// Pool runs every actor of the tree (their mailboxes, see mailbox.go).
	// main shares it with the transport, so that socket reads and actor runs
	// stay within one bound. Default: a pool of workpool.DefaultMax workers.
	Pool *workpool.Pool

	pacer *wheel.Wheel // the Members' write pacing (Member.deliver)

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
	o.Encoders[wire.JSON] = jsonEncoder{o.Frame}
	for i := range o.Encoders {
		if o.Encoders[i] == nil {
			o.Encoders[i] = o.Encoders[wire.JSON]
		}
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
	if o.Pool == nil {
		o.Pool = workpool.New(0)
	}
	o.pacer = wheel.New(max(o.FlushInterval/10, time.Millisecond), 16)
	if o.ClusterWait <= 0 {
		o.ClusterWait = DefaultClusterWait
	}
	return &o
}

// throughput is how many messages an actor handles in one turn on a worker
// before it lets the others have theirs (protoactor's default).
const throughput = 300

// props returns Props for a Member: run on the pool, with the tree's
// mailbox.
func (o *Options) props(producer actor.Producer, opts ...actor.PropsOption) *actor.Props {
	return o.propsOf(producer, false, opts...)
}

// coordinatorProps returns Props for Rooms and a Room: their turns are
// queued ahead of the members' (a flush queues one turn per member), so a
// join, a leave's recount or a CountRequest never waits behind a fan-out.
func (o *Options) coordinatorProps(producer actor.Producer, opts ...actor.PropsOption) *actor.Props {
	return o.propsOf(producer, true, opts...)
}

func (o *Options) propsOf(producer actor.Producer, urgent bool, opts ...actor.PropsOption) *actor.Props {
	opts = append(opts,
		actor.WithMailbox(newMailboxProducer(o.Pool, throughput, urgent)),
		actor.WithDispatcher(poolDispatcher{pool: o.Pool, throughput: throughput}))
	return actor.PropsFromProducer(producer, opts...)
}

// Encoder writes the server's two events in one wire format. Its methods
// must be safe for concurrent use: Count runs once per flush and format, in
// whichever member first needs that format (CountFrame.Encoded).
type Encoder interface {
	Count(room string, users int, seq uint64) []byte // the "user count" event
	Error(code, message string) []byte               // the "error" event answering an unusable client message
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
