package transport

import (
	"fmt"
	"net/http"
	"sync"
)

// Hooks for a protocol that shares this Server's rules but is not one
// WebSocket per client from the first request: a Socket.IO session
// (transport/socketio) lives across many HTTP requests and may upgrade to a
// WebSocket later. It is admitted like /ws (origin, per-address limit,
// drain), counts as one open connection from its admission until it ends,
// and its WebSocket, if it gets one, is upgraded and read by the same code
// as /ws, so every limit applies to it too.

// Admission is one admitted session's place in the Server's books: a slot of
// its client address's limit and one open connection. Release gives it back.
type Admission struct {
	s    *Server
	addr string
	once sync.Once
}

// Refusal says why a request was not admitted: the HTTP status and a
// message for the client. Its reason is already counted
// (presence_upgrade_rejections_total).
type Refusal struct {
	Status  int
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// Admit checks r the way a /ws request is checked before its upgrade: a
// browser Origin that may not connect (403), the per-address limit (429)
// and the drain (503). It writes nothing to the client. On success the
// caller owns the Admission and must Release it exactly once when the
// session ends.
func (s *Server) Admit(r *http.Request) (*Admission, *Refusal) {
	if ref := s.CheckOrigin(r); ref != nil {
		return nil, ref
	}
	addr := clientAddr(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.draining:
		s.obs.Rejected(RejectDraining)
		return nil, &Refusal{http.StatusServiceUnavailable, "the server is shutting down"}
	case s.cfg.MaxConnsPerIP > 0 && s.perAddr[addr] >= s.cfg.MaxConnsPerIP:
		s.obs.Rejected(RejectPerIP)
		return nil, &Refusal{http.StatusTooManyRequests, fmt.Sprintf("too many connections from %s (limit %d)", addr, s.cfg.MaxConnsPerIP)}
	}
	s.perAddr[addr]++
	s.sessions++
	s.obs.ConnOpened()
	return &Admission{s: s, addr: addr}, nil
}

// CheckOrigin refuses (403) a browser Origin that may not connect, by the
// rule /ws follows; nil allows r. A session checks every request it gets,
// not only its first.
func (s *Server) CheckOrigin(r *http.Request) *Refusal {
	if ok, origin := s.origins.allows(r); !ok {
		s.obs.Rejected(RejectOrigin)
		return &Refusal{http.StatusForbidden, fmt.Sprintf("origin %q may not connect here", origin)}
	}
	return nil
}

// Addr is the client address the Admission counts against.
func (a *Admission) Addr() string { return a.addr }

// Release gives the Admission back. It is idempotent.
func (a *Admission) Release() {
	a.once.Do(func() {
		s := a.s
		s.mu.Lock()
		defer s.mu.Unlock()
		s.releaseLocked(a.addr)
		s.sessions--
		s.obs.ConnClosed()
		s.checkAllShutLocked()
	})
}

// Upgrade turns r into a WebSocket for the admitted session a, with every
// limit of /ws. The Conn is not counted again (the Admission counts the
// session) and nobody reads it yet: the caller starts it and closes it. If
// the handshake fails, the upgrader has answered the client and the error
// says why.
func (s *Server) Upgrade(w http.ResponseWriter, r *http.Request, a *Admission) (*Conn, error) {
	return s.upgrade(w, r, a.addr)
}

// Config returns the limits and timeouts the Server applies, defaults
// filled in, so that a protocol mounted on it applies the same ones.
func (s *Server) Config() Config { return s.cfg }
