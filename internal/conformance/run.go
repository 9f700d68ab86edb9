package conformance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// Mode says how the server under test answers a text message.
type Mode int

const (
	// Echo: the server writes every text message back as it was.
	Echo Mode = iota
	// Server: the production server. It answers each text message with an
	// "error" event and sends "user count" events whenever it likes.
	Server
)

// Timeout bounds every wait for the server.
var Timeout = 5 * time.Second

// Run plays c against the WebSocket endpoint url (ws://host:port/path?query)
// and fails t where the server's answer is not the one the row requires:
// the echoes (or error events) and pongs, in order; whether and how it
// closes; nothing after its close frame; and that it then ends the TCP
// connection.
func Run(t testing.TB, url string, mode Mode, c Case) {
	t.Helper()
	p, err := dial(url, mode)
	if err != nil {
		t.Fatalf("%s: dial: %v", c.ID, err)
	}
	defer p.stop()

	sentClose := false
	for i, st := range c.Steps {
		p.write(st.Send, st.Chop) // a failed write is fine: the server may have failed the connection already
		sentClose = sentClose || hasClose(st.Send)
		if st.AwaitPongs > 0 {
			p.await(func(s *state) bool { return len(s.pongs) >= st.AwaitPongs || s.closeSeen || s.ended })
			if s := p.snapshot(); len(s.pongs) < st.AwaitPongs {
				t.Fatalf("%s: after step %d the server must have answered %d pings; it answered %d (%s)", c.ID, i+1, st.AwaitPongs, len(s.pongs), s.status())
			}
		}
		if st.AwaitFail {
			if !p.await(func(s *state) bool { return s.closeSeen || s.ended }) {
				t.Fatalf("%s: not fail-fast: after step %d the connection is still open %s later", c.ID, i+1, Timeout)
			}
		}
	}

	want := c.Close
	if want == 0 {
		// The connection must stay up and every message be answered; then
		// the runner closes it normally.
		done := p.await(func(s *state) bool {
			return len(s.echoes) >= len(c.Echoes) && len(s.pongs) >= len(c.Pongs) || s.closeSeen || s.ended
		})
		s := p.snapshot()
		if s.closeSeen || s.ended {
			t.Fatalf("%s: the server ended the connection (%s); it must keep it open", c.ID, s.status())
		}
		if !done {
			t.Fatalf("%s: after %s the server has answered %d of %d messages and %d of %d pings", c.ID, Timeout, len(s.echoes), len(c.Echoes), len(s.pongs), len(c.Pongs))
		}
		p.write(closeFrame(1000, "done"), 0)
		sentClose = true
		want = ws.StatusNormalClosure
	}

	if !p.await(func(s *state) bool { return s.closeSeen || s.ended }) {
		t.Fatalf("%s: no close frame within %s; want close %d", c.ID, Timeout, want)
	}
	s := p.snapshot()
	if !s.closeSeen {
		t.Fatalf("%s: the connection ended without a close frame (%v); want close %d", c.ID, s.err, want)
	}
	if s.closeCode != want {
		t.Errorf("%s: the server closed with %d, want %d", c.ID, s.closeCode, want)
	}
	if !sentClose {
		// Complete the closing handshake the server started.
		p.write(frame(true, 0, opClose, s.closePayload[:min(2, len(s.closePayload))]), 0)
	}
	if !p.await(func(s *state) bool { return s.ended }) {
		t.Errorf("%s: the server did not close the TCP connection within %s of the closing handshake", c.ID, Timeout)
	}

	s = p.snapshot()
	for _, problem := range s.problems {
		t.Errorf("%s: %s", c.ID, problem)
	}
	if !equal(s.pongs, c.Pongs) {
		t.Errorf("%s: pongs %q, want %q", c.ID, s.pongs, c.Pongs)
	}
	switch {
	case mode == Echo && !equal(s.echoes, c.Echoes):
		t.Errorf("%s: echoes %s, want %s", c.ID, short(s.echoes), short(c.Echoes))
	case mode == Server && c.Close == 0 && len(s.echoes) != len(c.Echoes):
		t.Errorf("%s: %d error events, want one per message: %d", c.ID, len(s.echoes), len(c.Echoes))
	case mode == Server && len(s.echoes) > len(c.Echoes):
		// An answer may lose the race with the close; an extra one is wrong.
		t.Errorf("%s: %d error events for %d messages", c.ID, len(s.echoes), len(c.Echoes))
	}
}

// peer is the client side of one row: it writes any bytes and records every
// frame the server sends.
type peer struct {
	nc   net.Conn
	br   *bufio.Reader
	mode Mode
	done chan struct{} // closed when the read goroutine ends

	mu    sync.Mutex
	st    state
	wake  chan struct{}
	stops sync.Once
}

// state is what the server has sent so far.
type state struct {
	echoes       [][]byte // text messages (Echo) or error events (Server)
	pongs        [][]byte
	closeSeen    bool
	closeCode    ws.StatusCode
	closePayload []byte
	afterClose   int      // frames after the close frame
	problems     []string // frames no server may send
	ended        bool     // the TCP connection ended
	err          error    // why reading ended
}

func (s *state) status() string {
	switch {
	case s.closeSeen:
		return fmt.Sprintf("close %d", s.closeCode)
	case s.ended:
		return fmt.Sprintf("connection ended: %v", s.err)
	default:
		return "still open"
	}
}

