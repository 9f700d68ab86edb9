package main

import "testing"

func TestParsePresence(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  message
		isErr bool
	}{
		{"server encoding", `{"event":"user count","data":{"room":"lobby","currentUsers":3,"seq":1764093412000017}}`,
			message{kind: msgCount, count: 3, seq: 1764093412000017}, false},
		{"no seq (a baseline may omit it)", `{"event":"user count","data":{"room":"lobby","currentUsers":12}}`,
			message{kind: msgCount, count: 12}, false},
		{"other key order", `{"data":{"seq":9,"currentUsers":0,"room":"x"},"event":"user count"}`,
			message{kind: msgCount, count: 0, seq: 9}, false},
		{"spaces", `{"event": "user count", "data": {"room": "a", "currentUsers": 5, "seq": 2}}`,
			message{kind: msgCount, count: 5, seq: 2}, false},
		{"error event", `{"event":"error","data":{"code":"bad_json","message":"nope"}}`,
			message{kind: msgError, text: "bad_json: nope"}, false},
		{"unknown event", `{"event":"hello","data":1}`, message{kind: msgOther, text: "hello"}, false},
		{"count without a number", `{"event":"user count","data":{"currentUsers":"3"}}`, message{}, true},
		{"count without currentUsers", `{"event":"user count","data":{"room":"lobby"}}`, message{}, true},
		{"fast path prefix, broken rest", `{"event":"user count","data":{"room":"lobby","currentUsers":3x}}`, message{}, true},
		{"not JSON", `user count 3`, message{}, true},
		{"empty", ``, message{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePresence([]byte(tt.in))
			if (err != nil) != tt.isErr {
				t.Fatalf("err = %v, want error %v", err, tt.isErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseSocketIO(t *testing.T) {
	open, err := parseSocketIO([]byte(`0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
	if err != nil || open.kind != msgEIOOpen || open.open.SID != "abc" || open.open.PingInterval != 25000 || open.open.PingTimeout != 20000 {
		t.Fatalf("open packet: %+v, %v", open, err)
	}
	tests := []struct {
		in    string
		kind  msgKind
		count int
		isErr bool
	}{
		{`2`, msgEIOPing, 0, false},
		{`1`, msgEIOClose, 0, false},
		{`3`, msgOther, 0, false},
		{`6`, msgOther, 0, false},
		{`40{"sid":"x1"}`, msgSIOConnect, 0, false},
		{`40`, msgSIOConnect, 0, false},
		{`41`, msgSIODisconnect, 0, false},
		{`44{"message":"Invalid namespace"}`, msgSIOConnectError, 0, false},
		{`42["user count",7]`, msgCount, 7, false},
		{`42["user count",0]`, msgCount, 0, false},
		{`42[ "user count" , 10000 ]`, msgCount, 10000, false},
		{`42["user count",3,{"room":"lobby","seq":42}]`, msgCount, 3, false},
		{`42["chat","hi"]`, msgOther, 0, false},
		{`42["user count"]`, 0, 0, true},
		{`42["user count","many"]`, 0, 0, true},
		{`42{"not":"an array"}`, 0, 0, true},
		{`0{"sid":""}`, 0, 0, true},
		{`0not json`, 0, 0, true},
		{`9`, 0, 0, true},
		{``, 0, 0, true},
		{`4`, 0, 0, true},
	}
	for _, tt := range tests {
		got, err := parseSocketIO([]byte(tt.in))
		if (err != nil) != tt.isErr {
			t.Errorf("%q: err = %v, want error %v", tt.in, err, tt.isErr)
			continue
		}
		if err == nil && (got.kind != tt.kind || got.count != tt.count) {
			t.Errorf("%q: got kind %d count %d, want kind %d count %d", tt.in, got.kind, got.count, tt.kind, tt.count)
		}
	}
}

func TestWSURL(t *testing.T) {
	tests := []struct{ base, want string }{
		{"ws://127.0.0.1:8080", "ws://127.0.0.1:8080/ws?room=lobby"},
		{"http://127.0.0.1:8080/", "ws://127.0.0.1:8080/ws?room=lobby"},
	}
	for _, tt := range tests {
		if got, err := wsURL(tt.base, protoPresence, "lobby"); err != nil || got != tt.want {
			t.Errorf("wsURL(%q) = %q, %v; want %q", tt.base, got, err, tt.want)
		}
	}
	if got, _ := wsURL("ws://127.0.0.1:3000", protoSocketIO, "ignored"); got != "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket" {
		t.Errorf("socket.io URL = %q", got)
	}
	if got, _ := wsURL("ws://127.0.0.1:1", protoPresence, "a b&c"); got != "ws://127.0.0.1:1/ws?room=a+b%26c" {
		t.Errorf("room is not escaped: %q", got)
	}
	for _, bad := range []string{"wss://127.0.0.1", "ftp://x", "ws://", "::"} {
		if _, err := wsURL(bad, protoPresence, "x"); err == nil {
			t.Errorf("wsURL(%q) accepted", bad)
		}
	}
}

// TestParseSocketIOSeq: our server's Socket.IO count carries the room's seq
// in a second argument, which the client checks like /ws's.
func TestParseSocketIOSeq(t *testing.T) {
	for _, in := range []string{
		`42["user count",3,{"room":"lobby","seq":42}]`,       // the fast path
		`42["user count",3,{"seq":42,"room":"lobby"}]`,       // fast, other key order
		`42["user count", 3, {"room": "lobby", "seq": 42} ]`, // encoding/json
	} {
		got, err := parseSocketIO([]byte(in))
		if err != nil || got.seq != 42 || got.count != 3 || got.kind != msgCount {
			t.Errorf("%s: %+v, %v; want count 3, seq 42", in, got, err)
		}
	}
	if got, err := parseSocketIO([]byte(`42["user count",3,{"room":"x"}]`)); err != nil || got.count != 3 || got.seq != 0 {
		t.Errorf("no seq: %+v, %v", got, err)
	}
}
