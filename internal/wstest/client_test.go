package wstest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// The kit's own tests: a scripted server plays frames at a Client, so that
// the checks every other test relies on (recording, replies, violations)
// are seen to work, and to fail when the server misbehaves.

// scriptedServer accepts one WebSocket and runs script on it; the test waits
// for the script to finish.
func scriptedServer(t *testing.T, script func(nc net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		ln.Close()
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := ws.Upgrade(nc); err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		script(nc, bufio.NewReader(nc))
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return "ws://" + ln.Addr().String() + "/ws"
}

func send(nc net.Conn, f ws.Frame) { _ = ws.WriteFrame(nc, f) }

func sendText(nc net.Conn, s string) { send(nc, ws.NewTextFrame([]byte(s))) }

// readClient reads the client's next frame, unmasked.
func readClient(t *testing.T, br *bufio.Reader) ws.Frame {
	h, err := ws.ReadHeader(br)
	if err == nil && h.Length > 1<<16 {
		err = fmt.Errorf("a %d-byte frame from the test's own client", h.Length)
	}
	f := ws.Frame{Header: h, Payload: make([]byte, max(h.Length, 0))}
	if err == nil {
		_, err = io.ReadFull(br, f.Payload)
	}
	if err != nil {
		t.Errorf("read the client's frame: %v", err)
		return ws.Frame{}
	}
	if !f.Header.Masked {
		t.Errorf("the client sent an unmasked frame")
	}
	return ws.UnmaskFrame(f)
}

func TestClientRecordsAndAnswers(t *testing.T) {
	t.Parallel()
	url := scriptedServer(t, func(nc net.Conn, br *bufio.Reader) {
		sendText(nc, `{"event":"user count","data":{"room":"lobby","currentUsers":1,"seq":10}}`)
		sendText(nc, `{"event":"error","data":{"code":"bad_json","message":"decode"}}`)
		send(nc, ws.NewPingFrame([]byte("are you there")))
		if f := readClient(t, br); f.Header.OpCode != ws.OpPong || string(f.Payload) != "are you there" {
			t.Errorf("the client answered the ping with %v %q", f.Header.OpCode, f.Payload)
		}
		sendText(nc, `{"event":"user count","data":{"room":"lobby","currentUsers":2,"seq":11}}`)
		send(nc, ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusGoingAway, "bye")))
		if f := readClient(t, br); f.Header.OpCode != ws.OpClose || !slices.Equal(f.Payload, []byte{0x03, 0xe9}) {
			t.Errorf("the client answered the close with %v %x, want close 1001", f.Header.OpCode, f.Payload)
		}
	})
	c, err := Dial(t, url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !c.WaitDone(10 * time.Second) {
		t.Fatal("the client did not hang up after the closing handshake")
	}
	s := c.Snapshot()
	if want := []Count{{"lobby", 1, 10}, {"lobby", 2, 11}}; !slices.Equal(s.Counts, want) {
		t.Errorf("counts %+v, want %+v", s.Counts, want)
	}
	if want := []Error{{"bad_json", "decode"}}; !slices.Equal(s.Errors, want) {
		t.Errorf("errors %+v, want %+v", s.Errors, want)
	}
	if c.CloseCode() != ws.StatusGoingAway || len(s.Problems) != 0 || s.SeqProblem != "" {
		t.Errorf("close %d, problems %q, seq %q; want 1001 and none", c.CloseCode(), s.Problems, s.SeqProblem)
	}
}

// TestClientFindsViolations: every violation the reader checks for is
// recorded (t is nil here, so nothing fails this test by itself), and a
// silent client answers nothing.
func TestClientFindsViolations(t *testing.T) {
	t.Parallel()
	url := scriptedServer(t, func(nc net.Conn, br *bufio.Reader) {
		sendText(nc, `{"event":"user count","data":{"room":"lobby","currentUsers":1,"seq":10}}`)
		sendText(nc, `{"event":"user count","data":{"room":"lobby","currentUsers":2,"seq":10}}`)
		send(nc, ws.MaskFrame(ws.NewTextFrame([]byte(`{"event":"error","data":{"code":"x","message":"y"}}`))))
		send(nc, ws.NewBinaryFrame([]byte{1}))
		sendText(nc, `not json`)
		sendText(nc, `{"event":"teleport","data":{}}`)
		sendText(nc, "\xff")
		send(nc, ws.NewPingFrame(nil)) // silent: no pong
		send(nc, ws.NewCloseFrame([]byte{3}))
		sendText(nc, `{"event":"error","data":{"code":"late","message":""}}`)
		// Hang up the sending side; the client's reader ends on the EOF, the
		// test kills the client, and everything it sent is read here.
		_ = nc.(*net.TCPConn).CloseWrite()
		if b, err := io.ReadAll(br); err != nil || len(b) != 0 {
			t.Errorf("a silent client sent % x (%v)", b, err)
		}
	})
	c, err := Dial(nil, url, Options{Silent: true})
	if err != nil {
		t.Fatal(err)
	}
	if !c.WaitDone(10 * time.Second) {
		t.Fatal("the connection did not end")
	}
	c.Kill()
	s := c.Snapshot()
	for _, want := range []string{
		"seq did not rise: seq 10 after 10",
		"a masked frame",
		"opcode 2",
		"not a JSON event",
		`unexpected event "teleport"`,
		"not UTF-8",
		"one-byte payload",
		"after its close frame",
	} {
		if !slices.ContainsFunc(s.Problems, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("no problem mentions %q; problems: %q", want, s.Problems)
		}
	}
}

func TestEventuallyAndPoll(t *testing.T) {
	t.Parallel()
	n := 0
	if !Poll(time.Second, func() bool { n++; return n == 3 }) {
		t.Fatal("Poll gave up on a condition that came true")
	}
	if Poll(20*time.Millisecond, func() bool { return false }) {
		t.Fatal("Poll reported a condition that never held")
	}
	Eventually(t, time.Second, func() (bool, string) { n++; return n == 5, "not yet" })
}