func dial(url string, mode Mode) (*peer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	nc, br, _, err := ws.Dialer{}.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReader(nc)
	}
	p := &peer{nc: nc, br: br, mode: mode, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	go p.read()
	return p, nil
}

// stop closes the connection and waits for the read goroutine.
func (p *peer) stop() {
	p.stops.Do(func() { _ = p.nc.Close() })
	<-p.done
}

func (p *peer) write(b []byte, chop int) {
	if chop <= 0 {
		chop = len(b)
	}
	for len(b) > 0 {
		n := min(chop, len(b))
		_ = p.nc.SetWriteDeadline(time.Now().Add(Timeout))
		if _, err := p.nc.Write(b[:n]); err != nil {
			return
		}
		b = b[n:]
	}
}

func (p *peer) read() {
	defer close(p.done)
	var err error
	for err == nil {
		err = p.readFrame()
	}
	p.update(func(s *state) { s.ended, s.err = true, err })
}

func (p *peer) readFrame() error {
	h, err := ws.ReadHeader(p.br)
	if err != nil {
		return err
	}
	if h.Length > 1<<20 {
		p.problem("a %d-byte frame", h.Length)
		return io.ErrUnexpectedEOF
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(p.br, payload); err != nil {
		return err
	}
	switch {
	case h.Masked:
		p.problem("a masked frame (RFC 6455 §5.1: servers must not mask)")
	case h.Rsv != 0:
		p.problem("a frame with RSV bits %03b", h.Rsv)
	case !h.Fin:
		p.problem("a fragmented frame (this server never fragments)")
	}
	p.update(func(s *state) {
		if s.closeSeen {
			s.afterClose++
			s.problems = append(s.problems, fmt.Sprintf("a frame (opcode %d) after its close frame", h.OpCode))
			return
		}
		switch h.OpCode {
		case ws.OpClose:
			s.closeSeen, s.closePayload = true, payload
			s.closeCode = closeCode(s, payload)
		case ws.OpPong:
			s.pongs = append(s.pongs, payload)
		case ws.OpPing:
			// The server's keep-alive: not part of any row.
		case ws.OpText:
			if !utf8.Valid(payload) {
				s.problems = append(s.problems, "a text frame that is not UTF-8")
			}
			if p.mode == Echo {
				s.echoes = append(s.echoes, payload)
			} else if answer, ok := serverAnswer(s, payload); ok {
				s.echoes = append(s.echoes, answer)
			}
		default:
			s.problems = append(s.problems, fmt.Sprintf("a frame with opcode %d", h.OpCode))
		}
	})
	return nil
}

// closeCode decodes a server close frame, noting a malformed one.
func closeCode(s *state, payload []byte) ws.StatusCode {
	switch {
	case len(payload) == 0:
		return NoStatus
	case len(payload) == 1:
		s.problems = append(s.problems, "a close frame with a one-byte payload")
		return 0
	}
	if !utf8.Valid(payload[2:]) {
		s.problems = append(s.problems, "a close reason that is not UTF-8")
	}
	return ws.StatusCode(binary.BigEndian.Uint16(payload))
}

// serverAnswer sorts the production server's text frames: an "error" event
// answers a message; a "user count" is not an answer.
func serverAnswer(s *state, payload []byte) ([]byte, bool) {
	var ev struct {
		Event string `json:"event"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		s.problems = append(s.problems, fmt.Sprintf("text that is not JSON: %q", payload))
		return nil, false
	}
	switch ev.Event {
	case "error":
		return payload, true
	case "user count":
		return nil, false
	default:
		s.problems = append(s.problems, fmt.Sprintf("an unexpected event %q", ev.Event))
		return nil, false
	}
}

func (p *peer) problem(format string, args ...any) {
	p.update(func(s *state) { s.problems = append(s.problems, fmt.Sprintf(format, args...)) })
}

func (p *peer) update(f func(*state)) {
	p.mu.Lock()
	f(&p.st)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *peer) snapshot() state {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.st
	s.echoes = slices.Clone(s.echoes)
	s.pongs = slices.Clone(s.pongs)
	s.problems = slices.Clone(s.problems)
	return s
}

// await waits until cond holds, at most Timeout, and reports whether it did.
func (p *peer) await(cond func(*state) bool) bool {
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		ok := cond(&p.st)
		p.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-p.wake:
		case <-deadline.C:
			p.mu.Lock()
			defer p.mu.Unlock()
			return cond(&p.st)
		}
	}
}

// hasClose reports whether b holds a close frame (b is the client's own
// writing, parsed as far as it parses).
func hasClose(b []byte) bool {
	r := bytes.NewReader(b)
	for {
		h, err := ws.ReadHeader(r)
		if err != nil || h.Length < 0 || h.Length > int64(r.Len()) {
			return false
		}
		if h.OpCode == ws.OpClose {
			return true
		}
		_, _ = r.Seek(h.Length, io.SeekCurrent)
	}
}

func equal(a, b [][]byte) bool {
	return slices.EqualFunc(a, b, bytes.Equal)
}

// short shows messages without flooding the log with 4 KiB of stars.
func short(msgs [][]byte) string {
	var b bytes.Buffer
	b.WriteString("[")
	for i, m := range msgs {
		if i > 0 {
			b.WriteString(" ")
		}
		if len(m) > 40 {
			fmt.Fprintf(&b, "%q…(%d bytes)", m[:40], len(m))
		} else {
			fmt.Fprintf(&b, "%q", m)
		}
	}
	b.WriteString("]")
	return b.String()
}
