package conformance

import (
	"strconv"
	"strings"

	"github.com/gobwas/ws"

	"presence/internal/wstest"
)

// MessageLimit is the largest message the server under test may accept: the
// default --max-message-size. Both test servers are configured with it.
const MessageLimit = 4096

// Case is one row of the table: what the client sends and what RFC 6455
// requires of the server.
type Case struct {
	ID    string // the Autobahn case ID, e.g. "5.19"; rows Autobahn lacks are named "x.…"
	Desc  string // what the client does
	Steps []Step // sent in order

	// What the server must do.
	Echoes [][]byte      // text messages it echoes, in order (Server mode: that many error events)
	Pongs  [][]byte      // pong payloads it sends, in order
	Close  ws.StatusCode // its close code; 0: it keeps the connection open (the runner then closes with 1000); NoStatus: a close frame without a code
	Note   string        // where the answer differs from Autobahn's expectation, and why
}

// NoStatus in Case.Close: the server's close frame carries no status code
// (it echoes a close frame that had none, RFC 6455 §5.5.1).
const NoStatus = wstest.NoStatus

// Step is one write of the client, and what must have happened before the
// next.
type Step struct {
	Send []byte // the bytes, any frames valid or not
	Chop int    // write them in pieces of this many bytes; 0: in one write

	// AwaitPongs: before going on, the server must have sent this many pongs
	// in all. A ping after a fragment proves the fragment was accepted.
	AwaitPongs int
	// AwaitFail: before going on, the server must have failed the connection
	// (sent its close frame): a "fail fast" check, so the rest of the message
	// is sent only afterwards.
	AwaitFail bool
}

// All returns every row, in Autobahn order.
func All() []Case {
	var all []Case
	for _, group := range [][]Case{framing(), limits(), pings(), reserved(), opcodes(), fragmentation(), utf8Cases(), closing(), extras()} {
		all = append(all, group...)
	}
	return all
}

// once is a case whose steps are one write of frames.
func once(id, desc string, frames ...[]byte) Case {
	return Case{ID: id, Desc: desc, Steps: []Step{{Send: join(frames...)}}}
}

// framewise is a case that writes each frame on its own.
func framewise(id, desc string, frames ...[]byte) Case {
	c := Case{ID: id, Desc: desc}
	for _, f := range frames {
		c.Steps = append(c.Steps, Step{Send: f})
	}
	return c
}

// chopped is a case that writes the frames n bytes at a time.
func chopped(id, desc string, n int, frames ...[]byte) Case {
	return Case{ID: id, Desc: desc, Steps: []Step{{Send: join(frames...), Chop: n}}}
}

func (c Case) echo(msgs ...string) Case {
	for _, m := range msgs {
		c.Echoes = append(c.Echoes, []byte(m))
	}
	return c
}

func (c Case) echoBytes(msgs ...[]byte) Case {
	c.Echoes = append(c.Echoes, msgs...)
	return c
}

func (c Case) pongs(payloads ...string) Case {
	for _, p := range payloads {
		c.Pongs = append(c.Pongs, []byte(p))
	}
	return c
}

func (c Case) closes(code ws.StatusCode) Case {
	c.Close = code
	return c
}

func (c Case) note(s string) Case {
	c.Note = s
	return c
}

// Group 1: framing. Text messages of every length encoding are echoed up to
// the limit; binary messages are not part of the wire contract.
func framing() []Case {
	var out []Case
	for i, n := range []int{0, 125, 126, 127, 128, 65535, 65536} {
		id := "1.1." + itoa(i+1)
		desc := "text message of " + itoa(n) + " bytes"
		c := once(id, desc, text(repeat(n)))
		if n <= MessageLimit {
			out = append(out, c.echoBytes(repeat(n)))
		} else {
			out = append(out, c.closes(ws.StatusMessageTooBig).note("over the 4 KiB message limit: 1009 from the header"))
		}
	}
	out = append(out, chopped("1.1.8", "text message of 65536 bytes, written 997 bytes at a time", 997, text(repeat(65536))).
		closes(ws.StatusMessageTooBig).note("over the 4 KiB message limit: 1009 from the header"))

	for i, n := range []int{0, 125, 126, 127, 128, 65535, 65536} {
		id := "1.2." + itoa(i+1)
		c := once(id, "binary message of "+itoa(n)+" bytes", binaryFrame(seq(n)))
		if n <= MessageLimit {
			out = append(out, c.closes(ws.StatusUnsupportedData).note("binary messages are not part of the wire contract: 1003 (RFC 6455 §7.4.1)"))
		} else {
			out = append(out, c.closes(ws.StatusMessageTooBig).note("the size limit is checked from the header, before the opcode"))
		}
	}
	out = append(out, chopped("1.2.8", "binary message of 65536 bytes, written 997 bytes at a time", 997, binaryFrame(seq(65536))).
		closes(ws.StatusMessageTooBig).note("the size limit is checked from the header, before the opcode"))
	return out
}

