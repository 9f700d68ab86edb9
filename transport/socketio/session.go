package socketio

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"presence/internal/leave"
	"presence/internal/wire"
	"presence/transport"
)

// Session is one Engine.IO session and the Socket.IO socket on its main
// namespace: the actors.Socket of one Member. It outlives the HTTP requests
// that carry it while it long-polls, and it stays the same Session, with the
// same Member, across the upgrade to a WebSocket, so its room counts it once
// whatever its transport.
//
// Concurrency: the fields under mu are guarded by mu. The handlers of its
// HTTP requests, the reader of its WebSocket, its timers and its Member call
// in from their own goroutines and hold mu for what they do. Writes to its
// WebSocket happen under mu too (each bounded by the write deadline), so its
// packets never reorder. The calls out to the actor tree (onText, onEnd,
// Server.OnConnect) only send a message, so they are made under mu as well:
// that keeps them in order, and nothing follows onEnd.
type Session struct {
	srv   *Server
	sid   string // Engine.IO session id, in every request's query
	id    string // Socket.IO socket id, the CONNECT answer's sid
	adm   *transport.Admission
	room  string        // the handshake's ?room=, which CONNECT's auth may replace
	limit *rate.Limiter // packets posted by long-polling; nil for a WebSocket session, whose Conn limits its messages

	mu        sync.Mutex
	state     state
	ws        *transport.Conn // the WebSocket, once upgraded (or from the start)
	probe     *transport.Conn // a WebSocket being probed for the upgrade
	upgrading bool            // an upgrade is under way (probe reserved, or open)
	probed    bool            // the probe was answered: polls get noop until "5"
	queue     [][]byte        // packets for the next poll, in order
	latest    wire.Message    // the newest count not yet polled: latest wins
	getting   bool            // a GET is pending
	wake      chan struct{}   // closed to wake the pending GET
	posting   bool            // a POST is being read
	closeWith *ending         // the server is closing the session, and why
	end       *ending         // why the session ended; nil while it lives
	joined    bool            // CONNECT to "/" accepted and handed to the actors
	early     [][]byte        // client events before the Member started
	onText    func([]byte)
	onEnd     func(error)

	pingTimer, pongTimer, connectTimer, closeTimer *time.Timer
}

type state int

const (
	stPolling   state = iota // long-polling (an upgrade may be under way)
	stWebSocket              // on its WebSocket for good
	stEnded                  // over: out of the server's table
)

// maxEarly bounds the client events kept for a Member that has not started.
const maxEarly = 16

func newSession(srv *Server, adm *transport.Admission, room string, st state) *Session {
	s := &Session{srv: srv, sid: newID(), id: newID(), adm: adm, room: room, state: st}
	if st == stPolling {
		s.limit = rate.NewLimiter(rate.Limit(srv.cfg.rateLimit), srv.cfg.rateBurst)
	}
	return s
}

// newID returns 120 random bits, URL-safe: a session id nobody can guess.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// startTimersLocked starts the heartbeat and the wait for CONNECT.
func (s *Session) startTimersLocked() {
	s.pingTimer = time.AfterFunc(s.srv.cfg.pingInterval, s.ping)
	s.connectTimer = time.AfterFunc(s.srv.cfg.connectTimeout, s.connectTimedOut)
}

// ping sends Engine.IO's ping and gives the client the ping timeout to
// answer; a pong re-arms the next ping (pongLocked).
func (s *Session) ping() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stEnded || s.closeWith != nil || s.pongTimer != nil {
		return // over, closing, or a ping still waits for its pong
	}
	s.sendLocked(pktPing)
	s.pongTimer = time.AfterFunc(s.srv.cfg.pingTimeout, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.endLocked(pongMissed())
	})
}

// pongLocked takes the client's pong: the session is alive until the next
// ping. A pong nobody asked for changes nothing.
func (s *Session) pongLocked() {
	if s.pongTimer == nil || !s.pongTimer.Stop() {
		return
	}
	s.pongTimer = nil
	s.pingTimer.Reset(s.srv.cfg.pingInterval)
}

func (s *Session) connectTimedOut() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.joined {
		s.endLocked(policyError("no CONNECT within the handshake timeout"))
	}
}

// sendLocked delivers one packet on the session's transport: written to its
// WebSocket, or queued for the next poll. A failed write ends the WebSocket,
// whose end then ends the session (wsEnded).
func (s *Session) sendLocked(pkt []byte) {
	if s.state == stWebSocket {
		_ = s.ws.WriteFrame(transport.TextFrame(pkt))
		return
	}
	s.queue = append(s.queue, pkt)
	s.wakeLocked()
}

// wakeLocked wakes the pending GET, if any, to look at the session again.
func (s *Session) wakeLocked() {
	if s.wake != nil {
		close(s.wake)
		s.wake = nil
	}
}

