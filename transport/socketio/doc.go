// Package socketio lets unchanged Socket.IO v4 clients (the official
// socket.io-client, and the lesson's page that loads it from
// /socket.io/socket.io.js) join rooms: Engine.IO v4 with both of its
// transports and the upgrade between them, and Socket.IO v5 on the main
// namespace. The codec is ours, written from the two protocol specifications,
// on the same WebSocket code as /ws (transport.Conn on gobwas/ws).
//
//	GET  /socket.io/?EIO=4&transport=polling          handshake → Session (long-polling)
//	GET  /socket.io/?EIO=4&transport=polling&sid=…    a poll: waits for packets (polling.go)
//	POST /socket.io/?EIO=4&transport=polling&sid=…    the client's packets, answered "ok"
//	GET  /socket.io/?EIO=4&transport=websocket[&sid=] a WebSocket session, or the upgrade of one (websocket.go)
//	GET  /socket.io/socket.io.js (.min.js, .map)      the client bundle, as npm publishes it
//
// # Who owns what
//
//   - Server owns the table of open Sessions, from the handshake until each
//     ends, and closes them all at Shutdown. It is mounted on a
//     transport.Server, which admits each session like a /ws socket (origin,
//     per-address limit, drain) and upgrades its WebSocket with every /ws
//     limit.
//   - A Session is one client: its Engine.IO state (transport, queue of
//     packets for the next poll, heartbeat), its Socket.IO state (joined or
//     not), and, once it joined, the actors.Socket of its Member. It keeps
//     its Member across the upgrade: the room counts it once.
//   - The actor tree decides what is written; a Session decides how: a count
//     goes to its WebSocket as the room's shared SocketIOFrame, or waits for
//     the next poll as the shared SocketIOPacket (only the newest count
//     waits: latest wins), see internal/wire.
//
// # Endings
//
// A session ends once, for the first reason (ending.go), and then leaves
// the table, gives back its admission and tells its Member, whose room
// recounts: the client's close or DISCONNECT (close_frame), a cancelled poll
// or a lost WebSocket (eof), a missed pong (ping_timeout), a broken rule
// (protocol_error, policy), or a close the server started (server_close,
// shutdown), which first sends Engine.IO's close packet.
//
// This package does not import the actor system: a Session satisfies
// actors.Socket and actors.MessageWriter by shape, and main connects them.
package socketio