// Groups 9 and 10, adapted to our 4 KiB limit: at the limit is fine, one
// byte over is 1009, however it is fragmented.
func limits() []Case {
	at, over := repeat(MessageLimit), repeat(MessageLimit+1)
	return []Case{
		once("9.limit.1", "text message of exactly the limit", text(at)).echoBytes(at),
		once("9.limit.2", "text message one byte over the limit", text(over)).closes(ws.StatusMessageTooBig),
		once("9.limit.3", "the limit in 64-byte fragments", fragments(at, 64)).echoBytes(at),
		once("9.limit.4", "one byte over the limit in 64-byte fragments", fragments(over, 64)).closes(ws.StatusMessageTooBig),
		once("9.limit.5", "one byte over the limit in one-byte fragments", fragments(over, 1)).closes(ws.StatusMessageTooBig),
		once("10.1.1", "65536 bytes in 1300-byte fragments", fragments(repeat(65536), 1300)).closes(ws.StatusMessageTooBig).
			note("Autobahn expects the reassembled echo; ours is over the 4 KiB limit"),
		once("10.1.1.limit", "the limit in 1300-byte fragments", fragments(at, 1300)).echoBytes(at),
	}
}

// Group 2: pings and pongs (RFC 6455 §5.5.2, §5.5.3).
func pings() []Case {
	bin := []byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff}
	ten := make([]string, 10)
	var tenPings [][]byte
	for i := range ten {
		ten[i] = "payload-" + itoa(i)
		tenPings = append(tenPings, pingS(ten[i]))
	}
	return []Case{
		once("2.1", "ping without payload", ping(nil)).pongs(""),
		once("2.2", "ping with a small text payload", pingS("Hello, world!")).pongs("Hello, world!"),
		once("2.3", "ping with a small binary payload", ping(bin)).pongs(string(bin)),
		once("2.4", "ping with a 125-byte payload", ping(seq(125))).pongs(string(seq(125))),
		once("2.5", "ping with a 126-byte payload", ping(seq(126))).closes(ws.StatusProtocolError),
		chopped("2.6", "ping with a 125-byte payload, written a byte at a time", 1, ping(seq(125))).pongs(string(seq(125))),
		once("2.7", "unsolicited pong without payload", pong(nil)),
		once("2.8", "unsolicited pong with payload", pong([]byte("unsolicited pong payload"))),
		once("2.9", "unsolicited pong, then a ping", pong([]byte("unsolicited pong payload")), pingS("ping payload")).pongs("ping payload"),
		once("2.10", "ten pings", tenPings...).pongs(ten...),
		chopped("2.11", "ten pings, written a byte at a time", 1, tenPings...).pongs(ten...),
	}
}

// Group 3: reserved bits without a negotiated extension (RFC 6455 §5.2).
func reserved() []Case {
	hello := []byte("Hello, world!")
	return []Case{
		once("3.1", "text with RSV = 1", frame(true, 1, opText, hello)).closes(ws.StatusProtocolError),
		once("3.2", "text, text with RSV = 2, ping", text(hello), frame(true, 2, opText, hello), ping(hello)).
			echo("Hello, world!").closes(ws.StatusProtocolError),
		framewise("3.3", "text, text with RSV = 3, ping; a frame at a time", text(hello), frame(true, 3, opText, hello), ping(hello)).
			echo("Hello, world!").closes(ws.StatusProtocolError),
		chopped("3.4", "text, text with RSV = 4 (RSV1, no deflate), ping; a byte at a time", 1, text(hello), frame(true, 4, opText, hello), ping(hello)).
			echo("Hello, world!").closes(ws.StatusProtocolError),
		once("3.5", "binary with RSV = 5", frame(true, 5, opBinary, seq(8))).closes(ws.StatusProtocolError),
		once("3.6", "ping with RSV = 6", frame(true, 6, opPing, hello)).closes(ws.StatusProtocolError),
		once("3.7", "close with RSV = 7", frame(true, 7, opClose, wstest.CloseBody(1000, ""))).closes(ws.StatusProtocolError),
	}
}

