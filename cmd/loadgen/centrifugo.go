package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// A Centrifugo client (--proto centrifugo) joins the room the way an
// application on Centrifugo's SDKs does: connect (anonymous), subscribe to
// the channel named after the room, and, in joinleave mode, ask for join
// and leave pushes and a presence snapshot, from which it keeps the count
// itself (memberSet). It answers the server's pings and records every
// publication's step for the publication latency steps (centrifugo_steps.go).
// The wire format is centrifugo_wire.go.

// Centrifugo modes (--centrifugo-mode).
const (
	cfModeJoinLeave = "joinleave" // presence snapshot + join/leave pushes → a count per client
	cfModePresence  = "presence"  // subscribe only; presence is the server's (HTTP API)
)

// cfClient is one client's Centrifugo state. The handshake fills it before
// the reader starts; from then on the reader owns it.
type cfClient struct {
	channel   string
	joinLeave bool       // ask for join/leave pushes and a presence snapshot, keep the count
	pong      bool       // the connect result asked for answers to its pings
	set       *memberSet // joinLeave only
}

// centrifugoHandshake connects and subscribes, handling whatever the server
// pushes meanwhile, and in joinleave mode sends the presence request (its
// reply is read by the read loop). It returns once the client is subscribed:
// a member of the room, present in the channel's presence.
func (c *client) centrifugoHandshake(ctx context.Context) error {
	c.cf = &cfClient{channel: c.w.cfg.Room, joinLeave: c.w.cfg.CentrifugoMode == cfModeJoinLeave}
	if c.cf.joinLeave {
		c.cf.set = newMemberSet()
	}
	deadline, _ := ctx.Deadline()
	_ = c.nc.SetReadDeadline(deadline)
	defer func() { _ = c.nc.SetReadDeadline(time.Time{}) }()
	steps := []struct {
		what string
		id   uint32
		cmd  []byte
	}{
		{"connect", cfConnectID, cfConnectCmd()},
		{"subscribe", cfSubscribeID, cfSubscribeCmd(c.cf.channel, c.cf.joinLeave)},
	}
	for _, s := range steps {
		if err := c.writeText(s.cmd); err != nil {
			return fmt.Errorf("centrifugo %s: %w", s.what, err)
		}
		if err := c.cfAwaitReply(s.id); err != nil {
			return fmt.Errorf("centrifugo %s: %w", s.what, err)
		}
	}
	if c.cf.joinLeave {
		if err := c.writeText(cfChannelCmd(cfPresenceID, "presence", c.cf.channel)); err != nil {
			return fmt.Errorf("centrifugo presence: %w", err)
		}
	}
	return nil
}

// cfAwaitReply reads until the reply to command id, handling every other
// reply and push on the way (and those that follow it in the same message).
func (c *client) cfAwaitReply(id uint32) error {
	for {
		p, err := c.readMessage()
		if err != nil {
			return err
		}
		now := time.Now().UnixNano()
		var got bool
		var replyErr, endErr error
		parseCentrifugo(p, func(m cfMessage) {
			if m.id == id && (m.kind == cfReply || m.kind == cfConnectResult) {
				got = true
				c.cf.pong = c.cf.pong || m.pong
				if m.err != "" {
					replyErr = errors.New("server answered " + m.err)
				}
				return
			}
			if err := c.cfHandle(m, now); err != nil && endErr == nil {
				endErr = err
			}
		})
		switch {
		case endErr != nil:
			return endErr
		case replyErr != nil:
			return replyErr
		case got:
			return nil
		}
	}
}

// cfRead handles one WebSocket message of the server on the read loop. It
// returns an error when the server has ended our membership (a disconnect
// or unsubscribe push); the caller then stops reading.
func (c *client) cfRead(p []byte, now int64) error {
	var endErr error
	parseCentrifugo(p, func(m cfMessage) {
		if err := c.cfHandle(m, now); err != nil && endErr == nil {
			endErr = err
		}
	})
	return endErr
}

// cfHandle acts on one reply or push read at now.
func (c *client) cfHandle(m cfMessage, now int64) error {
	st := &c.w.stats
	switch m.kind {
	case cfPing:
		if c.cf.pong {
			_ = c.writeText(cfPong)
		}
		st.otherFrames.Add(1)
	case cfJoin, cfLeave:
		if c.cf.set == nil {
			st.otherFrames.Add(1) // not asked for: nothing to count with
			return nil
		}
		if m.kind == cfJoin {
			c.cf.set.join(m.client)
		} else {
			c.cf.set.leave(m.client)
		}
		c.cfCounted(now)
	case cfPresence:
		if c.cf.set == nil || m.id != cfPresenceID {
			st.otherFrames.Add(1)
			return nil
		}
		c.cf.set.applySnapshot(m.clients)
		c.cfCounted(now)
	case cfPub:
		c.pubAt.Store(now) // before the step: whoever sees the step sees its time
		c.pubStep.Store(m.step)
		st.otherFrames.Add(1)
	case cfReply:
		if m.err != "" {
			st.errorEvents.Add(1)
			c.w.noteError(fmt.Sprintf("error event: centrifugo reply %d: %s", m.id, m.err))
			return nil
		}
		st.otherFrames.Add(1)
	case cfUnsubscribed:
		return fmt.Errorf("the server unsubscribed the client (%s)", m.err)
	case cfDisconnected:
		return fmt.Errorf("the server disconnected the client (%s)", m.err)
	case cfMalformed:
		st.badFrames.Add(1)
		c.w.noteError("bad frame: " + m.err)
	default:
		st.otherFrames.Add(1)
	}
	return nil
}

// cfCounted records a message that changes what the client knows of the
// room (a join, a leave, the snapshot) as a count frame, and the derived
// count once it is known.
func (c *client) cfCounted(now int64) {
	c.noteCountFrame(now)
	if n, ok := c.cf.set.count(); ok {
		c.setCount(int64(n), now)
	}
}