// closeLocked starts a close the server wants: Socket.IO's DISCONNECT when
// the client broke a rule (a client told so does not reconnect on its own),
// then Engine.IO's close packet. On a WebSocket they are written and the
// WebSocket closes with code; when long-polling they wait for the next poll,
// at most the close timeout. The session ends with reason then.
func (s *Session) closeLocked(reason leave.Reason, code uint16, text string) {
	if s.state == stEnded || s.closeWith != nil {
		return
	}
	s.closeWith = serverClosed(reason, code, text)
	s.latest = nil // nobody needs a count any more
	if code == closePolicy {
		s.sendLocked(pktDisconnect)
	}
	s.sendLocked(pktClose)
	if s.state == stWebSocket {
		s.ws.Close(code, text) // its end ends the session (wsEnded)
		return
	}
	s.closeTimer = time.AfterFunc(s.srv.cfg.closeTimeout, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.endLocked(s.closeWith)
	})
}

// endLocked ends the session for e, once (the first reason wins): it stops
// the timers, answers a pending poll, closes a WebSocket still open, leaves
// the server's table, gives back the admission and tells the Member.
func (s *Session) endLocked(e *ending) {
	if s.state == stEnded {
		return
	}
	s.state, s.end = stEnded, e
	for _, t := range []*time.Timer{s.pingTimer, s.pongTimer, s.connectTimer, s.closeTimer} {
		if t != nil {
			t.Stop()
		}
	}
	s.wakeLocked()
	if s.ws != nil && e.code != 0 {
		s.ws.Close(e.code, e.text)
	}
	if s.probe != nil {
		s.probe.Close(closeGoingAway, "session ended")
	}
	s.srv.remove(s)
	s.adm.Release()
	if s.onEnd != nil {
		s.onEnd(e)
	}
	if !s.joined {
		// A session that never joined has no Member to log its end.
		s.srv.log.Debug("socket.io session ended before joining", "addr", s.adm.Addr(), "reason", e.reason, "detail", e.text)
	}
}

// packetLocked handles one Engine.IO packet from the client, whichever
// transport carried it. A non-nil ending ends the session.
func (s *Session) packetLocked(p []byte) *ending {
	if err := checkPacket(p); err != nil {
		if errors.Is(err, errBinary) {
			return binaryRefused()
		}
		return protocolError(err.Error())
	}
	switch p[0] {
	case eioClose:
		return clientClosed("the client closed the session")
	case eioPing: // v4 clients only ping to probe a WebSocket; answer anyway
		s.sendLocked(append([]byte{eioPong}, p[1:]...))
	case eioPong:
		s.pongLocked()
	case eioMessage:
		return s.socketIOLocked(p[1:])
	case eioNoop:
	default: // open and upgrade are not the client's to send here
		return protocolError("unexpected Engine.IO packet " + string(p[:1]))
	}
	return nil
}

// The actors.Socket side: what the Member calls.

// Start satisfies actors.Socket: the Member receives the client's events
// from now on, and the session's end. A session that has already ended
// reports it at once.
func (s *Session) Start(onText func(msg []byte), onEnd func(err error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.onEnd != nil {
		onEnd(errStartedTwice)
		return
	}
	s.onText, s.onEnd = onText, onEnd
	if s.state == stEnded {
		onEnd(s.end)
		return
	}
	for _, ev := range s.early {
		onText(ev)
	}
	s.early = nil
}

var (
	errStartedTwice = errors.New("socketio: a session was started twice")
	errNoFrames     = errors.New("socketio: a session takes messages (WriteMessage), not frames")
	errClosing      = &ending{reason: leave.ServerClose, text: "the session is closing"}
)

// WriteMessage satisfies actors.MessageWriter: it writes m to the WebSocket
// (bounded by the write deadline), or queues it for the next poll. A queued
// count replaces any older count still waiting: a session that is not
// polled piles nothing up, and its next poll gets the newest count.
func (s *Session) WriteMessage(m wire.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.state == stEnded:
		return s.end
	case s.closeWith != nil:
		return errClosing
	case s.state == stWebSocket:
		return s.ws.WriteFrame(m.Encoded(wire.SocketIOFrame))
	case m.KeepLatest():
		s.latest = m
	default:
		s.queue = append(s.queue, m.Encoded(wire.SocketIOPacket))
	}
	s.wakeLocked()
	return nil
}

// WriteFrame satisfies actors.Socket. A Member writes to a MessageWriter
// with WriteMessage only, so a frame here is a wiring error.
func (s *Session) WriteFrame([]byte) error { return errNoFrames }

// Close satisfies actors.Socket: it closes the session as closeLocked says,
// with code 1008 (the client broke a rule) also leaving the namespace.
func (s *Session) Close(code uint16, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked(leave.ServerClose, code, reason)
}
