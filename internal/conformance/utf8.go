package conformance

import (
	"bytes"

	"github.com/gobwas/ws"
)

// Group 6: UTF-8 handling (RFC 6455 §5.6, §8.1). A text message whose
// payload is not valid UTF-8 fails the connection with 1007, however it is
// fragmented, and as soon as the first invalid byte arrives ("fail fast").

// kosme is "κόσμε", the usual valid multi-byte sample.
const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"

func utf8Cases() []Case {
	const hello = "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!" // Hello-µ@ßöäüàá-UTF-8!!
	invalid := kosme + "\xed\xa0\x80" + "edited"                                            // a UTF-16 surrogate in the middle
	out := []Case{
		once("6.1.1", "empty text message", text(nil)).echo(""),
		once("6.1.2", "empty text message in three empty fragments", first(nil), cont(false, nil), cont(true, nil)).echo(""),
		once("6.1.3", "text in three fragments, the first and last empty", first(nil), cont(false, []byte("middle frame payload")), cont(true, nil)).
			echo("middle frame payload"),
		once("6.2.1", "valid UTF-8 with two-byte code points", textS(hello)).echo(hello),
		once("6.2.2", "the same in two fragments split between code points", first([]byte(hello[:15])), cont(true, []byte(hello[15:]))).echo(hello),
		once("6.2.3", "the same in one-byte fragments (split inside code points)", fragments([]byte(hello), 1)).echo(hello),
		once("6.2.4", "κόσμε in one-byte fragments", fragments([]byte(kosme), 1)).echo(kosme),
		once("6.3.1", "invalid UTF-8 (a surrogate) in one frame", textS(invalid)).closes(ws.StatusInvalidFramePayloadData),
		once("6.3.2", "the same in one-byte fragments", fragments([]byte(invalid), 1)).closes(ws.StatusInvalidFramePayloadData),
	}
	out = append(out, failFast()...)

	for g, group := range kuhnGroups() {
		for i, v := range group {
			id := "6." + itoa(g+5) + "." + itoa(i+1)
			whole := once(id, "one frame: "+hexBytes(v.bytes), text(v.bytes))
			split := once(id+"/1B", "one-byte fragments: "+hexBytes(v.bytes), fragments(v.bytes, 1))
			if v.valid {
				out = append(out, whole.echoBytes(v.bytes), split.echoBytes(v.bytes))
			} else {
				out = append(out, whole.closes(ws.StatusInvalidFramePayloadData), split.closes(ws.StatusInvalidFramePayloadData))
			}
		}
	}
	return out
}

// failFast: the message κόσμε + U+110000 (not a code point) + "edited" is
// sent in three parts; the server must fail the connection when the second
// part arrives, without waiting for the rest of the message.
func failFast() []Case {
	p1, p2, p3 := []byte(kosme), []byte("\xf4\x90\x80\x80"), []byte("edited")
	all := join(p1, p2, p3)
	probe := pingS("part 1 accepted")

	frames := func(id, desc string, a, b, c []byte) Case {
		return Case{ID: id, Desc: desc, Steps: []Step{
			{Send: join(first(a), probe), AwaitPongs: 1}, // the valid first part is accepted
			{Send: cont(false, b), AwaitFail: true},      // the invalid byte fails it at once
			{Send: cont(true, c)},
		}}.pongs("part 1 accepted").closes(ws.StatusInvalidFramePayloadData)
	}
	chops := func(id, desc string, cut1, cut2 int) Case {
		f := text(all)
		h := len(f) - len(all) // header length
		return Case{ID: id, Desc: desc, Steps: []Step{
			{Send: f[:h+cut1]},
			{Send: f[h+cut1 : h+cut2], AwaitFail: true},
			{Send: f[h+cut2:]},
		}}.closes(ws.StatusInvalidFramePayloadData)
	}
	return []Case{
		frames("6.4.1", "fail fast: three frames, the 2nd holds the invalid code point", p1, p2, p3),
		frames("6.4.2", "fail fast: three frames, the 2nd is only the byte that makes it invalid", all[:12], all[12:13], all[13:]),
		chops("6.4.3", "fail fast: one frame in three writes, the 2nd holds the invalid code point", len(p1), len(p1)+len(p2)),
		chops("6.4.4", "fail fast: one frame in three writes, the 2nd is only the byte that makes it invalid", 12, 13),
	}
}

type utf8Vector struct {
	valid bool
	bytes []byte
}