// Group 4: reserved opcodes 3–7 and 11–15 (RFC 6455 §5.2).
func opcodes() []Case {
	var out []Case
	for g, ops := range [][]ws.OpCode{{3, 4, 5, 6, 7}, {11, 12, 13, 14, 15}} {
		for i, op := range ops {
			id := "4." + itoa(g+1) + "." + itoa(i+1)
			desc := "frame with reserved opcode " + itoa(int(op))
			switch i {
			case 0:
				out = append(out, once(id, desc, frame(true, 0, op, nil)).closes(ws.StatusProtocolError))
			case 1:
				out = append(out, once(id, desc+" and a payload", frame(true, 0, op, []byte("reserved opcode payload"))).closes(ws.StatusProtocolError))
			default:
				var payload []byte
				if i > 2 {
					payload = []byte("reserved opcode payload")
				}
				out = append(out, once(id, "text, "+desc+", ping", textS("Hello, world!"), frame(true, 0, op, payload), pingS("Hello, world!")).
					echo("Hello, world!").closes(ws.StatusProtocolError))
			}
		}
	}
	return out
}

// Group 5: fragmentation (RFC 6455 §5.4).
func fragmentation() []Case {
	f1, f2 := []byte("fragment1"), []byte("fragment2")
	nothing := []byte("non-continuation payload")
	hello := textS("Hello, world!")
	var out []Case
	out = append(out,
		once("5.1", "ping in two fragments", frame(false, 0, opPing, f1), cont(true, f2)).closes(ws.StatusProtocolError),
		once("5.2", "pong in two fragments", frame(false, 0, opPong, f1), cont(true, f2)).closes(ws.StatusProtocolError),
		once("5.3", "text in two fragments", first(f1), cont(true, f2)).echo("fragment1fragment2"),
		framewise("5.4", "text in two fragments, a frame at a time", first(f1), cont(true, f2)).echo("fragment1fragment2"),
		chopped("5.5", "text in two fragments, a byte at a time", 1, first(f1), cont(true, f2)).echo("fragment1fragment2"),
		once("5.6", "text in two fragments with a ping between", first(f1), pingS("ping payload"), cont(true, f2)).
			pongs("ping payload").echo("fragment1fragment2"),
		framewise("5.7", "text in two fragments with a ping between, a frame at a time", first(f1), pingS("ping payload"), cont(true, f2)).
			pongs("ping payload").echo("fragment1fragment2"),
		chopped("5.8", "text in two fragments with a ping between, a byte at a time", 1, first(f1), pingS("ping payload"), cont(true, f2)).
			pongs("ping payload").echo("fragment1fragment2"),
	)
	// 5.9–5.14: a continuation with nothing to continue, then a text message.
	for i, fin := range []bool{true, false} {
		base := 9 + 3*i
		desc := "continuation (FIN=" + map[bool]string{true: "1", false: "0"}[fin] + ") with nothing to continue, then text"
		fs := [][]byte{cont(fin, nothing), hello}
		out = append(out,
			once("5."+itoa(base), desc, fs...).closes(ws.StatusProtocolError),
			framewise("5."+itoa(base+1), desc+", a frame at a time", fs...).closes(ws.StatusProtocolError),
			chopped("5."+itoa(base+2), desc+", a byte at a time", 1, fs...).closes(ws.StatusProtocolError),
		)
	}
	out = append(out,
		once("5.15", "text in two fragments, a stray continuation (FIN=0), text",
			first(f1), cont(true, f2), cont(false, []byte("fragment3")), textS("fragment4")).
			echo("fragment1fragment2").closes(ws.StatusProtocolError),
		once("5.16", "twice: stray continuation (FIN=0), text in two fragments",
			cont(false, f1), first(f2), cont(true, []byte("fragment3")), cont(false, f1), first(f2), cont(true, []byte("fragment3"))).
			closes(ws.StatusProtocolError),
		once("5.17", "twice: stray continuation (FIN=1), text in two fragments",
			cont(true, f1), first(f2), cont(true, []byte("fragment3")), cont(true, f1), first(f2), cont(true, []byte("fragment3"))).
			closes(ws.StatusProtocolError),
		once("5.18", "text in two fragments whose second is also a text frame", first(f1), text(f2)).closes(ws.StatusProtocolError),
	)
	// 5.19, 5.20: five fragments with two pings between them; the second
	// half is sent only once the first ping has been answered.
	five := func(id, desc string, framewise bool) Case {
		parts := [][][]byte{
			{first(f1), cont(false, f2), pingS("pongme 1!")},
			{cont(false, []byte("fragment3")), cont(false, []byte("fragment4")), pingS("pongme 2!"), cont(true, []byte("fragment5"))},
		}
		c := Case{ID: id, Desc: desc}
		pongsSoFar := 0
		for _, part := range parts {
			if framewise {
				for _, f := range part {
					c.Steps = append(c.Steps, Step{Send: f})
				}
			} else {
				c.Steps = append(c.Steps, Step{Send: join(part...)})
			}
			pongsSoFar++
			c.Steps[len(c.Steps)-1].AwaitPongs = pongsSoFar
		}
		return c.pongs("pongme 1!", "pongme 2!").echo("fragment1fragment2fragment3fragment4fragment5")
	}
	out = append(out,
		five("5.19", "text in five fragments, pings after the 2nd and 4th, waiting for the first pong", false),
		five("5.20", "as 5.19, a frame at a time", true),
	)
	return out
}

