// Package actors is the presence server's actor tree: who is in which room,
// and the live count every member is shown.
//
//	root
//	└── Rooms            one per process; spawns a Room per name on first join, reaps empty ones
//	    └── Room "lobby" members = its live Member children, nothing else
//	        ├── Member    one per socket; the only writer of data frames to it
//	        └── Member
//
// # Membership comes from the supervision tree
//
// A Room never adds or subtracts one. It keeps two PID-keyed sets of its own
// children: those spawned but not yet running, and those live (the child said
// so from its *actor.Started). A child leaves both sets when protoactor
// delivers *actor.Terminated for it, whatever made it stop: its socket ended,
// its write timed out, it panicked, or the server is shutting down. The count
// is the size of the live set, so a duplicate or missing message cannot make
// it drift, and the Room can rebuild both sets from ctx.Children() after a
// failure (see reconcile).
//
// # Counts are pushed coalesced
//
// A membership change marks the Room dirty. If the Room has been quiet for a
// flush interval it flushes at once; otherwise at the end of the interval. A
// flush encodes one CountFrame (JSON and WebSocket framing, once) and sends
// every member the same *UserCount. Each Member also spaces its own writes by
// at least one interval (a flush to thousands of members takes longer than
// an interval, so one flush may reach a member late and the next early), so
// each member reads at most one count frame per interval, however fast
// people come and go and however loaded the server is.
//
// A member whose socket is slow does not hold anyone up: each Member writes on
// its own goroutine, with the socket's write deadline. While it is blocked,
// newer counts pile up in its mailbox; when it is free it writes only the
// newest one (latest wins, see Member) and a write that times out closes the
// socket, which removes the member.
//
// # Supervision
//
//   - Members are never restarted: a restart would re-run *actor.Started on the
//     same socket and start a second reader. A Room stops a failed Member, which
//     closes its socket with 1011 and leaves the room.
//   - A Room failure does not disconnect its members: protoactor's restart
//     stops every child first, so Rooms resumes a failed Room instead and asks
//     it to reconcile its sets with its children.
//
// # Ownership and concurrency
//
//   - Every piece of actor state is touched only inside that actor's Receive.
//     No actor.Context leaves Receive: the socket's read callbacks hold only the
//     root context and the Member's PID, and report with root.Send.
//   - Blocking reads stay outside Receive (Socket.Start reads elsewhere). Writes happen
//     inside a Member's Receive but are bounded by the socket's write deadline
//     and block only that Member.
//   - A CountFrame is immutable once published, except for its delivery
//     counter, which is atomic.
//   - A joining socket reaches its Room through the Room's inbox, the one
//     piece of state two actors share (under a mutex): protoactor drops the
//     messages left in a stopping actor's mailbox, and a socket must never
//     be dropped with them, only spawned as a Member or closed (see inbox).
//
// This package knows nothing about WebSockets or HTTP: a Socket is the small
// interface it needs, and main wires transport.Conn to it.
package actors
