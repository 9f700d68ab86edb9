package transport

import (
	"net"
	"sync"
	"testing"
	"time"
)

// deadlineConn is a net.Conn that accepts every write and records every read
// deadline it is given. Nothing reads from it.
type deadlineConn struct {
	net.Conn // nil: only the methods below are called

	mu        sync.Mutex
	deadlines []time.Time
}

func (d *deadlineConn) Write(p []byte) (int, error)      { return len(p), nil }
func (d *deadlineConn) SetWriteDeadline(time.Time) error { return nil }
func (d *deadlineConn) Close() error                     { return nil }

func (d *deadlineConn) SetReadDeadline(t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.deadlines = append(d.deadlines, t)
	return nil
}

// TestCloseLingerSurvivesConcurrentRearm races the server's Close (which
// starts the close linger: the socket waits CloseTimeout for the peer's close
// frame) against the read loop re-arming its read deadline for the next
// frame. Whatever the interleaving, every deadline the socket is given must
// be a real one, and the last must be the linger's: a read deadline from the
// zero value of the close state (1970) would end the linger at once and cut
// the closing handshake short.
func TestCloseLingerSurvivesConcurrentRearm(t *testing.T) {
	cfg := DefaultConfig()
	start := time.Now()
	iterations := 100_000
	if testing.Short() {
		iterations = 2000
	}
	for i := range iterations {
		nc := &deadlineConn{}
		c := newConn(nc, nc, &cfg, "race", nil)
		c.reading.Store(true) // a ReadLoop runs: Close lingers instead of shutting

		var wg sync.WaitGroup
		ready := make(chan struct{})
		wg.Go(func() {
			<-ready
			c.Close(1001, "going away")
		})
		wg.Go(func() {
			<-ready
			c.armReadDeadline()
		})
		close(ready)
		wg.Wait()

		nc.mu.Lock()
		deadlines := nc.deadlines
		nc.mu.Unlock()
		for _, d := range deadlines {
			if d.Before(start) {
				t.Fatalf("iteration %d: a read deadline of %s was set (deadlines in order: %v)", i, d, deadlines)
			}
		}
		last := deadlines[len(deadlines)-1]
		if want := start.Add(cfg.CloseTimeout); last.Before(want) || last.After(time.Now().Add(cfg.CloseTimeout)) {
			t.Fatalf("iteration %d: the last read deadline is %s, want the close linger (now + %s)", i, last, cfg.CloseTimeout)
		}
	}
}
