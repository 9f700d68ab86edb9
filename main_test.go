package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"presence/internal/wstest"
)

func TestMain(m *testing.M) {
	// The browser tests share one Chromium; it is closed before the check.
	goleak.VerifyTestMain(runThenCloseBrowser{m},
		// protoactor's dead-letter log throttle: a goroutine that lives for
		// one throttle interval (1 s) after a dead letter, such as a Stop
		// that reaches a member which has just stopped by itself.
		goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"))
}

// testServer is the real server (actor tree, transport, HTTP) on a loopback
// port, for one test.
type testServer struct {
	t      testing.TB
	app    *app
	url    string // http://127.0.0.1:port
	wsURL  string // ws://127.0.0.1:port
	cancel context.CancelFunc
	done   chan error
	logs   *testWriter // what the server logged (warnings and up)
}

// testConfig is the default configuration with test-friendly timings.
func testConfig(t testing.TB) config {
	cfg, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.FlushInterval = 10 * time.Millisecond
	cfg.CloseTimeout = time.Second
	cfg.ShutdownTimeout = 10 * time.Second
	cfg.ActorMetrics = false
	cfg.MaxConnsPerIP = 0
	return cfg
}

// startServer serves cfg (testConfig after mutate) until the test ends.
func startServer(t testing.TB, mutate func(*config)) *testServer {
	t.Helper()
	cfg := testConfig(t)
	if mutate != nil {
		mutate(&cfg)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testWriter{t: t}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := newApp(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{t: t, app: a, url: "http://" + ln.Addr().String(), wsURL: "ws://" + ln.Addr().String(),
		cancel: cancel, done: make(chan error, 1), logs: logs}
	go func() { s.done <- a.serve(ctx, ln) }()
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("the server stopped with an error: %v", err)
		}
	})
	return s
}

// startServerAt is startServer on a fixed address (host:port), e.g. that of
// a server that has just stopped, to bring it back where clients reconnect.
func startServerAt(t testing.TB, addr string, mutate func(*config)) *testServer {
	t.Helper()
	return startServer(t, func(c *config) {
		if mutate != nil {
			mutate(c)
		}
		c.Addr = addr
	})
}

// binaryServer is a testServer for a server binary this test runs
// (wstest.StartBinary): only its addresses, for dial, roomsAPI and metric.
func binaryServer(t testing.TB, p *wstest.Process) *testServer {
	return &testServer{t: t, url: "http://" + p.Addr, wsURL: "ws://" + p.Addr}
}

// addr is the server's listening address, host:port.
func (s *testServer) addr() string { return strings.TrimPrefix(s.url, "http://") }

// stop shuts the server down as SIGTERM would and waits for it.
func (s *testServer) stop() error {
	s.cancel()
	select {
	case err, ok := <-s.done:
		if ok {
			close(s.done)
		}
		return err
	case <-time.After(30 * time.Second):
		s.t.Fatal("server did not stop within 30s")
		return nil
	}
}

// httpClient makes plain requests without keeping connections alive, so
// that no client goroutine outlives a test (goleak checks).
var httpClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

// testWriter sends log lines to the test log and keeps them, so a test can
// check what the server said.
type testWriter struct {
	t     testing.TB
	mu    sync.Mutex
	lines []string
}

func (w *testWriter) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	w.t.Logf("%s", line)
	w.mu.Lock()
	w.lines = append(w.lines, line)
	w.mu.Unlock()
	return len(p), nil
}

// logged reports whether a line the server logged contains s.
func (s *testServer) logged(substr string) bool {
	s.logs.mu.Lock()
	defer s.logs.mu.Unlock()
	for _, l := range s.logs.lines {
		if strings.Contains(l, substr) {
			return true
		}
	}
	return false
}

// dial joins room on s with a kit client that the test's cleanup kills.
func (s *testServer) dial(t testing.TB, room string) *wstest.Client {
	t.Helper()
	return s.dialWith(t, room, wstest.Options{})
}

// dialWith is dial with options: a source address, headers, silence …
func (s *testServer) dialWith(t testing.TB, room string, o wstest.Options) *wstest.Client {
	t.Helper()
	c, err := s.tryDial(t, room, o)
	if err != nil {
		t.Fatalf("dial %s: %v", room, err)
	}
	return c
}

// tryDial is dialWith that returns the handshake's error (a ws.StatusError
// for an HTTP refusal) instead of failing the test.
func (s *testServer) tryDial(t testing.TB, room string, o wstest.Options) (*wstest.Client, error) {
	return wstest.Dial(t, s.wsURL+"/ws?room="+room, o)
}

// roomsAPI fetches /api/rooms.
func (s *testServer) roomsAPI(t testing.TB) (connections int, rooms map[string]int) {
	t.Helper()
	var body struct {
		Connections int `json:"connections"`
		Rooms       []struct {
			Room         string `json:"room"`
			CurrentUsers int    `json:"currentUsers"`
		} `json:"rooms"`
	}
	res, err := httpClient.Get(s.url + "/api/rooms")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	rooms = map[string]int{}
	for _, r := range body.Rooms {
		rooms[r.Room] = r.CurrentUsers
	}
	return body.Connections, rooms
}

// metric returns the value of one unlabelled sample (or a labelled one,
// "name{label=\"v\"}") from /metrics, and whether it was there.
func (s *testServer) metric(t testing.TB, sample string) (float64, bool) {
	t.Helper()
	res, err := httpClient.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, sample+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return v, true
		}
	}
	return 0, false
}

// get fetches path and returns the status and body.
func (s *testServer) get(t testing.TB, path string, header http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
