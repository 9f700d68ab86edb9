package transport

import (
	"encoding/binary"
	"sync"

	"github.com/gobwas/ws"
)

// parse is a socket's read state while a frame or a message is incomplete:
// the header bytes so far, the frame being read, and the message it belongs
// to. A socket at a frame boundary with no message under way holds none (it
// goes back to parsePool), so an idle socket costs no parse state at all,
// and a peer that pauses mid-frame costs only this, never a worker.
type parse struct {
	hdr [ws.MaxHeaderSize]byte
	hn  int // header bytes so far

	h       ws.Header // the frame being read, once its header is complete
	inFrame bool
	left    int64 // payload bytes still to come
	pos     int   // payload bytes so far, for the mask

	ctl  [ws.MaxControlFramePayloadSize]byte // a control frame's payload
	ctlN int

	inMsg   bool   // a data message is under way
	text    bool   // it is a text message
	discard bool   // it is read only to be dropped (the socket is closing)
	msg     []byte // its payload so far
	frames  int64  // its frames so far
	utf8    utf8Stream
}

var parsePool = sync.Pool{New: func() any { return new(parse) }}

// idle reports whether p holds nothing worth keeping.
func (p *parse) idle() bool { return p.hn == 0 && !p.inFrame && !p.inMsg }

func (p *parse) reset() {
	*p = parse{}
}

// header takes header bytes from b. It returns how many it used and
// whether the header is complete (then p.h holds it).
func (p *parse) header(b []byte) (used int, done bool) {
	for {
		need := 2
		if p.hn >= 2 {
			need = headerLen(p.hdr[1])
		}
		if p.hn == need {
			break
		}
		k := copy(p.hdr[p.hn:need], b[used:])
		p.hn += k
		used += k
		if p.hn < need {
			return used, false
		}
	}
	b0, b1 := p.hdr[0], p.hdr[1]
	h := ws.Header{
		Fin:    b0&0x80 != 0,
		Rsv:    (b0 >> 4) & 7,
		OpCode: ws.OpCode(b0 & 0x0f),
		Masked: b1&0x80 != 0,
	}
	i := 2
	switch n := b1 & 0x7f; n {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(p.hdr[2:]))
		i += 2
	case 127:
		h.Length = int64(binary.BigEndian.Uint64(p.hdr[2:])) // negative when the top bit is set: checked by the caller
		i += 8
	default:
		h.Length = int64(n)
	}
	if h.Masked {
		copy(h.Mask[:], p.hdr[i:i+4])
	}
	p.h, p.hn = h, 0
	return used, true
}

// headerLen is the length of a frame header from its second byte (the
// length code and the mask bit; the first byte does not matter).
func headerLen(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// check applies the rules a frame header alone decides, in the order of
// RFC 6455 §5 that the reference reading (reference_test.go) follows: the
// code to close with, or 0. limit is the message size limit; a message may
// have no more frames than bytes.
func (p *parse) check(limit int64) ws.StatusCode {
	h := p.h
	op := h.OpCode
	control := op.IsControl()
	switch {
	case h.Length < 0:
		return ws.StatusProtocolError // a 64-bit length must have its top bit clear
	case op >= 3 && op <= 7 || op >= 11:
		return ws.StatusProtocolError // reserved opcode
	case h.Rsv != 0, !h.Masked:
		return ws.StatusProtocolError // no extension is negotiated; clients must mask
	case control && (!h.Fin || h.Length > ws.MaxControlFramePayloadSize):
		return ws.StatusProtocolError
	case !control && p.inMsg && op != ws.OpContinuation:
		return ws.StatusProtocolError // a new message inside a fragmented one
	case !control && !p.inMsg && op == ws.OpContinuation:
		return ws.StatusProtocolError // nothing to continue
	case h.Length > limit:
		return ws.StatusMessageTooBig
	case !control && int64(len(p.msg))+h.Length > limit:
		return ws.StatusMessageTooBig
	case !control && p.inMsg && p.frames+1 > limit:
		return ws.StatusMessageTooBig // every frame costs at least a byte of the budget
	}
	return 0
}

// unmask reveals b, the next bytes of the frame's payload, in place.
func (p *parse) unmask(b []byte) {
	ws.Cipher(b, p.h.Mask, p.pos)
	p.pos += len(b)
}
