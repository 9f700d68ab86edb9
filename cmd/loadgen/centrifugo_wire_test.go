package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// cfParseAll collects every message parseCentrifugo finds in p.
func cfParseAll(p string) []cfMessage {
	var out []cfMessage
	parseCentrifugo([]byte(p), func(m cfMessage) { out = append(out, m) })
	return out
}

func TestParseCentrifugoLines(t *testing.T) {
	const id = "8d3f4c2e-1b7a-4e5f-9c0d-2a6b8e9f1c3d"
	h := clientID([]byte(id))
	tests := []struct {
		name string
		in   string
		want cfMessage
	}{
		{"ping", `{}`, cfMessage{kind: cfPing}},
		{"connect result", `{"id":1,"connect":{"client":"` + id + `","version":"6.9.1","ping":25,"pong":true}}`,
			cfMessage{kind: cfConnectResult, id: 1, pong: true}},
		{"connect result without pong", `{"id":1,"connect":{"client":"x","ping":25}}`, cfMessage{kind: cfConnectResult, id: 1}},
		{"subscribe result", `{"id":2,"subscribe":{}}`, cfMessage{kind: cfReply, id: 2}},
		{"error reply", `{"id":2,"error":{"code":103,"message":"permission denied"}}`,
			cfMessage{kind: cfReply, id: 2, err: "103: permission denied"}},
		{"presence_stats", `{"id":4,"presence_stats":{"num_clients":3,"num_users":1}}`, cfMessage{kind: cfReply, id: 4, numClients: 3}},
		{"presence_stats, empty room", `{"id":4,"presence_stats":{}}`, cfMessage{kind: cfReply, id: 4}},
		{"join, server encoding", `{"push":{"channel":"lobby","join":{"info":{"user":"","client":"` + id + `"}}}}`,
			cfMessage{kind: cfJoin, client: h}},
		{"leave, server encoding", `{"push":{"channel":"lobby","leave":{"info":{"user":"u1","client":"` + id + `"}}}}`,
			cfMessage{kind: cfLeave, client: h}},
		{"join, other key order", `{"push":{"join":{"info":{"client":"` + id + `","user":""}},"channel":"lobby"}}`,
			cfMessage{kind: cfJoin, client: h}},
		{"join with conn_info", `{"push":{"channel":"lobby","join":{"info":{"user":"","client":"` + id + `","conn_info":{"client":"not this"}}}}}`,
			cfMessage{kind: cfJoin, client: h}},
		{"join, escaped user", `{"push":{"channel":"lobby","join":{"info":{"user":"a\"client\":\"b","client":"` + id + `"}}}}`,
			cfMessage{kind: cfJoin, client: h}},
		{"publication with step", `{"push":{"channel":"lobby","pub":{"data":{"step":7},"offset":3}}}`, cfMessage{kind: cfPub, step: 7}},
		{"publication without step", `{"push":{"channel":"lobby","pub":{"data":"hello"}}}`, cfMessage{kind: cfPub}},
		{"unsubscribe push", `{"push":{"channel":"lobby","unsubscribe":{"code":2000,"reason":"server unsubscribe"}}}`,
			cfMessage{kind: cfUnsubscribed, err: "2000: server unsubscribe"}},
		{"disconnect push", `{"push":{"disconnect":{"code":3008,"reason":"slow","reconnect":true}}}`,
			cfMessage{kind: cfDisconnected, err: "3008: slow"}},
		{"other push", `{"push":{"channel":"lobby","message":{"data":1}}}`, cfMessage{kind: cfOther}},
		{"reply the client does not know", `{"id":9,"rpc":{"data":{}}}`, cfMessage{kind: cfUnknownReply, id: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cfParseAll(tt.in)
			if len(got) != 1 {
				t.Fatalf("got %d messages, want 1: %+v", len(got), got)
			}
			if fmt.Sprint(got[0]) != fmt.Sprint(tt.want) {
				t.Errorf("got %+v, want %+v", got[0], tt.want)
			}
		})
	}
}

