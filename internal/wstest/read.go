package wstest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// The Client's reader: the one goroutine that reads the connection. It holds
// the server to what RFC 6455 and the wire contract require of every frame
// it sends, so that every test checks it without asking:
//
//   - frames are unmasked, without RSV bits, unfragmented (this server never
//     fragments) and at most maxFrame bytes;
//   - only text, ping, pong and close frames, and nothing after the close;
//   - text is UTF-8 and, unless RawText, a "user count" or "error" event,
//     and the counts' seq rises strictly;
//   - a close frame has no payload, or a code and a UTF-8 reason.
//
// Each violation is a State.Problem and a t.Errorf (state.go).

// maxFrame bounds what the reader allocates for one frame; the server's
// largest frame is a count or an error event of a few hundred bytes.
const maxFrame = 1 << 20

// errHandshakeDone ends the reader once the closing handshake is complete
// and the client has closed its side.
var errHandshakeDone = errors.New("wstest: the closing handshake is complete")

func (c *Client) read() {
	var err error
	for err == nil {
		err = c.readFrame()
	}
	c.update(func(s *State) { s.Ended, s.Err = true, err })
	close(c.done)
}

func (c *Client) readFrame() error {
	h, err := ws.ReadHeader(c.br)
	if err != nil {
		return err
	}
	if h.Length > maxFrame {
		c.update(func(s *State) { c.problemLocked(s, "a %d-byte frame", h.Length) })
		return fmt.Errorf("wstest: a %d-byte frame", h.Length)
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return err
	}

	var reply []byte // a pong or a close reply, written after the lock is released
	hangUp := false
	c.update(func(s *State) {
		if h.Masked {
			c.problemLocked(s, "a masked frame (RFC 6455 §5.1: servers must not mask)")
		}
		if h.Rsv != 0 {
			c.problemLocked(s, "a frame with RSV bits %03b", h.Rsv)
		}
		if !h.Fin {
			c.problemLocked(s, "a fragmented frame (this server never fragments)")
		}
		if s.CloseSeen {
			c.problemLocked(s, "a frame (opcode %d) after its close frame", h.OpCode)
			return
		}
		switch h.OpCode {
		case ws.OpClose:
			s.CloseSeen, s.ClosePayload = true, payload
			s.CloseCode = c.closeCodeLocked(s, payload)
			if !c.silent { // a silent peer does not reply: the server must give up on it
				if !c.sentClose {
					reply = Frame(true, 0, ws.OpClose, payload[:min(len(payload), 2)])
				}
				hangUp = true
			}
		case ws.OpPing:
			if !c.silent {
				reply = Frame(true, 0, ws.OpPong, payload)
			}
		case ws.OpPong:
			s.Pongs = append(s.Pongs, payload)
		case ws.OpText:
			c.recordTextLocked(s, payload)
		default:
			c.problemLocked(s, "a frame with opcode %d", h.OpCode)
		}
	})
	if reply != nil {
		_ = c.Write(reply) // a failed write shows in the test's own checks
	}
	if hangUp {
		c.closeConn()
		return errHandshakeDone
	}
	return nil
}

// closeCodeLocked decodes a close frame's payload, noting a malformed one.
func (c *Client) closeCodeLocked(s *State, payload []byte) ws.StatusCode {
	switch len(payload) {
	case 0:
		return NoStatus
	case 1:
		c.problemLocked(s, "a close frame with a one-byte payload")
		return 0
	}
	if !utf8.Valid(payload[2:]) {
		c.problemLocked(s, "a close reason that is not UTF-8")
	}
	return ws.StatusCode(binary.BigEndian.Uint16(payload))
}

// recordTextLocked records one text message: as it is (RawText), or as an
// event, checking that counts' seqs rise.
func (c *Client) recordTextLocked(s *State, p []byte) {
	if !utf8.Valid(p) {
		c.problemLocked(s, "a text frame that is not UTF-8: %q", p)
	}
	if c.rawText {
		s.Texts = append(s.Texts, p)
		return
	}
	ev, err := DecodeEvent(p)
	if err != nil {
		c.problemLocked(s, "%v", err)
		return
	}
	switch ev.Name {
	case EventCount:
		if n := len(s.Counts); n > 0 && ev.Count.Seq <= s.Counts[n-1].Seq && s.SeqProblem == "" {
			s.SeqProblem = fmt.Sprintf("seq %d after %d", ev.Count.Seq, s.Counts[n-1].Seq)
			c.problemLocked(s, "a count whose seq did not rise: %s", s.SeqProblem)
		}
		s.Counts = append(s.Counts, ev.Count)
	case EventError:
		s.Errors = append(s.Errors, ev.Error)
	}
}
