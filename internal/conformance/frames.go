package conformance

import (
	"bytes"
	"strings"

	"github.com/gobwas/ws"

	"presence/internal/wstest"
)

// Opcodes and RSV bits as plain numbers, so that a row can ask for any of
// them, reserved ones included.
const (
	opCont   = ws.OpContinuation
	opText   = ws.OpText
	opBinary = ws.OpBinary
	opClose  = ws.OpClose
	opPing   = ws.OpPing
	opPong   = ws.OpPong
)

// frame returns one client frame with exactly the given bits, masked as a
// client must (RFC 6455 §5.3), with the kit's fixed mask so that every run
// sends the same bytes.
func frame(fin bool, rsv byte, op ws.OpCode, payload []byte) []byte {
	return wstest.Frame(fin, rsv, op, payload)
}

func text(p []byte) []byte           { return frame(true, 0, opText, p) }
func textS(s string) []byte          { return text([]byte(s)) }
func binaryFrame(p []byte) []byte    { return frame(true, 0, opBinary, p) }
func ping(p []byte) []byte           { return frame(true, 0, opPing, p) }
func pingS(s string) []byte          { return ping([]byte(s)) }
func pong(p []byte) []byte           { return frame(true, 0, opPong, p) }
func first(p []byte) []byte          { return frame(false, 0, opText, p) }
func cont(fin bool, p []byte) []byte { return frame(fin, 0, opCont, p) }

// closeFrame is a close frame with a status code and a reason.
func closeFrame(code uint16, reason string) []byte {
	return frame(true, 0, opClose, wstest.CloseBody(code, reason))
}

// fragments splits p into a text message of frames of at most size bytes
// (at least one frame, even for an empty p).
func fragments(p []byte, size int) []byte {
	var out []byte
	op := opText
	for {
		n := min(size, len(p))
		fin := n == len(p)
		out = append(out, frame(fin, 0, op, p[:n])...)
		p = p[n:]
		op = opCont
		if fin {
			return out
		}
	}
}

// join concatenates frames into one write.
func join(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

// repeat returns n bytes of "*" — a payload of a given size.
func repeat(n int) []byte { return []byte(strings.Repeat("*", n)) }

// seq returns n bytes 0x00, 0x01, … — a binary payload that is not UTF-8
// once n passes 0x80.
func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}
