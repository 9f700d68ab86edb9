package transport

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"

	"github.com/gobwas/ws"

	"presence/internal/workpool"
)

// RoomCount is one room in the /api/rooms answer.
type RoomCount struct {
	Room         string `json:"room"`
	CurrentUsers int    `json:"currentUsers"`
	ThisNode     *int   `json:"thisNode,omitempty"` // in a cluster: this node's share of CurrentUsers
}

// Server is the network edge: it serves the HTTP routes (routes.go) and owns
// every upgraded Conn from its admission until it closes (admission.go). Set
// OnConnect, Rooms and Metrics before serving.
type Server struct {
	// OnConnect receives every upgraded socket and the room it asked for. It
	// must hand the socket on quickly (main sends it to the actor tree) and
	// must arrange for it to be read (Start or ReadLoop).
	OnConnect func(room string, c *Conn)

	// Rooms lists the rooms and their counts for /api/rooms. It should give
	// up when ctx (the request's) ends.
	Rooms func(ctx context.Context) ([]RoomCount, error)

	// Metrics serves GET /metrics; nil answers 404.
	Metrics http.Handler

	// SocketIO serves every request under /socket.io/ (transport/socketio);
	// nil answers 404.
	SocketIO http.Handler

	// Cluster serves GET /api/cluster; nil (no cluster) answers 404.
	Cluster http.Handler

	// Ready, when set, must also hold for /readyz to answer 200 (in a
	// cluster: the node has joined).
	Ready func() bool

	cfg      Config
	origins  originPolicy
	obs      Observer
	log      *slog.Logger
	public   fs.FS
	upgrader ws.HTTPUpgrader
	edge     *edge // what every Conn shares: settings, timing wheel, poller, worker pool

	mu       sync.Mutex
	draining bool           // shutdown has begun: /readyz 503, no new upgrades
	upgrades int            // upgrades between admission and OnConnect
	upgraded *sync.Cond     // signalled when upgrades drops, for Drain
	perAddr  map[string]int // open sockets and sessions per client address
	open     *Conn          // every socket not yet closed: a list through Conn.prev/next
	nOpen    int            // its length
	sessions int            // admitted sessions not yet released (session.go)
	allShut  chan struct{}  // closed once draining with no upgrade under way and no socket or session open
	shutDone bool           // allShut is closed
}

// NewServer checks cfg and returns a Server that serves the page and assets
// from public (index.html at its root) and reports its events to obs (nil:
// none). pool runs the poll mode's reads (nil: a pool of its own); main
// gives it the pool the actors run on, so one bound covers both.
func NewServer(cfg Config, obs Observer, log *slog.Logger, public fs.FS, pool *workpool.Pool) (*Server, error) {
	cfg = cfg.withDefaults()
	origins, err := newOriginPolicy(cfg.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	if obs == nil {
		obs = nopObserver{}
	}
	s := &Server{
		cfg:      cfg,
		origins:  origins,
		obs:      obs,
		log:      log,
		public:   public,
		upgrader: ws.HTTPUpgrader{Timeout: cfg.HandshakeTimeout},
		perAddr:  make(map[string]int),
		allShut:  make(chan struct{}),
	}
	s.upgraded = sync.NewCond(&s.mu)
	var poll *poller
	if s.cfg.ReadMode == ReadPoll {
		poll = newPoller() // nil where there is none: the goroutine mode
	}
	s.edge = newEdge(&s.cfg, poll, pool)
	return s, nil
}

// ReadMode is the read mode in use: ReadPoll, or ReadGoroutine when asked
// for or when this platform has no poller.
func (s *Server) ReadMode() string {
	if s.edge.poll != nil {
		return ReadPoll
	}
	return ReadGoroutine
}
