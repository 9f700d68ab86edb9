package conformance

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"presence/internal/wstest"
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
//
// The client is the kit's (wstest.Client), silent so that the row decides
// every byte it sends: it answers no ping of the server's and completes the
// closing handshake only when the row says so. It reports to t whatever no
// server may send (a masked or fragmented frame, RSV bits, text that is not
// UTF-8, a frame after the close, a malformed close frame …).
func Run(t testing.TB, url string, mode Mode, c Case) {
	t.Helper()
	p, err := wstest.Dial(t, url, wstest.Options{Silent: true, RawText: mode == Echo, Timeout: Timeout, NoCleanup: true, Name: c.ID})
	if err != nil {
		t.Fatalf("%s: dial: %v", c.ID, err)
	}
	defer p.Kill()
	answers := func(s *wstest.State) int { return len(s.Texts) + len(s.Errors) } // texts (Echo) or error events (Server)
	over := func(s *wstest.State) bool { return s.CloseSeen || s.Ended }

	sentClose := false
	for i, st := range c.Steps {
		_ = p.WriteInPieces(st.Send, st.Chop) // a failed write is fine: the server may have failed the connection already
		sentClose = sentClose || hasClose(st.Send)
		if st.AwaitPongs > 0 {
			p.Await(Timeout, func(s *wstest.State) bool { return len(s.Pongs) >= st.AwaitPongs || over(s) })
			if s := p.Snapshot(); len(s.Pongs) < st.AwaitPongs {
				t.Fatalf("%s: after step %d the server must have answered %d pings; it answered %d (%s)", c.ID, i+1, st.AwaitPongs, len(s.Pongs), status(s))
			}
		}
		if st.AwaitFail {
			if !p.Await(Timeout, over) {
				t.Fatalf("%s: not fail-fast: after step %d the connection is still open %s later", c.ID, i+1, Timeout)
			}
		}
	}

	want := c.Close
	if want == 0 {
		// The connection must stay up and every message be answered; then
		// the runner closes it normally.
		done := p.Await(Timeout, func(s *wstest.State) bool {
			return answers(s) >= len(c.Echoes) && len(s.Pongs) >= len(c.Pongs) || over(s)
		})
		s := p.Snapshot()
		if over(&s) {
			t.Fatalf("%s: the server ended the connection (%s); it must keep it open", c.ID, status(s))
		}
		if !done {
			t.Fatalf("%s: after %s the server has answered %d of %d messages and %d of %d pings", c.ID, Timeout, answers(&s), len(c.Echoes), len(s.Pongs), len(c.Pongs))
		}
		_ = p.Write(closeFrame(1000, "done"))
		sentClose = true
		want = ws.StatusNormalClosure
	}

	if !p.Await(Timeout, over) {
		t.Fatalf("%s: no close frame within %s; want close %d", c.ID, Timeout, want)
	}
	s := p.Snapshot()
	if !s.CloseSeen {
		t.Fatalf("%s: the connection ended without a close frame (%v); want close %d", c.ID, s.Err, want)
	}
	if s.CloseCode != want {
		t.Errorf("%s: the server closed with %d, want %d", c.ID, s.CloseCode, want)
	}
	if !sentClose {
		// Complete the closing handshake the server started.
		_ = p.Write(frame(true, 0, opClose, s.ClosePayload[:min(2, len(s.ClosePayload))]))
	}
	if !p.Await(Timeout, func(s *wstest.State) bool { return s.Ended }) {
		t.Errorf("%s: the server did not close the TCP connection within %s of the closing handshake", c.ID, Timeout)
	}

	s = p.Snapshot()
	if !equal(s.Pongs, c.Pongs) {
		t.Errorf("%s: pongs %q, want %q", c.ID, s.Pongs, c.Pongs)
	}
	switch {
	case mode == Echo && !equal(s.Texts, c.Echoes):
		t.Errorf("%s: echoes %s, want %s", c.ID, short(s.Texts), short(c.Echoes))
	case mode == Server && c.Close == 0 && len(s.Errors) != len(c.Echoes):
		t.Errorf("%s: %d error events, want one per message: %d", c.ID, len(s.Errors), len(c.Echoes))
	case mode == Server && len(s.Errors) > len(c.Echoes):
		// An answer may lose the race with the close; an extra one is wrong.
		t.Errorf("%s: %d error events for %d messages", c.ID, len(s.Errors), len(c.Echoes))
	}
}

// status says how the connection stands, for a failure message.
func status(s wstest.State) string {
	switch {
	case s.CloseSeen:
		return fmt.Sprintf("close %d", s.CloseCode)
	case s.Ended:
		return fmt.Sprintf("connection ended: %v", s.Err)
	default:
		return "still open"
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
