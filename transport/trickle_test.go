package transport

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"presence/internal/wstest"
)

// Readiness-based reading must never let one socket hold a worker: a peer
// that sends a frame a byte at a time, or stops in the middle of one, costs
// its parse state and nothing else. These run against both read modes.

// TestTrickledAndPausedFramesBlockNobody: one client sends a message one
// byte per write (each its own TCP segment, so its own readiness event),
// several times the pool's size of clients stop in the middle of a frame,
// and meanwhile a plain client's messages are echoed at once. The trickled
// and the paused messages then arrive intact.
func TestTrickledAndPausedFramesBlockNobody(t *testing.T) {
	t.Parallel()
	for _, mode := range ReadModes() {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			cfg := conformanceConfig()
			cfg.ReadMode = mode
			s := startEchoServer(t, cfg)
			dial := func() *wstest.Client {
				c, err := wstest.Dial(t, s.url, wstest.Options{RawText: true})
				if err != nil {
					t.Fatal(err)
				}
				return c
			}

			// Paused mid-frame: more of them than the pool has workers.
			paused := make([]*wstest.Client, 3*s.edge.pool.Max())
			pausedMsg := func(i int) []byte { return []byte(fmt.Sprintf("paused %d: κόσμε", i)) }
			for i := range paused {
				paused[i] = dial()
				f := wstest.Frame(true, 0, ws.OpText, pausedMsg(i))
				cut := 2 + 4 + 3 // the header, the mask and three bytes of "paused": the frame is incomplete
				if err := paused[i].Write(f[:cut]); err != nil {
					t.Fatal(err)
				}
				defer func(rest []byte) { _ = paused[i].Write(rest) }(f[cut:])
			}

			// Trickled: a byte per write, while the plain client talks.
			trickled := dial()
			long := bytes.Repeat([]byte("trickle "), 8)
			frame := wstest.Frame(true, 0, ws.OpText, long)
			trickleDone := make(chan error, 1)
			go func() {
				tick := time.NewTicker(time.Millisecond) // the pace of the trickle, not a wait for the server
				defer tick.Stop()
				for i := range frame {
					<-tick.C
					if err := trickled.Write(frame[i : i+1]); err != nil {
						trickleDone <- err
						return
					}
				}
				trickleDone <- nil
			}()

			plain := dial()
			for i := range 20 {
				msg := fmt.Sprintf("plain %d", i)
				if err := plain.SendText(msg); err != nil {
					t.Fatal(err)
				}
				if !plain.Await(5*time.Second, func(s *wstest.State) bool { return len(s.Texts) == i+1 }) {
					t.Fatalf("the plain client's message %d was not echoed while others paused mid-frame", i)
				}
			}
			if err := <-trickleDone; err != nil {
				t.Fatalf("trickle: %v", err)
			}
			if !trickled.Await(5*time.Second, func(s *wstest.State) bool { return len(s.Texts) == 1 }) {
				t.Fatal("the trickled message was not echoed")
			}
			if got := trickled.Snapshot().Texts[0]; !bytes.Equal(got, long) {
				t.Fatalf("trickled message came back as %q", got)
			}
		})
	}
}

// TestPausedFramesComplete: a frame that stops half-way and resumes later is
// parsed as if it had come at once.
func TestPausedFramesComplete(t *testing.T) {
	t.Parallel()
	for _, mode := range ReadModes() {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			cfg := conformanceConfig()
			cfg.ReadMode = mode
			s := startEchoServer(t, cfg)
			c, err := wstest.Dial(t, s.url, wstest.Options{RawText: true})
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("split across a pause: κόσμε")
			f := wstest.Frame(true, 0, ws.OpText, msg)
			// Cut inside the header, inside the mask, inside the payload and
			// inside a two-byte code point.
			cuts := []int{1, 2, 5, 6, 7, len(f) - 1}
			for i, cut := range cuts {
				if err := c.Write(f[:cut]); err != nil {
					t.Fatal(err)
				}
				// The pause: a ping round trip on another socket would not
				// prove this one was read; the echo count proves nothing came
				// back early, and the rest then completes the frame.
				if n := len(c.Snapshot().Texts); n != i {
					t.Fatalf("cut at %d: %d echoes before the frame was complete, want %d", cut, n, i)
				}
				if err := c.Write(f[cut:]); err != nil {
					t.Fatal(err)
				}
				if !c.Await(5*time.Second, func(s *wstest.State) bool { return len(s.Texts) == i+1 }) {
					t.Fatalf("cut at %d: no echo", cut)
				}
				if got := c.Snapshot().Texts[i]; !bytes.Equal(got, msg) {
					t.Fatalf("cut at %d: echoed %q", cut, got)
				}
			}
		})
	}
}

// TestSlowlorisFrameIsDropped: a peer that trickles one frame for longer
// than the ping interval plus the pong timeout is dropped (ping_timeout: no
// close frame), although bytes keep arriving; a peer that sends whole frames
// as slowly stays.
func TestSlowlorisFrameIsDropped(t *testing.T) {
	t.Parallel()
	for _, mode := range ReadModes() {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			cfg := conformanceConfig()
			cfg.ReadMode = mode
			cfg.PingInterval, cfg.PongTimeout = 300*time.Millisecond, 300*time.Millisecond
			s := startEchoServer(t, cfg)
			// Silent: it must not answer the server's pings, whose pongs would
			// land in the middle of its frame.
			loris, err := wstest.Dial(t, s.url, wstest.Options{RawText: true, Silent: true})
			if err != nil {
				t.Fatal(err)
			}
			steady, err := wstest.Dial(t, s.url, wstest.Options{RawText: true})
			if err != nil {
				t.Fatal(err)
			}
			frame := wstest.Frame(true, 0, ws.OpText, bytes.Repeat([]byte("x"), 100))
			start := time.Now()
			tick := time.NewTicker(50 * time.Millisecond) // the attack's pace
			defer tick.Stop()
			i := 0
			for loris.Open() && time.Since(start) < 10*time.Second {
				<-tick.C
				if i < len(frame)-1 { // never the last byte
					_ = loris.Write(frame[i : i+1])
					i++
				}
				_ = steady.SendText("still here") // a whole frame each time: re-arms its deadline
			}
			if loris.Open() {
				t.Fatalf("the slowloris peer was not dropped within %s", time.Since(start))
			}
			if st := loris.Snapshot(); st.CloseSeen {
				t.Fatalf("the slowloris peer got a close frame (%d); a silent peer is dropped without one", st.CloseCode)
			}
			if !steady.Open() {
				t.Fatal("the steady peer was dropped too")
			}
			t.Logf("dropped after %s, %d bytes of the frame sent", time.Since(start).Round(time.Millisecond), i)
		})
	}
}
