package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// TestDecodeSIO: the specification's examples, and what the reference
// parser refuses.
func TestDecodeSIO(t *testing.T) {
	t.Parallel()
	rows := []struct {
		in   string
		want sioPacket // typ 0: an error
	}{
		{"0", sioPacket{typ: sioConnect, nsp: "/", id: -1}},
		{`0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`, sioPacket{typ: sioConnect, nsp: "/admin", id: -1, data: json.RawMessage(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}},
		{`4{"message":"Not authorized"}`, sioPacket{typ: sioConnectError, nsp: "/", id: -1, data: json.RawMessage(`{"message":"Not authorized"}`)}},
		{`2["foo"]`, sioPacket{typ: sioEvent, nsp: "/", id: -1, data: json.RawMessage(`["foo"]`)}},
		{`2/admin,["bar"]`, sioPacket{typ: sioEvent, nsp: "/admin", id: -1, data: json.RawMessage(`["bar"]`)}},
		{`51-["baz",{"_placeholder":true,"num":0}]`, sioPacket{typ: sioBinaryEvent, attachments: 1, nsp: "/", id: -1, data: json.RawMessage(`["baz",{"_placeholder":true,"num":0}]`)}},
		{`52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, sioPacket{typ: sioBinaryEvent, attachments: 2, nsp: "/admin", id: -1, data: json.RawMessage(`["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)}},
		{`212["foo"]`, sioPacket{typ: sioEvent, nsp: "/", id: 12, data: json.RawMessage(`["foo"]`)}},
		{`3/admin,13["bar"]`, sioPacket{typ: sioAck, nsp: "/admin", id: 13, data: json.RawMessage(`["bar"]`)}},
		{`61-15["bar",{"_placeholder":true,"num":0}]`, sioPacket{typ: sioBinaryAck, attachments: 1, nsp: "/", id: 15, data: json.RawMessage(`["bar",{"_placeholder":true,"num":0}]`)}},
		{"1", sioPacket{typ: sioDisconnect, nsp: "/", id: -1}},
		{"1/admin,", sioPacket{typ: sioDisconnect, nsp: "/admin", id: -1}},
		// refused
		{"", sioPacket{}},
		{"7", sioPacket{}},
		{"abc", sioPacket{}},
		{"2{}", sioPacket{}},
		{"2[]", sioPacket{}},
		{"2[1]", sioPacket{}},
		{`2abc["x"]`, sioPacket{}},
		{`2["x"`, sioPacket{}},
		{"1[]", sioPacket{}},
		{"0[]", sioPacket{}},
		{`3{}`, sioPacket{}},
		{`5["x"]`, sioPacket{}},
		{`5x-["x"]`, sioPacket{}},
		{`299999999999999999999["x"]`, sioPacket{}},
		{`29007199254740992["x"]`, sioPacket{}},
	}
	for _, row := range rows {
		got, err := decodeSIO([]byte(row.in))
		if row.want.typ == 0 {
			if err == nil {
				t.Errorf("%q decoded as %+v, want an error", row.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, row.want) {
			t.Errorf("%q: %+v, %v; want %+v", row.in, got, err, row.want)
		}
		if enc := encodeSIO(got); string(enc) != "4"+row.in {
			t.Errorf("%q encodes back as %q", row.in, enc)
		}
	}
}

// TestDecodePayload: the specification's payload examples.
func TestDecodePayload(t *testing.T) {
	t.Parallel()
	got, err := decodePayload([]byte("4hello\x1e2\x1e4world"))
	if err != nil || len(got) != 3 || string(got[0]) != "4hello" || string(got[1]) != "2" || string(got[2]) != "4world" {
		t.Fatalf("%q, %v", got, err)
	}
	if _, err := decodePayload([]byte("4hello\x1ebAQIDBA==")); !errors.Is(err, errBinary) {
		t.Fatalf("binary packet: %v, want errBinary", err)
	}
	for _, bad := range []string{"", "\x1e", "4a\x1e", "x", "8", "4\xff"} {
		if p, err := decodePayload([]byte(bad)); err == nil {
			t.Errorf("%q decoded as %q", bad, p)
		}
	}
}

// TestCountPacket: the lesson's handler reads the first argument, a number.
func TestCountPacket(t *testing.T) {
	t.Parallel()
	got := string(countPacket("team-a", 3, 42))
	if got != `42["user count",3,{"room":"team-a","seq":42}]` {
		t.Fatalf("%s", got)
	}
	if got := string(errorPacket("unknown_event", `unknown event "x"`)); got != `42["error",{"code":"unknown_event","message":"unknown event \"x\""}]` {
		t.Fatalf("%s", got)
	}
}

// FuzzDecodePayload: any POST body. The decoder never panics; what it
// accepts is packets of known types that join back into the body.
func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{"4hello\x1e2\x1e4world", "4hello\x1ebAQIDBA==", "3", "1", "40", `42["x",1]`, "6\x1e6", "", "\x1e\x1e", "5", "2probe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		pkts, err := decodePayload(body)
		if err != nil {
			return
		}
		for _, p := range pkts {
			if len(p) == 0 || p[0] < '0' || p[0] > '6' || bytes.IndexByte(p, separator) >= 0 {
				t.Fatalf("packet %q of %q", p, body)
			}
		}
		if !bytes.Equal(encodePayload(pkts), body) {
			t.Fatalf("%q does not join back into %q", pkts, body)
		}
	})
}

// FuzzDecodeSocketIO: any Socket.IO packet. The decoder never panics; what
// it accepts has a payload of its type's shape, encodes to a packet that
// decodes to the same, and an event's name can be read.
func FuzzDecodeSocketIO(f *testing.F) {
	for _, s := range []string{"0", `0{"room":"a"}`, "0/admin,", `2["x",{"a":1}]`, `212["x"]`, `3/a,1[]`, `51-["x",{"_placeholder":true,"num":0}]`, "1", `4{"message":"m"}`, "42{}", `2abc["x"]`, "9"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		pkt, err := decodeSIO(p)
		if err != nil {
			return
		}
		again, err := decodeSIO(encodeSIO(pkt)[1:])
		if err != nil || !reflect.DeepEqual(normal(again), normal(pkt)) {
			t.Fatalf("%q → %+v → %q → %+v, %v", p, pkt, encodeSIO(pkt), again, err)
		}
		if pkt.typ == sioEvent || pkt.typ == sioBinaryEvent {
			if name, _ := eventArgs(pkt); name == "" && !bytes.Contains(p, []byte(`""`)) {
				t.Fatalf("%q: an event without a name", p)
			}
		}
	})
}

// normal makes a packet comparable: a namespace written "/" + "," decodes
// the same as none.
func normal(p sioPacket) sioPacket {
	if len(p.data) == 0 {
		p.data = nil
	}
	return p
}
