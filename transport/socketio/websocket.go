package socketio

import (
	"presence/internal/leave"
	"presence/internal/wire"
	"presence/transport"
)

// Engine.IO's WebSocket transport, on transport.Conn: the same handshake,
// read loop, limits and close handling as /ws (size → 1009, rate → 1008,
// binary → 1003, protocol → 1002, silence → dropped). Each text message is
// one Engine.IO packet.
//
// The upgrade from long-polling (Engine.IO v4 "Upgrade"):
//
//	client                               server
//	GET ?transport=websocket&sid=…  →    101 (the probe WebSocket)
//	"2probe"                        →    "3probe"; a pending poll gets "6" (noop)
//	                                     (polls get "6" until the upgrade)
//	"5"                             →    the session moves to the WebSocket:
//	                                     what was queued for polling goes out on it,
//	                                     later polls are refused (400)
//
// The Member notices nothing: it writes to the Session, which writes to
// whichever transport it has.

// startWS starts reading c for the session.
func (s *Session) startWS(c *transport.Conn) {
	c.Start(func(msg []byte) { s.wsText(c, msg) }, func(err error) { s.wsEnded(c, err) })
}

// wsText handles one text message from c: a packet of the session's
// WebSocket, or of a WebSocket being probed for the upgrade.
func (s *Session) wsText(c *transport.Conn, msg []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.state == stEnded:
	case c == s.probe:
		s.probeLocked(c, msg)
	case c == s.ws:
		if e := s.packetLocked(msg); e != nil {
			s.endLocked(e)
		}
	}
}

// wsEnded runs once c's read side has ended. The session's WebSocket ending
// ends the session (with the reason of a close the server started, if it
// did); a probe ending only ends the upgrade, and polling carries on.
func (s *Session) wsEnded(c *transport.Conn, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case c == s.probe:
		s.probe, s.upgrading, s.probed = nil, false, false
		s.wakeLocked()
	case c == s.ws && s.closeWith != nil:
		s.endLocked(s.closeWith)
	case c == s.ws:
		s.endLocked(transportEnded(leave.Of(err), err))
	}
}

// probeLocked runs the upgrade on the probe c: "2probe" is answered with
// "3probe", then "5" completes the upgrade. Anything else closes the probe
// with 1002; the session carries on polling.
func (s *Session) probeLocked(c *transport.Conn, msg []byte) {
	switch {
	case !s.probed && string(msg) == "2probe":
		if c.WriteFrame(transport.TextFrame(pktProbe)) == nil {
			s.probed = true
			s.wakeLocked() // a pending poll answers noop
		}
	case s.probed && len(msg) == 1 && msg[0] == eioUpgrade:
		s.upgradeLocked(c)
	default:
		c.Close(closeProtocol, "expected 2probe, then 5")
	}
}

// upgradeLocked moves the session onto c for good and sends on it what was
// waiting for a poll.
func (s *Session) upgradeLocked(c *transport.Conn) {
	s.state, s.ws, s.probe, s.upgrading, s.probed = stWebSocket, c, nil, false, false
	for _, p := range s.queue {
		_ = c.WriteFrame(transport.TextFrame(p))
	}
	s.queue = nil
	if s.latest != nil {
		_ = c.WriteFrame(s.latest.Encoded(wire.SocketIOFrame))
		s.latest = nil
	}
	s.wakeLocked() // a pending poll answers noop
	if s.closeWith != nil {
		s.closeTimer.Stop()
		c.Close(s.closeWith.code, s.closeWith.text)
	}
}
