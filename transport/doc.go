// Package transport is the presence server's network edge: HTTP routes,
// WebSocket upgrades and sockets (github.com/gobwas/ws), the checks that run
// before an upgrade, and the metrics endpoint.
//
//	http.Server ── Server.Handler() ── GET /            page (public/index.html)
//	                                   GET /public/…    embedded assets
//	                                   GET /ws?room=    checks → upgrade → Conn → Server.OnConnect
//	                                   /socket.io/      Server.SocketIO (transport/socketio), admitted and
//	                                                    upgraded by the hooks of session.go
//	                                   GET /metrics     Prometheus: presence_* and protoactor_*
//	                                   GET /api/rooms   Server.Rooms + open sockets
//	                                   GET /healthz, /readyz
//
// # Who owns what
//
//   - Server owns the set of open Conns: it counts them per client address,
//     refuses upgrades past the limits or while draining, and at shutdown
//     waits for them to close (closing the stragglers itself).
//   - A Conn owns its net.Conn. One reader at a time: in the poll read mode
//     (the default on Linux) a worker of the pool the poller hands the ready
//     socket to, which reads without waiting; in the goroutine mode (the
//     fallback) a goroutine blocked in Read. Any goroutine may write. Every
//     write (data frames from the Member; pongs, pings and close frames from
//     the socket itself) holds one mutex and never blocks: what the kernel
//     does not take is queued and written under the write deadline, so
//     frames never interleave and no writer waits.
//   - The edge's timing wheel owns every socket's pings and deadlines
//     (timers.go); the poller (poll_linux.go) owns the epoll instance.
//   - The bytes a Conn reads are bounded before they are allocated: frame and
//     message sizes are checked from the header, fragments are counted, and a
//     message buffer grows only as bytes arrive.
//
// This package does not import the actor system: Conn satisfies the
// actors.Socket interface by shape, and main connects the two.
package transport
