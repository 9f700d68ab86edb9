package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gobwas/ws"

	"presence/internal/wstest"
)

// newTestServer serves a Server on loopback whose OnConnect is onConnect.
func newTestServer(t *testing.T, cfg Config, onConnect func(room string, c *Conn)) (*Server, *httptest.Server) {
	t.Helper()
	pub := fstest.MapFS{"index.html": {Data: []byte("<html>page</html>")}}
	s, err := NewServer(cfg, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), pub)
	if err != nil {
		t.Fatal(err)
	}
	s.OnConnect = onConnect
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

// readLoopInBackground is an OnConnect that reads each socket until it ends.
func readLoopInBackground(t *testing.T) func(string, *Conn) {
	return func(_ string, c *Conn) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = c.ReadLoop(func([]byte) {})
		}()
		t.Cleanup(func() { c.shut(); <-done })
	}
}

// wsURL is the WebSocket URL of hs's /ws.
func wsURL(hs *httptest.Server) string { return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws" }

// dialWS joins the lobby of hs with a kit client that the test's cleanup kills.
func dialWS(t *testing.T, hs *httptest.Server) *wstest.Client {
	t.Helper()
	c, err := wstest.Dial(t, wsURL(hs)+"?room=lobby", wstest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// closeCodeFrom waits for the server's close frame and returns its code.
func closeCodeFrom(t *testing.T, c *wstest.Client) ws.StatusCode {
	t.Helper()
	if !c.Await(10*time.Second, func(s *wstest.State) bool { return s.CloseSeen || s.Ended }) || c.CloseCode() == 0 {
		s := c.Snapshot()
		t.Fatalf("no close frame with a code (close seen: %v, connection ended: %v)", s.CloseSeen, s.Err)
	}
	return c.CloseCode()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestDrainTurnsReadyzAndUpgradesAway(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, Config{}, readLoopInBackground(t))
	if code, _ := get(t, hs.URL+"/readyz"); code != 200 {
		t.Fatalf("/readyz before drain: %d", code)
	}
	s.Drain()
	if code, _ := get(t, hs.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz while draining: %d, want 503", code)
	}
	if code, _ := get(t, hs.URL+"/healthz"); code != 200 {
		t.Fatalf("/healthz while draining: %d, want 200", code)
	}
	_, err := wstest.Dial(t, wsURL(hs), wstest.Options{})
	var status ws.StatusError
	if !errors.As(err, &status) || int(status) != http.StatusServiceUnavailable {
		t.Fatalf("upgrade while draining: %v, want 503", err)
	}
	if err := s.WaitClosed(context.Background()); err != nil {
		t.Fatalf("WaitClosed with no sockets: %v", err)
	}
}

// TestWaitClosedForcesStragglers: a socket nobody closes is sent 1001 and
// closed when the deadline passes.
func TestWaitClosedForcesStragglers(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, Config{}, readLoopInBackground(t))
	nc := dialWS(t, hs)
	wstest.Eventually(t, 10*time.Second, connections(s, 1))

	s.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.WaitClosed(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitClosed = %v, want the deadline error", err)
	}
	if code := closeCodeFrom(t, nc); code != ws.StatusGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	if n := s.Connections(); n != 0 {
		t.Fatalf("%d connections left", n)
	}
}

// TestWaitClosedClosesOrphans: a socket whose ReadLoop never started (its
// join was lost when the actors stopped) is closed with 1001 at once.
func TestWaitClosedClosesOrphans(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, Config{}, func(string, *Conn) {})
	nc := dialWS(t, hs)
	wstest.Eventually(t, 10*time.Second, connections(s, 1))
	s.Drain()
	if err := s.WaitClosed(context.Background()); err != nil {
		t.Fatalf("WaitClosed: %v", err)
	}
	if code := closeCodeFrom(t, nc); code != ws.StatusGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
}

// TestDrainWaitsForAdmittedUpgrades: an upgrade admitted before Drain
// reaches OnConnect before Drain returns, and its socket is then waited for
// like any other (no double close of the all-closed signal).
func TestDrainWaitsForAdmittedUpgrades(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	var returned atomic.Bool
	var conn atomic.Pointer[Conn]
	s, hs := newTestServer(t, Config{}, func(_ string, c *Conn) {
		conn.Store(c)
		close(entered)
		<-release
		returned.Store(true)
	})
	dialed := make(chan *wstest.Client, 1)
	go func() {
		// Not dialWS: t.Fatal must not run on this goroutine.
		c, err := wstest.Dial(t, wsURL(hs), wstest.Options{})
		if err != nil {
			close(entered) // unblock the test, which then fails on the missing socket
			dialed <- nil
			return
		}
		dialed <- c
	}()
	<-entered
	if conn.Load() == nil {
		t.Fatal("the upgrade did not reach OnConnect")
	}

	drained := make(chan struct{})
	go func() { s.Drain(); close(drained) }()
	select {
	case <-drained:
		t.Fatal("Drain returned while an admitted upgrade had not reached OnConnect's end")
	case <-time.After(20 * time.Millisecond): // a bounded check that Drain is still waiting
	}
	close(release)
	<-drained
	if !returned.Load() {
		t.Fatal("Drain returned before OnConnect did")
	}
	conn.Load().Close(uint16(ws.StatusGoingAway), "bye")
	if err := s.WaitClosed(context.Background()); err != nil {
		t.Fatalf("WaitClosed: %v", err)
	}
	<-dialed // its cleanup ends it
}

// connections is a condition for wstest.Eventually: s has n open sockets.
func connections(s *Server, n int) func() (bool, string) {
	return func() (bool, string) {
		got := s.Connections()
		return got == n, fmt.Sprintf("%d connections, want %d", got, n)
	}
}
