package transport

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Handler returns the server's routes, on a mux of its own.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveIndex)
	mux.Handle("GET /public/", http.StripPrefix("/public/", noDirListing(http.FileServerFS(s.public))))
	mux.HandleFunc("GET /ws", s.serveWS)
	if s.SocketIO != nil {
		mux.Handle("/socket.io/", s.SocketIO)
	}
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	mux.HandleFunc("GET /api/rooms", s.serveRooms)
	if s.Cluster != nil {
		mux.Handle("GET /api/cluster", s.Cluster)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", s.serveReady)
	return mux
}

// serveIndex serves the page with a Content-Security-Policy that lets it
// load only from this server and open WebSockets only to it.
func (s *Server) serveIndex(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", fmt.Sprintf(
		"default-src 'self'; connect-src 'self' ws://%[1]s wss://%[1]s; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'", r.Host))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	http.ServeFileFS(w, r, s.public, "index.html")
}

// noDirListing answers 404 for directories instead of listing them.
func noDirListing(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

func (s *Server) serveReady(w http.ResponseWriter, _ *http.Request) {
	if s.isDraining() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if s.Ready != nil && !s.Ready() {
		http.Error(w, "not a member of the cluster (yet)", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

func (s *Server) serveRooms(w http.ResponseWriter, r *http.Request) {
	rooms := []RoomCount{}
	if s.Rooms != nil {
		var err error
		if rooms, err = s.Rooms(r.Context()); err != nil {
			s.log.Warn("list rooms", "err", err)
			http.Error(w, "rooms are not available right now", http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(struct {
		Connections int         `json:"connections"`
		Rooms       []RoomCount `json:"rooms"`
	}{s.Connections(), rooms})
}

// serveWS checks a WebSocket request, upgrades it and hands the socket to
// OnConnect. Every refusal happens before the upgrade, with an HTTP status
// and a plain-text reason.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	room := r.URL.Query().Get("room")
	if room == "" {
		room = DefaultRoom
	}
	if err := ValidateRoom(room); err != nil {
		s.reject(w, http.StatusBadRequest, RejectBadRoom, "invalid room: "+err.Error())
		return
	}
	if ok, origin := s.origins.allows(r); !ok {
		s.reject(w, http.StatusForbidden, RejectOrigin, fmt.Sprintf("origin %q may not open a WebSocket here", origin))
		return
	}
	addr := clientAddr(r)
	if status, reason := s.admit(addr); status != 0 {
		msg := "the server is shutting down"
		if reason == RejectPerIP {
			msg = fmt.Sprintf("too many connections from %s (limit %d)", addr, s.cfg.MaxConnsPerIP)
		}
		s.reject(w, status, reason, msg)
		return
	}
	defer s.upgradeDone()

	c, err := s.upgrade(w, r, addr)
	if err != nil {
		s.release(addr)
		return
	}
	s.track(c)
	s.OnConnect(room, c)
}

// upgrade completes the WebSocket handshake of r and wraps the connection in
// a Conn that nobody reads yet and no list holds: /ws tracks it, a Socket.IO
// session's Admission counts it instead. If the handshake fails, the upgrader
// has answered (400, 426 …) on the hijacked connection, which is closed.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, addr string) (*Conn, error) {
	nc, rw, _, err := s.upgrader.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			_ = nc.Close()
		}
		s.obs.Rejected(RejectHandshake)
		s.log.Debug("websocket handshake failed", "addr", addr, "err", err)
		return nil, fmt.Errorf("websocket handshake: %w", err)
	}
	// Bytes the client sent right behind its request (frames already) are
	// in the handshake's buffer: keep a copy to parse first, and let the
	// buffer (4 KiB) go.
	var early []byte
	if n := rw.Reader.Buffered(); n > 0 {
		b, _ := rw.Peek(n)
		early = append([]byte(nil), b...)
	}
	return newConn(nc, early, s.edge, addr), nil
}

func (s *Server) reject(w http.ResponseWriter, status int, reason Rejection, msg string) {
	s.obs.Rejected(reason)
	http.Error(w, msg, status)
}
