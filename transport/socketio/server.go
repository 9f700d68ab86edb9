package socketio

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"presence/internal/leave"
	"presence/third_party/socketioclient"
	"presence/transport"
)

// Path is where the server answers Socket.IO clients: the clients' default.
const Path = "/socket.io/"

// Server serves Engine.IO v4 and Socket.IO v5 on Path, and the official
// client bundle beside it. It is mounted on a transport.Server, whose rules
// it shares: origin, per-address limit, drain, and every WebSocket limit.
// Set OnConnect before serving.
type Server struct {
	// OnConnect receives every session that has joined a room (its CONNECT
	// was accepted). It is called with the session's lock held, so it must
	// only hand the session on (main sends it to the actor tree, whose Member
	// then calls Start).
	OnConnect func(room string, s *Session)

	edge    *transport.Server
	cfg     config
	log     *slog.Logger
	bundles map[string][]byte

	mu       sync.Mutex
	sessions map[string]*Session
	closed   bool          // Shutdown has begun: no new sessions
	idle     chan struct{} // closed once closed and no session is left
	idleDone bool
}

// config is what the sessions need of the edge's settings.
type config struct {
	pingInterval, pingTimeout time.Duration // Engine.IO's heartbeat: --ping-interval, --pong-timeout
	connectTimeout            time.Duration // handshake to CONNECT, and reading a POST body: --handshake-timeout
	writeTimeout              time.Duration
	closeTimeout              time.Duration // how long a closing long-polling session waits to be polled
	maxPayload                int64         // --max-message-size: a POST body, a WebSocket message
	rateLimit                 float64
	rateBurst                 int
}

// NewServer returns a Server mounted on edge, which it takes its settings
// from.
func NewServer(edge *transport.Server, log *slog.Logger) (*Server, error) {
	c := edge.Config()
	srv := &Server{
		edge: edge,
		cfg: config{
			pingInterval:   c.PingInterval,
			pingTimeout:    c.PongTimeout,
			connectTimeout: c.HandshakeTimeout,
			writeTimeout:   c.WriteTimeout,
			closeTimeout:   c.CloseTimeout,
			maxPayload:     c.MaxMessageSize,
			rateLimit:      c.RateLimit,
			rateBurst:      c.RateBurst,
		},
		log:      log,
		bundles:  make(map[string][]byte),
		sessions: make(map[string]*Session),
		idle:     make(chan struct{}),
	}
	for _, name := range socketioclient.Served {
		b, err := fs.ReadFile(socketioclient.Files, "dist/"+name)
		if err != nil {
			return nil, fmt.Errorf("socket.io client bundle: %w", err)
		}
		srv.bundles[name] = b
	}
	return srv, nil
}

// ServeHTTP serves Path: Engine.IO's requests at Path itself, the client
// bundle at Path+"socket.io.js" and its siblings.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == Path {
		srv.serveEngineIO(w, r)
		return
	}
	if name, ok := strings.CutPrefix(r.URL.Path, Path); ok && srv.bundles[name] != nil {
		srv.serveBundle(w, r, name)
		return
	}
	http.NotFound(w, r)
}

// serveEngineIO routes one Engine.IO request by its query, checking it the
// way the protocol says: EIO must be 4 (else 400, code 5), transport
// polling or websocket (400, code 0), a sid must be known (400, code 1), a
// handshake must be a GET (400, code 2). A browser Origin is checked on
// every request, as for /ws (403, code 4); CORS preflights are answered
// for the origins allowed.
func (srv *Server) serveEngineIO(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		srv.preflight(w, r)
		return
	}
	q := r.URL.Query()
	if q.Get("EIO") != "4" {
		writeError(w, http.StatusBadRequest, errUnsupported, "")
		return
	}
	tr := q.Get("transport")
	if tr != "polling" && tr != "websocket" {
		writeError(w, http.StatusBadRequest, errTransportUnknown, "")
		return
	}
	if ref := srv.edge.CheckOrigin(r); ref != nil {
		writeError(w, ref.Status, errForbidden, ref.Message)
		return
	}
	sid := q.Get("sid")
	if sid == "" {
		srv.handshake(w, r, tr, q.Get("room"))
		return
	}
	s := srv.lookup(sid)
	switch {
	case s == nil:
		writeError(w, http.StatusBadRequest, errSessionUnknown, "")
	case tr == "websocket":
		srv.upgrade(w, r, s)
	case r.Method == http.MethodGet:
		s.poll(w, r)
	case r.Method == http.MethodPost:
		s.post(w, r)
	default:
		writeError(w, http.StatusBadRequest, errBadRequest, "a session takes GET and POST")
	}
}

