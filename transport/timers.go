package transport

import (
	"presence/internal/leave"
)

// A socket's timers are four deadlines in its fields (mono nanoseconds),
// checked by the edge's timing wheel (internal/wheel): one wheel goroutine
// for every socket, instead of a runtime timer per socket and deadline.
// Reading a frame only stores a number (rearmRead); the wheel looks at the
// socket when the earliest deadline it was armed for comes, and arms it
// again for the next one. Write deadlines are not here: a socket whose
// writes back up gets a goroutine for as long as that lasts, and the
// runtime's write deadline (write.go).

// startTimers starts the pings and the read deadline, when reading starts.
func (c *Conn) startTimers() {
	now := mono()
	cfg := c.e.cfg
	c.pingAt.Store(now + int64(cfg.PingInterval))
	c.readBy.Store(now + int64(cfg.PingInterval+cfg.PongTimeout))
	c.armTimer()
}

// rearmRead gives the peer until the ping interval plus the pong timeout to
// complete its next frame. Bytes alone do not count: a peer that trickles a
// frame (slowloris) is dropped when the frame is not complete in time.
func (c *Conn) rearmRead() {
	c.readBy.Store(mono() + int64(c.e.cfg.PingInterval+c.e.cfg.PongTimeout))
}

// armTimer arms the wheel for the next deadline that counts: a refused
// peer's drain, else a closing socket's linger, else the next ping or the
// read deadline, whichever is first.
func (c *Conn) armTimer() {
	if c.shutDone.Load() {
		return
	}
	next := c.drainBy.Load()
	if next == 0 {
		next = c.closeBy.Load()
	}
	if next == 0 {
		next = min(c.pingAt.Load(), c.readBy.Load())
	}
	if next != 0 {
		c.e.wheel.Arm(&c.timer, monoTime(next))
	}
}

// Fire runs on the wheel's goroutine when a deadline may have come: it
// closes a socket whose closing handshake, drain or read deadline is over,
// pings one whose ping is due, and arms the wheel again.
func (c *Conn) Fire() {
	if c.shutDone.Load() {
		return
	}
	now := mono()
	drainBy, closeBy := c.drainBy.Load(), c.closeBy.Load()
	switch {
	case drainBy != 0 || closeBy != 0:
		if now >= drainBy && drainBy != 0 || now >= closeBy && closeBy != 0 {
			// A refused peer did not hang up, or the peer did not finish the
			// closing handshake: the reason is recorded already.
			c.shut()
			c.wakeReader()
			return
		}
		c.armTimer()
		return
	case now >= c.readBy.Load():
		_ = c.setEnd(&LeaveError{Reason: leave.PingTimeout})
		c.shut()
		c.wakeReader()
		return
	}
	if at := c.pingAt.Load(); now >= at {
		c.ping()
		c.pingAt.Store(now + int64(c.e.cfg.PingInterval))
	}
	c.armTimer()
}

// wakeReader makes a poll-mode reader notice that the socket was shut (its
// next read fails). A goroutine-mode reader's Read fails by itself.
func (c *Conn) wakeReader() {
	if c.e.poll != nil && c.reading.Load() {
		c.wake()
	}
}
