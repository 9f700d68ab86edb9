package wstest

import (
	"bytes"
	"encoding/binary"

	"github.com/gobwas/ws"
)

// Mask is the masking key of every frame the kit builds. It is fixed so that
// a test sends the same bytes on every run (a fuzz input or a failed row can
// be replayed exactly); nothing in the protocol depends on its value, and its
// four distinct, non-zero bytes still catch a server that unmasks at the
// wrong offset or not at all.
var Mask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// Frame returns one client frame with exactly the given bits, masked with
// Mask as a client must (RFC 6455 §5.3). rsv is the three RSV bits as
// ws.Rsv makes them; op may be any of the 16 opcodes, reserved ones
// included. Nothing is checked: the point is to send what a test asks for.
func Frame(fin bool, rsv byte, op ws.OpCode, payload []byte) []byte {
	return build(fin, rsv, op, true, payload)
}

// UnmaskedFrame is Frame without the mask: a protocol violation when a
// client sends it.
func UnmaskedFrame(fin bool, rsv byte, op ws.OpCode, payload []byte) []byte {
	return build(fin, rsv, op, false, payload)
}

// FrameHeader returns only the masked header of a frame that declares length
// payload bytes: for a test that streams the body itself, or never sends it
// (a server must refuse an oversize message from the header alone).
func FrameHeader(fin bool, rsv byte, op ws.OpCode, length int64) []byte {
	var b bytes.Buffer
	h := ws.Header{Fin: fin, Rsv: rsv, OpCode: op, Masked: true, Mask: Mask, Length: length}
	if err := ws.WriteHeader(&b, h); err != nil {
		panic(err) // only a negative length fails: a bug in the test
	}
	return b.Bytes()
}

// Text is one final masked text frame.
func Text(s string) []byte { return Frame(true, 0, ws.OpText, []byte(s)) }

// CloseBody is a close frame's payload: the status code, then the reason.
// Any code can be written, the reserved and invalid ones too.
func CloseBody(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

func build(fin bool, rsv byte, op ws.OpCode, masked bool, payload []byte) []byte {
	h := ws.Header{Fin: fin, Rsv: rsv, OpCode: op, Masked: masked, Length: int64(len(payload))}
	p := bytes.Clone(payload)
	if masked {
		h.Mask = Mask
		ws.Cipher(p, h.Mask, 0)
	}
	var b bytes.Buffer
	b.Grow(ws.HeaderSize(h) + len(p))
	if err := ws.WriteHeader(&b, h); err != nil {
		panic(err) // only a negative length fails, and len() is never negative
	}
	b.Write(p)
	return b.Bytes()
}
