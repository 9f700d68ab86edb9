package transport

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"testing/fstest"
	"time"
)

// echoServer is a transport.Server whose sockets are read the way the
// server reads them (Start, in cfg's read mode) with a test-only handler
// that writes every text message back: the production server has no echo,
// and the conformance table needs one to check that a valid message arrives
// intact.
type echoServer struct {
	*Server
	url string // ws://127.0.0.1:port/ws
}

// startEchoServer serves cfg (after the defaults) on a loopback port until
// the test ends, then shuts down as main does and waits for every socket.
func startEchoServer(t testing.TB, cfg Config) *echoServer {
	t.Helper()
	s, err := NewServer(cfg, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), fstest.MapFS{"index.html": {Data: []byte("echo")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.OnConnect = func(_ string, c *Conn) {
		c.Start(func(msg []byte) { _ = c.WriteFrame(TextFrame(msg)) }, func(error) {})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: s.cfg.HandshakeTimeout}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = hs.Serve(ln)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Drain()
		_ = hs.Shutdown(ctx)
		<-served
		for _, c := range s.snapshot() {
			c.Close(1001, "test over")
		}
		if err := s.WaitClosed(ctx); err != nil {
			t.Errorf("echo server: %v", err)
		}
	})
	return &echoServer{Server: s, url: "ws://" + ln.Addr().String() + "/ws"}
}

// conformanceConfig is the default configuration with the rate limit out
// of the way (several rows send bursts of frames) and no keep-alive pings.
func conformanceConfig() Config {
	cfg := DefaultConfig()
	cfg.RateLimit, cfg.RateBurst = 1e6, 1e6
	cfg.PingInterval = time.Hour
	cfg.CloseTimeout = time.Second
	cfg.MaxConnsPerIP = 0
	return cfg
}
