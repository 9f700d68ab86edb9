// Package wire names the forms a server event takes on the wire, so that the
// actor tree, which encodes each event once and shares the bytes, and the
// network edges, which know what each of their sockets needs, agree without
// importing each other. Like internal/leave, it imports nothing of ours.
//
// One count flush is one Message. A socket asks it for the Format it needs
// at the moment it writes: a /ws socket always wants JSON; a Socket.IO
// session wants SocketIOPacket while it long-polls and SocketIOFrame once it
// has upgraded to a WebSocket. The Message encodes each format at most once,
// however many sockets ask (docs/architecture.md §4).
package wire

// Format is one encoding of the server's events.
type Format uint8

const (
	// JSON is /ws's: one WebSocket text frame holding
	// {"event":"user count","data":{…}}.
	JSON Format = iota
	// SocketIOFrame is Socket.IO v5 over Engine.IO v4 on a WebSocket: one
	// text frame holding the Engine.IO message packet 42["user count",…].
	SocketIOFrame
	// SocketIOPacket is the same Engine.IO packet, 42["user count",…], on
	// its own: a long-polling response joins packets with \x1e.
	SocketIOPacket

	// NumFormats is how many formats there are, for arrays indexed by Format.
	NumFormats
)

// String names the format, for logs and test failures.
func (f Format) String() string {
	switch f {
	case JSON:
		return "json"
	case SocketIOFrame:
		return "socketio-frame"
	case SocketIOPacket:
		return "socketio-packet"
	}
	return "unknown"
}

// Message is one server event, ready in every format. Implementations are
// safe for concurrent use and never change the bytes they return, which
// callers must not modify either: the same bytes go to many sockets.
type Message interface {
	// Encoded returns the event in format f, encoding it on the first call
	// for f.
	Encoded(f Format) []byte

	// KeepLatest reports whether only the newest message of this kind
	// matters (a count: the newest replaces any older one not yet sent), so
	// that a socket which queues messages may drop older ones instead of
	// piling them up.
	KeepLatest() bool
}
