package transport

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gobwas/ws"
)

// RoomCount is one room in the /api/rooms answer.
type RoomCount struct {
	Room         string `json:"room"`
	CurrentUsers int    `json:"currentUsers"`
}

// Server serves the HTTP routes and owns every upgraded Conn until it closes.
// Set OnConnect (and Rooms) before serving.
type Server struct {
	// OnConnect receives every upgraded socket and the room it asked for. It
	// must hand the socket on quickly (main sends it to the actor tree) and
	// must arrange for its ReadLoop to run.
	OnConnect func(room string, c *Conn)

	// Rooms lists the rooms and their counts for /api/rooms.
	Rooms func(ctx context.Context) ([]RoomCount, error)

	cfg      Config
	origins  originPolicy
	metrics  *Metrics
	log      *slog.Logger
	public   fs.FS
	upgrader ws.HTTPUpgrader

	mu       sync.Mutex
	draining bool
	upgrades int                // upgrades between admission and OnConnect
	upgraded *sync.Cond         // signalled when upgrades drops, for Drain
	perAddr  map[string]int     // open sockets per client address
	open     map[*Conn]struct{} // every socket not yet closed
	allShut  chan struct{}      // closed once draining with no upgrade under way and no socket open
	shutDone bool               // allShut is closed
	ready    atomic.Bool
}

// NewServer checks cfg and returns a Server that serves the page and assets
// from public (index.html at its root).
func NewServer(cfg Config, m *Metrics, log *slog.Logger, public fs.FS) (*Server, error) {
	cfg = cfg.withDefaults()
	origins, err := newOriginPolicy(cfg.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		origins:  origins,
		metrics:  m,
		log:      log,
		public:   public,
		upgrader: ws.HTTPUpgrader{Timeout: cfg.HandshakeTimeout},
		perAddr:  make(map[string]int),
		open:     make(map[*Conn]struct{}),
		allShut:  make(chan struct{}),
	}
	s.upgraded = sync.NewCond(&s.mu)
	s.ready.Store(true)
	return s, nil
}

// Handler returns the server's routes, on a mux of its own.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveIndex)
	mux.Handle("GET /public/", http.StripPrefix("/public/", noDirListing(http.FileServerFS(s.public))))
	mux.HandleFunc("GET /ws", s.serveWS)
	mux.Handle("GET /metrics", s.metrics.Handler())
	mux.HandleFunc("GET /api/rooms", s.serveRooms)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", s.serveReady)
	return mux
}

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
	if !s.ready.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
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

	nc, rw, _, err := s.upgrader.Upgrade(r, w)
	if err != nil {
		// The upgrader has answered (400, 426 …) on the hijacked connection.
		if nc != nil {
			_ = nc.Close()
		}
		s.release(addr)
		s.metrics.rejected(RejectHandshake)
		s.log.Debug("websocket handshake failed", "addr", addr, "err", err)
		return
	}

	// Keep reading through the handshake's buffer only if the client has
	// already sent frames into it; otherwise let it (4 KiB) go.
	src := rw.Reader
	var c *Conn
	if src.Buffered() == 0 {
		c = newConn(nc, nc, &s.cfg, addr, nil)
	} else {
		c = newConn(nc, src, &s.cfg, addr, nil)
	}
	c.onShut = func() { s.closed(c) }
	s.track(c)
	s.OnConnect(room, c)
}

func (s *Server) reject(w http.ResponseWriter, status int, reason, msg string) {
	s.metrics.rejected(reason)
	http.Error(w, msg, status)
}

// admit reserves an upgrade slot for addr, or says which status refuses it.
func (s *Server) admit(addr string) (status int, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return http.StatusServiceUnavailable, RejectDraining
	}
	if max := s.cfg.MaxConnsPerIP; max > 0 && s.perAddr[addr] >= max {
		return http.StatusTooManyRequests, RejectPerIP
	}
	s.perAddr[addr]++
	s.upgrades++
	return 0, ""
}

// upgradeDone ends an admitted upgrade, whether it became a Conn or not.
func (s *Server) upgradeDone() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.upgrades--
	s.upgraded.Broadcast()
	s.checkAllShutLocked()
}

func (s *Server) release(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked(addr)
}

func (s *Server) releaseLocked(addr string) {
	if s.perAddr[addr]--; s.perAddr[addr] <= 0 {
		delete(s.perAddr, addr)
	}
}

func (s *Server) track(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open[c] = struct{}{}
	s.metrics.connOpened()
}

// closed runs once per Conn, after its connection is closed.
func (s *Server) closed(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.open, c)
	s.releaseLocked(c.remote)
	s.metrics.connClosed()
	s.checkAllShutLocked()
}

// checkAllShutLocked closes allShut once draining is done with: no upgrade
// under way that could still add a socket, and no socket open. The caller
// holds mu.
func (s *Server) checkAllShutLocked() {
	if s.draining && s.upgrades == 0 && len(s.open) == 0 && !s.shutDone {
		s.shutDone = true
		close(s.allShut)
	}
}

// Connections is the number of open sockets.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

// Drain starts shutdown: /readyz answers 503, new upgrades get 503, and
// Drain returns once the upgrades already admitted have reached OnConnect.
func (s *Server) Drain() {
	s.ready.Store(false)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draining = true
	for s.upgrades > 0 {
		s.upgraded.Wait()
	}
	s.checkAllShutLocked()
}

// WaitClosed waits, after Drain and after the actors have closed their
// sockets, until every socket is closed. A socket whose ReadLoop never
// started (its join was still in flight when the actors stopped) is closed
// with 1001 at once. When ctx ends first, the rest are sent 1001 and closed
// without waiting for their reply, and ctx's error is returned.
func (s *Server) WaitClosed(ctx context.Context) error {
	for _, c := range s.snapshot() {
		if !c.reading.Load() {
			_ = c.Close(uint16(ws.StatusGoingAway), "server shutting down")
		}
	}
	select {
	case <-s.allShut:
		return nil
	case <-ctx.Done():
	}
	var wg sync.WaitGroup
	for _, c := range s.snapshot() {
		wg.Go(func() {
			_ = c.Close(uint16(ws.StatusGoingAway), "server shutting down")
			c.shut()
		})
	}
	wg.Wait()
	return fmt.Errorf("sockets still open at the shutdown deadline were closed: %w", ctx.Err())
}

func (s *Server) snapshot() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Conn, 0, len(s.open))
	for c := range s.open {
		out = append(out, c)
	}
	return out
}