// Group 7: close handling (RFC 6455 §5.5.1, §7.1.5, §7.4).
func closing() []Case {
	hi := textS("Hello World!")
	out := []Case{
		once("7.1.1", "text, then close 1000", hi, closeFrame(1000, "")).echo("Hello World!").closes(1000),
		once("7.1.2", "close 1000 twice", closeFrame(1000, ""), closeFrame(1000, "")).closes(1000),
		once("7.1.3", "close 1000, then a ping: no pong after the close", closeFrame(1000, ""), pingS("Hello World!")).closes(1000),
		once("7.1.4", "close 1000, then text: no echo after the close", closeFrame(1000, ""), hi).closes(1000),
		once("7.1.5", "first fragment, close 1000, last fragment", first([]byte("fragment1")), closeFrame(1000, ""), cont(true, []byte("fragment2"))).closes(1000),
		once("7.1.6", "a message at the limit, close 1000, ping", text(repeat(MessageLimit)), closeFrame(1000, ""), pingS("Hello World!")).
			echoBytes(repeat(MessageLimit)).closes(1000).note("Autobahn sends 256 KiB; ours is at the 4 KiB limit"),
		once("7.3.1", "close without payload", frame(true, 0, opClose, nil)).closes(NoStatus).
			note("the reply echoes the empty close (no status code), as RFC 6455 §5.5.1 suggests"),
		once("7.3.2", "close with a one-byte payload", frame(true, 0, opClose, []byte("a"))).closes(ws.StatusProtocolError),
		once("7.3.3", "close 1000 without reason", closeFrame(1000, "")).closes(1000),
		once("7.3.4", "close 1000 with a reason", closeFrame(1000, "Hello World!")).closes(1000),
		once("7.3.5", "close 1000 with a 123-byte reason", closeFrame(1000, strings.Repeat("*", 123))).closes(1000),
		once("7.3.6", "close 1000 with a 124-byte reason (payload 126 > 125)", closeFrame(1000, strings.Repeat("*", 124))).closes(ws.StatusProtocolError),
		once("7.5.1", "close 1000 whose reason is not UTF-8", closeFrame(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64")).
			closes(ws.StatusInvalidFramePayloadData),
	}
	for i, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		out = append(out, once("7.7."+itoa(i+1), "close with valid code "+itoa(int(code)), closeFrame(code, "")).closes(ws.StatusCode(code)))
	}
	for i, code := range []uint16{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		out = append(out, once("7.9."+itoa(i+1), "close with invalid code "+itoa(int(code)), closeFrame(code, "")).closes(ws.StatusProtocolError))
	}
	out = append(out,
		once("7.13.1", "close with code 5000", closeFrame(5000, "")).closes(ws.StatusProtocolError).
			note("informational in Autobahn; undefined codes are refused"),
		once("7.13.2", "close with code 65535", closeFrame(65535, "")).closes(ws.StatusProtocolError).
			note("informational in Autobahn; undefined codes are refused"),
	)
	// Codes the IANA registry added after RFC 6455: 1012–1014 may be sent,
	// 1015 (TLS handshake) may not.
	for _, code := range []uint16{1012, 1013, 1014} {
		out = append(out, once("7.7.iana-"+itoa(int(code)), "close with registered code "+itoa(int(code)), closeFrame(code, "")).closes(ws.StatusCode(code)))
	}
	out = append(out, once("7.9.iana-1015", "close with reserved code 1015", closeFrame(1015, "")).closes(ws.StatusProtocolError))
	return out
}

// extras are protocol violations Autobahn's server suite does not send
// (its client always masks).
func extras() []Case {
	hello := []byte("Hello, world!")
	msb := []byte{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0} // 64-bit length with the most significant bit set
	huge := []byte{0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	return []Case{
		once("x.unmasked-text", "unmasked text frame", wstest.UnmaskedFrame(true, 0, opText, hello)).closes(ws.StatusProtocolError),
		once("x.unmasked-ping", "unmasked ping", wstest.UnmaskedFrame(true, 0, opPing, hello)).closes(ws.StatusProtocolError),
		once("x.length-msb", "64-bit length with its top bit set", append(msb, wstest.Mask[:]...)).closes(ws.StatusProtocolError),
		once("x.length-2^63-1", "declared length 2^63−1, no body", append(huge, wstest.Mask[:]...)).closes(ws.StatusMessageTooBig),
		once("x.binary-fragmented", "binary message in two fragments", frame(false, 0, opBinary, seq(4)), cont(true, seq(4))).
			closes(ws.StatusUnsupportedData),
	}
}

var itoa = strconv.Itoa