func TestParseCentrifugoMalformed(t *testing.T) {
	for _, in := range []string{
		`not json`,
		`{"id":0}`,
		`{"push":{"channel":"lobby","join":{"info":{"user":""}}}}`,
		`{"push":{"channel":"lobby","leave":{"info":{}}}}`,
		`{"id":1,"connect":{}}`,
		`{"id":3,"presence":{"presence":{"a":{}`,
		`{"presence":{"presence":{}}}`,
		`{"id":"x","presence":{"presence":{}}}`,
	} {
		got := cfParseAll(in)
		if len(got) != 1 || got[0].kind != cfMalformed || got[0].err == "" {
			t.Errorf("%s: got %+v, want one malformed message with a reason", in, got)
		}
	}
}

// The server joins replies and pushes written together with '\n'.
func TestParseCentrifugoSeveralInOneMessage(t *testing.T) {
	in := `{"id":2,"subscribe":{}}` + "\n" +
		`{"push":{"channel":"lobby","join":{"info":{"user":"","client":"a"}}}}` + "\n" +
		"broken\n\n" +
		`{}` + "\n"
	got := cfParseAll(in)
	kinds := make([]cfKind, len(got))
	for i, m := range got {
		kinds[i] = m.kind
	}
	if want := []cfKind{cfReply, cfJoin, cfMalformed, cfPing}; !slices.Equal(kinds, want) {
		t.Errorf("kinds %v, want %v", kinds, want)
	}
}

func TestParsePresenceReply(t *testing.T) {
	ids := []string{"c1", "c2", "c3"}
	var b strings.Builder
	b.WriteString(`{"id":3,"presence":{"presence":{`)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%s":{"user":"","client":"%s","conn_info":{"nested":{"}":"{"}}}`, id, id)
	}
	b.WriteString(`}}}`)
	got := cfParseAll(b.String())
	if len(got) != 1 || got[0].kind != cfPresence || got[0].id != 3 {
		t.Fatalf("got %+v", got)
	}
	want := []uint64{clientID([]byte("c1")), clientID([]byte("c2")), clientID([]byte("c3"))}
	if !slices.Equal(got[0].clients, want) {
		t.Errorf("clients %v, want %v", got[0].clients, want)
	}
	empty := cfParseAll(`{"id":3,"presence":{"presence":{}}}`)
	if len(empty) != 1 || empty[0].kind != cfPresence || len(empty[0].clients) != 0 {
		t.Errorf("empty presence: %+v", empty)
	}
	// Key order does not matter.
	late := cfParseAll(`{"presence":{"presence":{"c1":{}}},"id":3}`)
	if len(late) != 1 || late[0].kind != cfPresence || late[0].id != 3 || len(late[0].clients) != 1 {
		t.Errorf("id after presence: %+v", late)
	}
}

func TestCentrifugoCommands(t *testing.T) {
	tests := []struct{ got, want string }{
		{string(cfConnectCmd()), `{"id":1,"connect":{"name":"loadgen"}}`},
		{string(cfSubscribeCmd("lobby", true)), `{"id":2,"subscribe":{"channel":"lobby","join_leave":true}}`},
		{string(cfSubscribeCmd("a\"b", false)), `{"id":2,"subscribe":{"channel":"a\"b"}}`},
		{string(cfChannelCmd(cfPresenceID, "presence", "lobby")), `{"id":3,"presence":{"channel":"lobby"}}`},
		{string(cfChannelCmd(cfPresenceStatsID, "presence_stats", "lobby")), `{"id":4,"presence_stats":{"channel":"lobby"}}`},
		{string(cfPong), `{}`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}

func TestWSURLCentrifugo(t *testing.T) {
	if got, err := wsURL("ws://127.0.0.1:8000", protoCentrifugo, "lobby"); err != nil || got != "ws://127.0.0.1:8000/connection/websocket" {
		t.Errorf("centrifugo URL = %q, %v", got, err)
	}
}
