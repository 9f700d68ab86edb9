package transport

import (
	"net"
	"sync"
	"testing"
	"time"

	"presence/internal/leave"
)

// nullConn is a net.Conn that accepts every write. Nothing reads from it.
type nullConn struct {
	net.Conn // nil: only the methods below are called
}

func (nullConn) Write(p []byte) (int, error)      { return len(p), nil }
func (nullConn) SetWriteDeadline(time.Time) error { return nil }
func (nullConn) Close() error                     { return nil }

// TestCloseLingerSurvivesConcurrentRearm races the server's Close (which
// starts the close linger: the socket waits CloseTimeout for the peer's close
// frame) against the reader completing a frame (which gives the peer a new
// read deadline). Whatever the interleaving, the socket must end up closing
// with the linger's deadline, and a check of its timers just past the read
// deadline must not drop it as a silent peer: the close wins.
func TestCloseLingerSurvivesConcurrentRearm(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	e := newEdge(&cfg, nil, nil)
	iterations := 100_000
	if testing.Short() {
		iterations = 2000
	}
	for i := range iterations {
		start := mono()
		c := newConn(nullConn{}, nil, e, "race")
		c.reading.Store(true) // a reader runs: Close lingers instead of shutting
		c.startTimers()

		var wg sync.WaitGroup
		ready := make(chan struct{})
		wg.Go(func() {
			<-ready
			c.Close(1001, "going away")
		})
		wg.Go(func() {
			<-ready
			c.rearmRead()
		})
		close(ready)
		wg.Wait()

		by := c.closeBy.Load()
		if !c.isClosing() || by < start+int64(cfg.CloseTimeout) || by > mono()+int64(cfg.CloseTimeout) {
			t.Fatalf("iteration %d: closing %v until %d, want the linger (now + %s)", i, c.isClosing(), by, cfg.CloseTimeout)
		}
		c.readBy.Store(mono() - 1) // the read deadline has passed; the linger has not
		c.Fire()
		if c.shutDone.Load() {
			t.Fatalf("iteration %d: the closing socket was dropped at its read deadline", i)
		}
		if le := c.ended(); le.Reason != leave.ServerClose {
			t.Fatalf("iteration %d: ended %v, want server_close", i, le)
		}
		c.shut()
	}
}
