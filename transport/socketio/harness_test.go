package socketio

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"go.uber.org/goleak"

	"presence/internal/wire"
	"presence/internal/wstest"
	"presence/transport"
)

// The package's tests run the real transport.Server and Server on a
// loopback httptest server, with a fake Member in place of the actor tree
// (this package does not import it): every session that joins is started
// at once and records what it is told.

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// within bounds every wait of these tests.
const within = 5 * time.Second

type harness struct {
	t       *testing.T
	edge    *transport.Server
	srv     *Server
	http    *httptest.Server
	url     string // http://127.0.0.1:port
	mu      sync.Mutex
	members []*member
}

// member is the fake Member of one joined session.
type member struct {
	room string
	s    *Session

	mu    sync.Mutex
	texts []string
	end   error
	done  chan struct{}
}

// testConfig has short timers for the timeout rows, and pings far apart, so
// that a row's client need not answer them; shortPings is for the heartbeat
// rows.
func testConfig() transport.Config {
	c := transport.DefaultConfig()
	c.PingInterval = time.Minute
	c.PongTimeout = 400 * time.Millisecond
	c.HandshakeTimeout = 1500 * time.Millisecond
	c.CloseTimeout = 500 * time.Millisecond
	c.MaxConnsPerIP = 0
	return c
}

// shortPings pings every 400 ms (a busy machine running the race detector
// still answers well within the 400 ms pong timeout).
func shortPings(c *transport.Config) { c.PingInterval = 400 * time.Millisecond }

func newHarness(t *testing.T, mutate func(*transport.Config)) *harness {
	t.Helper()
	cfg := testConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	edge, err := transport.NewServer(cfg, nil, log, fstest.MapFS{"index.html": {Data: []byte("page")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(edge, log)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, edge: edge, srv: srv}
	srv.OnConnect = h.join
	edge.SocketIO = srv
	h.http = httptest.NewServer(edge.Handler())
	h.url = h.http.URL
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), within)
		defer cancel()
		edge.Drain()
		_ = srv.Shutdown(ctx)
		h.http.Close()
	})
	return h
}

// join is the fake OnConnect. OnConnect runs under the session's lock, as
// main's hand-over to the actors does; the fake Member then starts the
// session from its own goroutine, as a real one does from its actor.
func (h *harness) join(room string, s *Session) {
	m := &member{room: room, s: s, done: make(chan struct{})}
	h.mu.Lock()
	h.members = append(h.members, m)
	h.mu.Unlock()
	go s.Start(func(msg []byte) {
		m.mu.Lock()
		m.texts = append(m.texts, string(msg))
		m.mu.Unlock()
	}, func(err error) {
		m.mu.Lock()
		m.end = err
		m.mu.Unlock()
		close(m.done)
	})
}

// memberOf waits for the member of the session sid: the caller has sent
// its CONNECT.
func (h *harness) memberOf(t *testing.T, sid string) *member {
	t.Helper()
	var m *member
	wstest.Eventually(t, within, func() (bool, string) {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, x := range h.members {
			if x.s.sid == sid {
				m = x
				return true, ""
			}
		}
		return false, "the session has not joined"
	})
	return m
}

func (h *harness) joined() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.members)
}

// joinWS opens a WebSocket session, joins the main namespace, waits for the
// connect ack, and returns the client and the session's member.
func (h *harness) joinWS(t *testing.T) (*wstest.Client, *member) {
	t.Helper()
	c := h.dialWS(h.ws("EIO=4&transport=websocket"))
	sid := decodeOpen(t, awaitText(t, c, 1)[0]).SID
	_ = c.SendText("40")
	if got := awaitText(t, c, 2)[1]; !strings.HasPrefix(got, "40{") {
		t.Fatalf("CONNECT answered %q", got)
	}
	return c, h.memberOf(t, sid)
}

// ended waits for the member's session to end and returns why.
func (m *member) ended(t *testing.T) error {
	t.Helper()
	select {
	case <-m.done:
	case <-time.After(within):
		t.Fatal("the session did not end")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.end
}

func (m *member) got() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.texts...)
}

// eio is the Engine.IO endpoint with a query.
func (h *harness) eio(query string) string { return h.url + "/socket.io/?" + query }

func (h *harness) ws(query string) string {
	return strings.Replace(h.eio(query), "http://", "ws://", 1)
}

// dialWS opens a WebSocket session (or a probe) and returns its client,
// which records every text message as it is.
func (h *harness) dialWS(url string) *wstest.Client {
	h.t.Helper()
	c, err := wstest.Dial(h.t, url, wstest.Options{RawText: true})
	if err != nil {
		h.t.Fatalf("dial %s: %v", url, err)
	}
	return c
}

// awaitText waits until c has received n text messages and returns them.
func awaitText(t *testing.T, c *wstest.Client, n int) []string {
	t.Helper()
	if !c.Await(within, func(s *wstest.State) bool { return len(s.Texts) >= n }) {
		t.Fatalf("got %q, want %d messages", texts(c), n)
	}
	return texts(c)
}

func texts(c *wstest.Client) []string {
	var out []string
	for _, b := range c.Snapshot().Texts {
		out = append(out, string(b))
	}
	return out
}

// awaitEnd waits until c's connection is over and returns its close code.
func awaitEnd(t *testing.T, c *wstest.Client) int {
	t.Helper()
	if !c.WaitDone(within) {
		t.Fatalf("the WebSocket is still open (got %q)", texts(c))
	}
	return int(c.CloseCode())
}

// count is a test count: a wire.Message like the actor tree's, encoded by
// this package's encoders.
type count struct {
	room  string
	users int
	seq   uint64
}

func (c count) Encoded(f wire.Format) []byte {
	switch f {
	case wire.SocketIOFrame:
		return FrameEncoder{}.Count(c.room, c.users, c.seq)
	case wire.SocketIOPacket:
		return PacketEncoder{}.Count(c.room, c.users, c.seq)
	}
	panic("a session asked for " + f.String())
}

func (count) KeepLatest() bool { return true }

// decodeOpen reads an open packet, failing the test if it is not one.
func decodeOpen(t *testing.T, pkt string) wstest.EIOOpen {
	t.Helper()
	var o wstest.EIOOpen
	if !strings.HasPrefix(pkt, "0") || json.Unmarshal([]byte(pkt[1:]), &o) != nil || o.SID == "" {
		t.Fatalf("%q is not an open packet", pkt)
	}
	return o
}
