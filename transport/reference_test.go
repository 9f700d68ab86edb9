package transport

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// refResult is what RFC 6455 and the wire contract say a server reading a
// client's byte stream must make of it.
type refResult struct {
	msgs        [][]byte      // complete, valid text messages before the first violation
	violation   ws.StatusCode // the first violation's close code; 0 if none
	closeCode   ws.StatusCode // the peer's valid close code, if the stream ends with one
	closeNoCode bool          // the peer's close frame had no code
}

// reference reads stream as a server must, written plainly from RFC 6455 §5
// and DESIGN.md §4 and sharing no code with ReadLoop or gobwas/wsutil, so
// that FuzzReadLoop can compare the two. limit is the message size limit;
// the number of frames in a message is limited to it too. It stops at the
// first violation, at a close frame, or where the stream runs out.
func reference(stream []byte, limit int64) refResult {
	var res refResult
	var (
		inMessage bool   // inside a fragmented text message
		msg       []byte // its payload so far
		frames    int64  // its frames so far
	)
	fail := func(code ws.StatusCode) refResult {
		res.violation = code
		return res
	}
	for {
		// The header, with the masking key: 2 + 0/2/8 + 4 bytes.
		if len(stream) < 2 {
			return res
		}
		b0, b1 := stream[0], stream[1]
		fin, rsv, op := b0&0x80 != 0, (b0>>4)&7, ws.OpCode(b0&0x0f)
		masked, length := b1&0x80 != 0, uint64(b1&0x7f)
		pos := 2
		switch length {
		case 126:
			if len(stream) < pos+2 {
				return res
			}
			length = uint64(binary.BigEndian.Uint16(stream[pos:]))
			pos += 2
		case 127:
			if len(stream) < pos+8 {
				return res
			}
			length = binary.BigEndian.Uint64(stream[pos:])
			pos += 8
		}
		var key []byte
		if masked {
			if len(stream) < pos+4 {
				return res
			}
			key = stream[pos : pos+4]
			pos += 4
		}

		// Rules decided from the header alone, once it is all there.
		control := op >= 8
		switch {
		case length>>63 != 0:
			return fail(ws.StatusProtocolError) // a 64-bit length must have its top bit clear
		case op >= 3 && op <= 7 || op >= 11:
			return fail(ws.StatusProtocolError) // reserved opcode
		case rsv != 0, !masked:
			return fail(ws.StatusProtocolError)
		case control && (!fin || length > 125):
			return fail(ws.StatusProtocolError)
		case !control && inMessage && op != ws.OpContinuation:
			return fail(ws.StatusProtocolError) // a new message inside a fragmented one
		case !control && !inMessage && op == ws.OpContinuation:
			return fail(ws.StatusProtocolError) // nothing to continue
		case length > uint64(limit):
			return fail(ws.StatusMessageTooBig)
		case !control && int64(len(msg))+int64(length) > limit:
			return fail(ws.StatusMessageTooBig)
		case !control && inMessage && frames+1 > limit:
			return fail(ws.StatusMessageTooBig) // every frame costs at least a byte of the budget
		case !control && !inMessage && op == ws.OpBinary:
			return fail(ws.StatusUnsupportedData)
		}

		if uint64(len(stream)-pos) < length {
			return res // the payload has not all arrived
		}
		payload := make([]byte, length)
		for i := range payload {
			payload[i] = stream[pos+i] ^ key[i%4]
		}
		stream = stream[pos+int(length):]

		switch {
		case op == ws.OpClose:
			switch {
			case len(payload) == 0:
				res.closeNoCode = true
				return res
			case len(payload) == 1:
				return fail(ws.StatusProtocolError)
			case !utf8.Valid(payload[2:]):
				return fail(ws.StatusInvalidFramePayloadData)
			}
			code := binary.BigEndian.Uint16(payload)
			if !(code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999) {
				return fail(ws.StatusProtocolError)
			}
			res.closeCode = ws.StatusCode(code)
			return res
		case control: // ping or pong: no effect on messages
			continue
		}

		if inMessage {
			frames++
		} else {
			inMessage, msg, frames = true, []byte{}, 1
		}
		msg = append(msg, payload...)
		switch {
		case fin && !utf8.Valid(msg):
			return fail(ws.StatusInvalidFramePayloadData)
		case fin:
			res.msgs = append(res.msgs, msg)
			inMessage = false
		case !completable(msg):
			return fail(ws.StatusInvalidFramePayloadData) // fail fast: no continuation can make it valid
		}
	}
}

// completable reports whether some continuation could make p valid UTF-8:
// p is valid except for an unfinished last code point that can still be
// finished.
func completable(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	start := len(p) - 1 // where the unfinished code point begins
	for start > 0 && len(p)-start < 4 && p[start]&0xc0 == 0x80 {
		start--
	}
	if !utf8.Valid(p[:start]) {
		return false
	}
	tail := p[start:]
	if len(tail) > 1 {
		return validFilled(tail) // only the second byte has narrower ranges
	}
	for b := 0x80; b <= 0xbf; b++ {
		if validFilled([]byte{tail[0], byte(b)}) {
			return true
		}
	}
	return false
}

// validFilled reports whether t, finished with 0x80 bytes, is valid UTF-8.
func validFilled(t []byte) bool {
	t = append([]byte(nil), t...)
	for len(t) < 4 && !utf8.FullRune(t) {
		t = append(t, 0x80)
	}
	return utf8.Valid(t)
}
