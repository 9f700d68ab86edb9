package socketio

import "presence/transport"

// The two wire formats of a Socket.IO member's events, for the actor tree
// (main puts them in actors.Options.Encoders): each flush encodes the count
// once per format some member needs, and every session of that format
// writes the same bytes.

// PacketEncoder encodes wire.SocketIOPacket: the Engine.IO packet alone,
// for long-polling sessions.
type PacketEncoder struct{}

// Count returns 42["user count",N,{"room":…,"seq":…}].
func (PacketEncoder) Count(room string, users int, seq uint64) []byte {
	return countPacket(room, users, seq)
}

// Error returns 42["error",{"code":…,"message":…}].
func (PacketEncoder) Error(code, message string) []byte { return errorPacket(code, message) }

// FrameEncoder encodes wire.SocketIOFrame: the same packet as a WebSocket
// text frame, for sessions on a WebSocket.
type FrameEncoder struct{}

// Count returns PacketEncoder's count in a text frame.
func (FrameEncoder) Count(room string, users int, seq uint64) []byte {
	return transport.TextFrame(countPacket(room, users, seq))
}

// Error returns PacketEncoder's error event in a text frame.
func (FrameEncoder) Error(code, message string) []byte {
	return transport.TextFrame(errorPacket(code, message))
}