// kuhnGroups are the sequences of Markus Kuhn's UTF-8 decoder stress test,
// in the order and grouping of Autobahn cases 6.5 to 6.23. Validity is
// stated, not computed, so the table does not trust any validator.
func kuhnGroups() [][]utf8Vector {
	v := func(s string) utf8Vector { return utf8Vector{true, []byte(s)} }
	x := func(s string) utf8Vector { return utf8Vector{false, []byte(s)} }

	// 6.6: every prefix of κόσμε; valid only where it ends on a code point.
	var prefixes []utf8Vector
	for n := 1; n <= len(kosme); n++ {
		ends := n == 2 || n == 5 || n == 7 || n == 9 || n == 11
		prefixes = append(prefixes, utf8Vector{ends, []byte(kosme[:n])})
	}
	// 6.12.8: every continuation byte 0x80–0xbe.
	var conts []byte
	for b := 0x80; b < 0xbf; b++ {
		conts = append(conts, byte(b))
	}
	// 6.13: lonely start bytes, each followed by a space.
	var lonely []utf8Vector
	for _, r := range [][2]int{{0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}} {
		var b []byte
		for c := r[0]; c < r[1]; c++ {
			b = append(b, byte(c), ' ')
		}
		lonely = append(lonely, utf8Vector{false, b})
	}
	// 6.14: sequences missing their last continuation byte; 6.15 joins them.
	missing := []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
		"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}
	var missingV []utf8Vector
	var concat bytes.Buffer
	for _, s := range missing {
		missingV = append(missingV, x(s))
		concat.WriteString(s)
	}
	// 6.22: non-characters, which are valid UTF-8 (RFC 3629).
	nonchars := []utf8Vector{v("\xef\xbf\xbe"), v("\xef\xbf\xbf")}
	for _, z1 := range []byte{0xf0, 0xf1, 0xf2, 0xf3, 0xf4} {
		for _, z2 := range []byte{0x8f, 0x9f, 0xaf, 0xbf} {
			if z1 == 0xf4 && z2 != 0x8f {
				continue // above U+10FFFF
			}
			for _, z3 := range []byte{0xbe, 0xbf} {
				if z1 == 0xf0 && z2 == 0x8f {
					continue // overlong
				}
				nonchars = append(nonchars, utf8Vector{true, []byte{z1, z2, 0xbf, z3}})
			}
		}
	}

	return [][]utf8Vector{
		// 6.5 some valid sequences
		{v("hello\x24world"), v("hello\xc2\xa2world"), v("hello\xe2\x82\xacworld"), v("hello\xf0\xa4\xad\xa2world"), v(kosme)},
		prefixes, // 6.6
		// 6.7 first possible sequence of each length
		{v("\x00"), v("\xc2\x80"), v("\xe0\xa0\x80"), v("\xf0\x90\x80\x80")},
		// 6.8 first possible 5- and 6-byte sequences (no such code points)
		{x("\xf8\x88\x80\x80\x80"), x("\xfc\x84\x80\x80\x80\x80")},
		// 6.9 last possible sequence of each length
		{v("\x7f"), v("\xdf\xbf"), v("\xef\xbf\xbf"), v("\xf4\x8f\xbf\xbf")},
		// 6.10 last possible 4-, 5- and 6-byte sequences (above U+10FFFF)
		{x("\xf7\xbf\xbf\xbf"), x("\xfb\xbf\xbf\xbf\xbf"), x("\xfd\xbf\xbf\xbf\xbf\xbf")},
		// 6.11 other boundary conditions
		{v("\xed\x9f\xbf"), v("\xee\x80\x80"), v("\xef\xbf\xbd"), v("\xf4\x8f\xbf\xbf"), x("\xf4\x90\x80\x80")},
		// 6.12 unexpected continuation bytes
		{x("\x80"), x("\xbf"), x("\x80\xbf"), x("\x80\xbf\x80"), x("\x80\xbf\x80\xbf"), x("\x80\xbf\x80\xbf\x80"), x("\x80\xbf\x80\xbf\x80\xbf"), {false, conts}},
		lonely,                    // 6.13
		missingV,                  // 6.14
		{{false, concat.Bytes()}}, // 6.15
		// 6.16 impossible bytes
		{x("\xfe"), x("\xff"), x("\xfe\xfe\xff\xff")},
		// 6.17 overlong ASCII "/"
		{x("\xc0\xaf"), x("\xe0\x80\xaf"), x("\xf0\x80\x80\xaf"), x("\xf8\x80\x80\x80\xaf"), x("\xfc\x80\x80\x80\x80\xaf")},
		// 6.18 maximum overlong sequences
		{x("\xc1\xbf"), x("\xe0\x9f\xbf"), x("\xf0\x8f\xbf\xbf"), x("\xf8\x87\xbf\xbf\xbf"), x("\xfc\x83\xbf\xbf\xbf\xbf")},
		// 6.19 overlong NUL
		{x("\xc0\x80"), x("\xe0\x80\x80"), x("\xf0\x80\x80\x80"), x("\xf8\x80\x80\x80\x80"), x("\xfc\x80\x80\x80\x80\x80")},
		// 6.20 single UTF-16 surrogates
		{x("\xed\xa0\x80"), x("\xed\xad\xbf"), x("\xed\xae\x80"), x("\xed\xaf\xbf"), x("\xed\xb0\x80"), x("\xed\xbe\x80"), x("\xed\xbf\xbf")},
		// 6.21 paired UTF-16 surrogates
		{x("\xed\xa0\x80\xed\xb0\x80"), x("\xed\xa0\x80\xed\xbf\xbf"), x("\xed\xad\xbf\xed\xb0\x80"), x("\xed\xad\xbf\xed\xbf\xbf"),
			x("\xed\xae\x80\xed\xb0\x80"), x("\xed\xae\x80\xed\xbf\xbf"), x("\xed\xaf\xbf\xed\xb0\x80"), x("\xed\xaf\xbf\xed\xbf\xbf")},
		nonchars, // 6.22
		// 6.23 Unicode specials
		{v("\xef\xbf\xb9"), v("\xef\xbf\xba"), v("\xef\xbf\xbb"), v("\xef\xbf\xbc"), v("\xef\xbf\xbd"), v("\xef\xbf\xbe"), v("\xef\xbf\xbf")},
	}
}

func hexBytes(b []byte) string {
	const digits = "0123456789abcdef"
	if len(b) > 24 {
		return hexBytes(b[:24]) + "…"
	}
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
