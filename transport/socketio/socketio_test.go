package socketio

import (
	"encoding/json"
	"strings"
	"testing"

	"presence/internal/leave"
	"presence/internal/wstest"
)

// The Socket.IO v5 rows, each with the answer the protocol's specification
// gives (github.com/socketio/socket.io-protocol, "Exchange protocol"), and
// the room rules of /ws.

// TestSocketIOConnect: CONNECT to "/" joins a room (from the auth payload,
// else the handshake's query, else lobby); another namespace or a bad room
// is a CONNECT_ERROR and the session stays, so the client may try again.
func TestSocketIOConnect(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	rows := []struct {
		name, query, connect string
		room                 string // "" → refused with errPrefix
		errPacket            string
	}{
		{"default room", "", "40", "lobby", ""},
		{"room from the query", "&room=team-a", "40", "team-a", ""},
		{"room from the auth payload", "&room=team-a", `40{"room":"team-b"}`, "team-b", ""},
		{"auth without a room", "", `40{"token":"123"}`, "lobby", ""},
		{"unknown namespace", "", "40/admin,", "", `44/admin,{"message":"Invalid namespace"}`},
		{"unknown namespace without a comma", "", "40/random", "", `44/random,{"message":"Invalid namespace"}`},
		{"bad room in the query", "&room=a%20b", "40", "", `44{"message":"invalid room: room name has ' ' at position 2; use only A-Z, a-z, 0-9, '.', '_' and '-'"}`},
		{"room too long", "", `40{"room":"` + strings.Repeat("r", 65) + `"}`, "", `44{"message":"invalid room: room name is 65 bytes long; the limit is 64"}`},
		{"room not a string", "", `40{"room":7}`, "", `44{"message":"invalid room: \"room\" must be a string"}`},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			p := wstest.OpenPolling(t, h.url, row.query)
			if r := p.Post(row.connect); r.Status != 200 {
				t.Fatalf("CONNECT: %d %q", r.Status, r.Body)
			}
			pkts := p.Await(within, "an answer to CONNECT", func(pkts []string) bool { return len(pkts) > 0 })
			if row.room == "" {
				if pkts[0] != row.errPacket {
					t.Fatalf("answer %q, want %q", pkts[0], row.errPacket)
				}
				// Still open: CONNECT to "/" in the default room works.
				p.Post(`40{"room":"lobby"}`)
				pkts = p.Await(within, "a second answer", func(pkts []string) bool { return len(pkts) > 0 })
			}
			var ack struct{ SID string }
			if !strings.HasPrefix(pkts[0], "40{") || json.Unmarshal([]byte(pkts[0][2:]), &ack) != nil || ack.SID == "" || ack.SID == p.Open.SID {
				t.Fatalf("answer %q, want 40{\"sid\":…} with a socket id of its own", pkts[0])
			}
			want := row.room
			if want == "" {
				want = "lobby"
			}
			if m := h.memberOf(t, p.Open.SID); m.room != want {
				t.Fatalf("joined %q, want %q", m.room, want)
			}
		})
	}
}

// TestSocketIOPackets: what each packet from a joined client does.
func TestSocketIOPackets(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	rows := []struct {
		name, packet string
		reason       leave.Reason // "": the session stays
		text         string       // what the Member is handed
	}{
		{"event with an argument", `42["hello",{"a":1},2]`, "", `{"event":"hello","data":{"a":1}}`},
		{"event without arguments", `42["hello"]`, "", `{"event":"hello"}`},
		{"event with an ack id", `4212["hello","x"]`, "", `{"event":"hello","data":"x"}`},
		{"disconnect", "41", leave.CloseFrame, ""},
		{"disconnect from another namespace", "41/admin,", "", ""},
		{"unknown packet type", "4abc", leave.ProtocolError, ""},
		{"event payload not an array", "42{}", leave.ProtocolError, ""},
		{"event without a name", "42[]", leave.ProtocolError, ""},
		{"event name not a string", "42[1]", leave.ProtocolError, ""},
		{"bad ack id", `42abc["hello"]`, leave.ProtocolError, ""},
		{"not JSON", `42["hello"`, leave.ProtocolError, ""},
		{"empty Socket.IO packet", "4", leave.ProtocolError, ""},
		{"event on a namespace never joined", `42/admin,["hello"]`, leave.ProtocolError, ""},
		{"ack", "43[]", leave.ProtocolError, ""},
		{"connect error from the client", `44{"message":"x"}`, leave.ProtocolError, ""},
		{"second CONNECT", "40", leave.ProtocolError, ""},
		{"binary event", `451-["hello",{"_placeholder":true,"num":0}]`, leave.Policy, ""},
		{"binary ack", `461-1[{"_placeholder":true,"num":0}]`, leave.Policy, ""},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			c, m := h.joinWS(t)
			_ = c.SendText(row.packet)
			_ = c.SendText("3") // a pong, handled after the packet
			if row.reason != "" {
				if err := m.ended(t); leave.Of(err) != row.reason {
					t.Fatalf("ended with %v, want %s", err, row.reason)
				}
				awaitEnd(t, c)
				return
			}
			if row.text != "" {
				wstest.Eventually(t, within, func() (bool, string) {
					got := m.got()
					return len(got) == 1 && got[0] == row.text, strings.Join(got, " ")
				})
			}
			if !c.Open() {
				t.Fatal("the session was closed")
			}
		})
	}
}

// TestSocketIOConnectRequired: the protocol wants CONNECT first; an event
// before it closes the session, and a session with no CONNECT within the
// handshake timeout is closed.
func TestSocketIOConnectRequired(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	t.Run("event before CONNECT", func(t *testing.T) {
		c := h.dialWS(h.ws("EIO=4&transport=websocket"))
		awaitText(t, c, 1)
		_ = c.SendText(`42["hello"]`)
		if code := awaitEnd(t, c); code != 1002 {
			t.Fatalf("close %d, want 1002", code)
		}
	})
	t.Run("no CONNECT in time, websocket", func(t *testing.T) {
		c := h.dialWS(h.ws("EIO=4&transport=websocket"))
		for {
			n := len(texts(c))
			if !c.Await(within, func(s *wstest.State) bool { return len(s.Texts) > n || s.Ended }) {
				t.Fatal("still open")
			}
			if c.Snapshot().Ended {
				break
			}
			_ = c.SendText("3") // keep answering pings: only CONNECT is missing
		}
		if code := c.CloseCode(); code != 1008 {
			t.Fatalf("close %d, want 1008", code)
		}
	})
	t.Run("no CONNECT in time, polling", func(t *testing.T) {
		p := wstest.OpenPolling(t, h.url, "")
		for {
			r := p.Get(within)
			if r.Status != 200 {
				t.Fatalf("poll: %d %q", r.Status, r.Body)
			}
			if r.Body == "1" {
				break
			}
			p.Post("3")
		}
		if r := p.Get(within); r.Status != 400 {
			t.Fatalf("poll after: %d %q, want 400", r.Status, r.Body)
		}
	})
}
