package actors

import "sync"

// inbox hands sockets from Rooms to one Room.
//
// Why not in a message alone: protoactor drops the user messages still in an
// actor's mailbox when it stops, and a message sent after that goes to dead
// letters. A socket carried only by a message that meets a stopping Room
// would then stay open in no room, its read loop never started. So Rooms puts
// the socket here and sends socketsWaiting to wake the Room; the Room takes
// every waiting socket then (and on a reconcile, in case that wake-up was the
// message a failure lost), and closes the inbox when it starts stopping,
// closing with 1001 whatever still waits. From then on put refuses and Rooms
// closes the socket itself. Either way every socket is spawned as a Member or
// closed, exactly once.
//
// Concurrency: Rooms calls put, the Room calls take and close, each from its
// own actor; mu orders them.
type inbox struct {
	mu      sync.Mutex
	waiting []Socket
	closed  bool
}

// put queues s for the Room, and says false when the Room is stopping: the
// caller still owns s.
func (b *inbox) put(s Socket) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.waiting = append(b.waiting, s)
	return true
}

// take hands the Room every socket waiting, oldest first.
func (b *inbox) take() []Socket {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.waiting
	b.waiting = nil
	return w
}

// close refuses every later put and returns the sockets still waiting, which
// the caller now owns.
func (b *inbox) close() []Socket {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	w := b.waiting
	b.waiting = nil
	return w
}
