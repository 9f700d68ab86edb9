package transport

import "unicode/utf8"

// utf8Stream checks a text message for valid UTF-8 as its bytes arrive, so
// that a message that can no longer become valid is refused (1007) at once,
// mid-frame, without waiting for the rest (RFC 6455 §8.1, Autobahn 6.4
// "fail fast"). It carries at most the three bytes of an unfinished code
// point from one chunk to the next.
type utf8Stream struct {
	carry [3]byte
	n     int
}

// feed checks p, the next bytes of the message. It returns false as soon as
// no continuation could make the message valid.
func (s *utf8Stream) feed(p []byte) bool {
	if s.n > 0 {
		var buf [4]byte
		need := seqLen(s.carry[0])
		copy(buf[:], s.carry[:s.n])
		k := copy(buf[s.n:need], p)
		m := s.n + k
		if m < need {
			if !validPrefix(buf[:m]) {
				return false
			}
			copy(s.carry[:], buf[:m])
			s.n = m
			return true
		}
		if !utf8.Valid(buf[:need]) {
			return false
		}
		s.n = 0
		p = p[k:]
	}
	// Set aside an unfinished code point at the end.
	start := len(p)
	for i := len(p) - 1; i >= 0 && i >= len(p)-3; i-- {
		if p[i]&0xc0 != 0x80 { // a lead byte or ASCII
			if len(p)-i < seqLen(p[i]) {
				start = i
			}
			break
		}
	}
	if !utf8.Valid(p[:start]) {
		return false
	}
	if tail := p[start:]; len(tail) > 0 {
		if !validPrefix(tail) {
			return false
		}
		s.n = copy(s.carry[:], tail)
	}
	return true
}

// complete reports whether the message ended on a code point boundary.
func (s *utf8Stream) complete() bool { return s.n == 0 }

// seqLen is the length of the UTF-8 sequence that lead begins; 1 for ASCII
// and for bytes that cannot begin one (utf8.Valid rejects those).
func seqLen(lead byte) int {
	switch {
	case lead >= 0xc2 && lead <= 0xdf:
		return 2
	case lead >= 0xe0 && lead <= 0xef:
		return 3
	case lead >= 0xf0 && lead <= 0xf4:
		return 4
	default:
		return 1
	}
}

// validPrefix reports whether t, shorter than the sequence its first byte
// begins, can still be finished into a valid code point (RFC 3629 §4: the
// second byte's range depends on the first).
func validPrefix(t []byte) bool {
	if len(t) == 0 || len(t) >= seqLen(t[0]) {
		return false
	}
	if len(t) >= 2 {
		lo, hi := byte(0x80), byte(0xbf)
		switch t[0] {
		case 0xe0:
			lo = 0xa0
		case 0xed:
			hi = 0x9f
		case 0xf0:
			lo = 0x90
		case 0xf4:
			hi = 0x8f
		}
		if t[1] < lo || t[1] > hi {
			return false
		}
	}
	return len(t) < 3 || t[2]&0xc0 == 0x80
}
