package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
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
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := newApp(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{t: t, app: a, url: "http://" + ln.Addr().String(), wsURL: "ws://" + ln.Addr().String(),
		cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- a.serve(ctx, ln) }()
	t.Cleanup(func() { s.stop() })
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

// testWriter sends log lines to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// eventually waits until cond holds, polling, and fails with its last
// explanation at the deadline.
func eventually(t testing.TB, within time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true after %s: %s", within, why)
		}
		<-tick.C
	}
}

// allShow reports whether every client's last count is want.
func allShow(clients []*wsClient, want int) (bool, string) {
	for i, c := range clients {
		ce, ok := c.last()
		if !ok {
			return false, fmt.Sprintf("client %d has no count (want %d)", i, want)
		}
		if ce.CurrentUsers != want {
			return false, fmt.Sprintf("client %d shows %d, want %d", i, ce.CurrentUsers, want)
		}
	}
	return true, ""
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
