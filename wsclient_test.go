package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// wsClient is a real WebSocket client for the network tests, written on
// gobwas/ws's frame functions so that a test can also send any bytes it
// likes. One goroutine reads: it records counts and errors, answers pings
// (unless silent), and answers the server's close.
type wsClient struct {
	t    testing.TB
	nc   net.Conn
	br   *bufio.Reader
	wmu  sync.Mutex
	done chan struct{} // closed when the read goroutine ends

	mu        sync.Mutex
	counts    []countEvent
	errors    []errorEvent
	seqBroken string
	closeCode int  // close code the server sent; 0 if none
	silent    bool // answer nothing: no pongs, no close reply
	changed   chan struct{}
}

type countEvent struct {
	Room         string `json:"room"`
	CurrentUsers int    `json:"currentUsers"`
	Seq          uint64 `json:"seq"`
}

type errorEvent struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// dialOptions tune one client.
type dialOptions struct {
	room   string
	local  string      // source IP (127.0.0.x), "" for any
	header http.Header // extra handshake headers (Origin …)

	// noCleanup: the caller kills the client itself. For loops that dial
	// thousands of short-lived clients (the soak), which would otherwise pile
	// up one cleanup each until the test ends.
	noCleanup bool
}

// dial connects to the server's /ws and starts reading.
func dial(t testing.TB, s *testServer, o dialOptions) *wsClient {
	t.Helper()
	c, err := tryDial(t, s, o)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c
}

// tryDial is dial that returns the handshake error (ws.StatusError for an
// HTTP refusal).
func tryDial(t testing.TB, s *testServer, o dialOptions) (*wsClient, error) {
	url := s.wsURL + "/ws"
	if o.room != "" {
		url += "?room=" + o.room
	}
	d := ws.Dialer{Timeout: 10 * time.Second, Header: ws.HandshakeHeaderHTTP(o.header)}
	if o.local != "" {
		nd := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(o.local)}}
		d.NetDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return nd.DialContext(ctx, network, addr)
		}
	}
	nc, br, _, err := d.Dial(context.Background(), url)
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReader(nc)
	}
	c := &wsClient{t: t, nc: nc, br: br, done: make(chan struct{}), changed: make(chan struct{}, 1)}
	if !o.noCleanup {
		t.Cleanup(c.kill)
	}
	go c.readLoop()
	return c, nil
}

func (c *wsClient) readLoop() {
	defer close(c.done)
	defer c.notify()
	for {
		h, err := ws.ReadHeader(c.br)
		if err != nil {
			return
		}
		if h.Length > 1<<20 {
			c.t.Errorf("server sent a %d-byte frame", h.Length)
			return
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(c.br, p); err != nil {
			return
		}
		if h.Masked {
			c.t.Errorf("server sent a masked frame")
		}
		switch h.OpCode {
		case ws.OpPing:
			c.mu.Lock()
			silent := c.silent
			c.mu.Unlock()
			if !silent {
				_ = c.writeFrame(ws.NewPongFrame(p))
			}
		case ws.OpClose:
			code := 1005
			if len(p) >= 2 {
				code = int(binary.BigEndian.Uint16(p))
			}
			c.mu.Lock()
			c.closeCode = code
			silent := c.silent
			c.mu.Unlock()
			if silent {
				continue // a dead peer does not reply; the server must give up on it
			}
			_ = c.writeFrame(ws.NewCloseFrame(p[:min(len(p), 2)]))
			_ = c.nc.Close()
			return
		case ws.OpText:
			c.record(p)
		}
	}
}

func (c *wsClient) record(p []byte) {
	var ev struct {
		Event string          `json:"event"`
		Data  json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(p, &ev); err != nil {
		c.t.Errorf("server sent text that is not JSON: %q", p)
		return
	}
	c.mu.Lock()
	switch ev.Event {
	case "user count":
		var ce countEvent
		if err := json.Unmarshal(ev.Data, &ce); err != nil {
			c.t.Errorf("bad user count data %s", ev.Data)
		}
		if n := len(c.counts); n > 0 && ce.Seq <= c.counts[n-1].Seq && c.seqBroken == "" {
			c.seqBroken = fmt.Sprintf("seq %d after %d", ce.Seq, c.counts[n-1].Seq)
		}
		c.counts = append(c.counts, ce)
	case "error":
		var ee errorEvent
		_ = json.Unmarshal(ev.Data, &ee)
		c.errors = append(c.errors, ee)
	default:
		c.t.Errorf("unexpected event %q", ev.Event)
	}
	c.mu.Unlock()
	c.notify()
}

func (c *wsClient) notify() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// writeFrame masks and writes f (a client must mask).
func (c *wsClient) writeFrame(f ws.Frame) error {
	return c.writeRaw(ws.MustCompileFrame(ws.MaskFrame(f)))
}

// writeRaw writes bytes as they are: any frame, valid or not.
func (c *wsClient) writeRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := c.nc.Write(b)
	return err
}

// sendText sends one masked text message.
func (c *wsClient) sendText(s string) error { return c.writeFrame(ws.NewTextFrame([]byte(s))) }

// closeNormally sends close 1000 and waits for the server's reply.
func (c *wsClient) closeNormally() {
	_ = c.writeFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye")))
	c.waitDone(10 * time.Second)
}

// reset closes the TCP connection with RST (SO_LINGER 0): a vanished peer.
func (c *wsClient) reset() {
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.nc.Close()
	<-c.done
}

// goSilent stops answering pings and close frames: a dead peer whose TCP
// connection is still open.
func (c *wsClient) goSilent() {
	c.mu.Lock()
	c.silent = true
	c.mu.Unlock()
}

func (c *wsClient) kill() {
	_ = c.nc.Close()
	<-c.done
}

func (c *wsClient) waitDone(within time.Duration) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(within):
		return false
	}
}

func (c *wsClient) last() (countEvent, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.counts) == 0 {
		return countEvent{}, false
	}
	return c.counts[len(c.counts)-1], true
}

func (c *wsClient) serverCloseCode() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeCode
}

func (c *wsClient) errorEvents() []errorEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]errorEvent(nil), c.errors...)
}

func (c *wsClient) seqProblem() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seqBroken
}

// isOpen reports whether the read side is still running.
func (c *wsClient) isOpen() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}