// handshake opens a session: admitted like a /ws socket, then answered with
// Engine.IO's open packet, as the poll's body or as the WebSocket's first
// message.
func (srv *Server) handshake(w http.ResponseWriter, r *http.Request, tr, room string) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusBadRequest, errBadHandshake, "")
		return
	}
	if tr == "websocket" && !isUpgrade(r) {
		writeError(w, http.StatusBadRequest, errBadRequest, "transport=websocket needs a WebSocket handshake")
		return
	}
	adm, ref := srv.edge.Admit(r)
	if ref != nil {
		writeError(w, ref.Status, errForbidden, ref.Message)
		return
	}
	if tr == "polling" {
		s := newSession(srv, adm, room, stPolling)
		if !srv.add(s) {
			adm.Release()
			writeError(w, http.StatusServiceUnavailable, errForbidden, "the server is shutting down")
			return
		}
		s.mu.Lock()
		s.startTimersLocked()
		s.mu.Unlock()
		if err := srv.writeText(w, r, openPacket(s.sid, []string{"websocket"}, &srv.cfg)); err != nil {
			s.mu.Lock()
			s.endLocked(writeFailed(err))
			s.mu.Unlock()
		}
		return
	}

	c, err := srv.edge.Upgrade(w, r, adm)
	if err != nil {
		adm.Release()
		return
	}
	s := newSession(srv, adm, room, stWebSocket)
	s.ws = c
	if !srv.add(s) {
		adm.Release()
		c.Close(closeGoingAway, "server shutting down")
		return
	}
	s.mu.Lock()
	s.sendLocked(openPacket(s.sid, []string{}, &srv.cfg))
	s.startTimersLocked()
	s.mu.Unlock()
	s.startWS(c)
}

// upgrade opens the WebSocket that a long-polling session probes to
// upgrade to (websocket.go). A second WebSocket for a session that has one
// (being probed, or upgraded to) is closed at once, 1008, as the protocol
// says ("the server MUST close the WebSocket connection"); the session
// carries on.
func (srv *Server) upgrade(w http.ResponseWriter, r *http.Request, s *Session) {
	if !isUpgrade(r) {
		writeError(w, http.StatusBadRequest, errBadRequest, "transport=websocket needs a WebSocket handshake")
		return
	}
	s.mu.Lock()
	taken := s.state != stPolling || s.upgrading
	if !taken {
		s.upgrading = true
	}
	s.mu.Unlock()

	c, err := srv.edge.Upgrade(w, r, s.adm)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil:
		if !taken {
			s.upgrading = false
		}
	case taken:
		c.Close(closePolicy, "the session has a WebSocket already")
	case s.state != stPolling:
		s.upgrading = false
		c.Close(closeGoingAway, "session ended")
	default:
		s.probe = c
		s.startWS(c)
	}
}

func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// cors lets an allowed cross-site page read the answer (the origin was
// checked before: serveEngineIO refuses the others).
func (srv *Server) cors(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
	}
}

// preflight answers a CORS preflight: 204 with the CORS headers for an
// allowed origin (this host, or --allowed-origins), 403 for any other.
func (srv *Server) preflight(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") == "" {
		writeError(w, http.StatusBadRequest, errBadRequest, "a preflight without an Origin")
		return
	}
	if ref := srv.edge.CheckOrigin(r); ref != nil {
		writeError(w, ref.Status, errForbidden, ref.Message)
		return
	}
	srv.cors(w, r)
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	if want := r.Header.Get("Access-Control-Request-Headers"); want != "" {
		h.Set("Access-Control-Allow-Headers", want)
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// serveBundle serves one file of the client bundle as npm published it.
func (srv *Server) serveBundle(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	if path.Ext(name) == ".map" {
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "application/javascript; charset=utf-8")
	}
	h.Set("ETag", `"`+socketioclient.Version+"-"+name+`"`)
	h.Set("Cache-Control", "public, max-age=0")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(srv.bundles[name]))
}

// add puts s in the table, unless Shutdown has begun.
func (srv *Server) add(s *Session) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closed {
		return false
	}
	srv.sessions[s.sid] = s
	return true
}

func (srv *Server) lookup(sid string) *Session {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.sessions[sid]
}

// remove takes s out of the table. Sessions call it holding their own lock:
// the Server never takes a session's lock while holding its own.
func (srv *Server) remove(s *Session) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	delete(srv.sessions, s.sid)
	if srv.closed && len(srv.sessions) == 0 && !srv.idleDone {
		srv.idleDone = true
		close(srv.idle)
	}
}

// Sessions is the number of sessions open.
func (srv *Server) Sessions() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return len(srv.sessions)
}

// Shutdown refuses new sessions and closes every open one with Engine.IO's
// close packet: written to a WebSocket (then closed 1001), or answered to a
// long-polling session's pending poll, or to its next poll within the close
// timeout. It returns once every session has ended; when ctx ends first, the
// rest are ended without waiting and ctx's error is returned. Call it before
// the HTTP server's Shutdown, which would otherwise wait for pending polls.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	srv.closed = true
	open := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		open = append(open, s)
	}
	if len(open) == 0 && !srv.idleDone {
		srv.idleDone = true
		close(srv.idle)
	}
	srv.mu.Unlock()

	for _, s := range open {
		s.mu.Lock()
		s.closeLocked(leave.Shutdown, closeGoingAway, "server shutting down")
		s.mu.Unlock()
	}
	select {
	case <-srv.idle:
		return nil
	case <-ctx.Done():
	}
	for _, s := range open {
		s.mu.Lock()
		s.endLocked(serverClosed(leave.Shutdown, closeGoingAway, "server shutting down"))
		s.mu.Unlock()
	}
	return fmt.Errorf("socket.io sessions still open at the shutdown deadline were ended: %w", ctx.Err())
}
