package wstest

import (
	"bufio"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// Client is a real WebSocket client for tests. It can write any bytes, and
// one goroutine of its own reads everything the server sends (read.go): it
// records counts, errors, pongs, texts and the close frame in its State,
// answers pings and the server's close unless it is silent, and holds the
// server to the protocol and the wire contract as it goes.
//
// Ownership and concurrency: the Client owns its connection. Any goroutine
// may call its methods at any time; writes are serialised with the reader's
// own replies (pongs, close replies), so frames never interleave. The reader
// ends when the connection does (Done); the client is ended by Kill, Reset or
// CloseNormally, or by the cleanup Dial registers.
type Client struct {
	t       testing.TB // nil outside a test: reports are then only recorded
	name    string
	nc      net.Conn
	br      *bufio.Reader
	timeout time.Duration
	rawText bool
	done    chan struct{} // closed when the reader ends
	closeNC sync.Once

	wmu sync.Mutex // one write at a time

	mu        sync.Mutex    // guards what follows
	st        State         // what the server has sent so far
	silent    bool          // answer nothing: no pongs, no close reply
	sentClose bool          // this client sent a close frame (WriteFrame, CloseNormally)
	changed   chan struct{} // closed and replaced whenever st changes (see Await)
}

// Dial opens a WebSocket to url (ws://host:port/path?query) and starts the
// client's reader. It returns the handshake's error, a ws.StatusError for an
// HTTP refusal (403, 429 …), so that a test can expect one.
//
// t receives the client's reports: each protocol or contract violation the
// reader finds is a t.Errorf, from the reader goroutine. Unless
// o.NoCleanup, t's cleanup kills the client, so no report comes after the
// test. t may be nil outside a test (an Example): reports are then only
// recorded (State.Problems) and the caller must end the client.
func Dial(t testing.TB, url string, o Options) (*Client, error) {
	nc, br, err := DialRaw(url, o)
	if err != nil {
		return nil, err
	}
	c := &Client{
		t: t, name: o.Name, nc: nc, br: br, timeout: o.timeout(), rawText: o.RawText,
		done: make(chan struct{}), silent: o.Silent, changed: make(chan struct{}),
	}
	if c.name == "" {
		c.name = url
	}
	if t != nil && !o.NoCleanup {
		t.Cleanup(c.Kill)
	}
	go c.read()
	return c, nil
}

// Write writes b as it is: any bytes, valid frames or not, within the
// client's timeout.
func (c *Client) Write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.nc.Write(b)
	return err
}

// WriteInPieces writes b n bytes at a time (all at once if n ≤ 0), stopping
// at the first failed write: a peer whose frames arrive in fragments of TCP.
func (c *Client) WriteInPieces(b []byte, n int) error {
	if n <= 0 {
		n = len(b)
	}
	for len(b) > 0 {
		k := min(n, len(b))
		if err := c.Write(b[:k]); err != nil {
			return err
		}
		b = b[k:]
	}
	return nil
}

// WriteFrame writes one final masked frame. A close frame written here
// counts as this client's close (the server's reply is then not answered).
func (c *Client) WriteFrame(op ws.OpCode, payload []byte) error {
	if op == ws.OpClose {
		c.mu.Lock()
		c.sentClose = true
		c.mu.Unlock()
	}
	return c.Write(Frame(true, 0, op, payload))
}

// SendText sends one masked text message.
func (c *Client) SendText(s string) error { return c.WriteFrame(ws.OpText, []byte(s)) }

// CloseNormally sends close 1000 and waits (at most the client's timeout)
// for the server's reply and the end of the connection.
func (c *Client) CloseNormally() {
	_ = c.WriteFrame(ws.OpClose, CloseBody(uint16(ws.StatusNormalClosure), "bye"))
	c.WaitDone(c.timeout)
}

// Reset closes the TCP connection with RST (SO_LINGER 0), as a peer that
// vanishes does, and waits for the reader to end.
func (c *Client) Reset() {
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Kill()
}

// GoSilent stops answering pings and close frames: a dead peer whose TCP
// connection is still open. The reader goes on recording what arrives.
func (c *Client) GoSilent() {
	c.mu.Lock()
	c.silent = true
	c.mu.Unlock()
}

// Kill closes the connection without a close frame and waits for the reader
// to end. It is idempotent.
func (c *Client) Kill() {
	c.closeConn()
	<-c.done
}

func (c *Client) closeConn() { c.closeNC.Do(func() { _ = c.nc.Close() }) }

// Done is closed when the reader has ended: the connection is over.
func (c *Client) Done() <-chan struct{} { return c.done }

// WaitDone waits at most within for the connection to end, and reports
// whether it did.
func (c *Client) WaitDone(within time.Duration) bool {
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case <-c.done:
		return true
	case <-timer.C:
		return false
	}
}

// Open reports whether the reader is still running.
func (c *Client) Open() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}
