package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"presence/internal/wstest"
)

// TestBadInput walks the bad-input table of DESIGN.md §4: each row gets the
// answer it names, and the members already in the room keep receiving
// correct counts throughout.
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *config) {
		c.MaxConnsPerIP = 10
		c.MaxBadMessages = 1000 // so that the flood row meets the rate limit, not this budget
		c.PingInterval = 500 * time.Millisecond
		c.PongTimeout = 500 * time.Millisecond
		c.AllowedOrigins = []string{"https://partner.example"}
	})
	var observers []*wstest.Client
	for range 3 {
		observers = append(observers, s.dial(t, "lobby"))
	}
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(observers, 3) })

	// closedWith runs a row: a fresh client joins the lobby, the observers
	// see it, it misbehaves, and the server must close it with want.
	closedWith := func(t *testing.T, want ws.StatusCode, misbehave func(c *wstest.Client)) {
		t.Helper()
		c := s.dial(t, "lobby")
		wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(append(observers, c), 4) })
		misbehave(c)
		if !c.WaitDone(10 * time.Second) {
			t.Fatal("the server did not close the connection")
		}
		if got := c.CloseCode(); got != want {
			t.Fatalf("server closed with %d, want %d", got, want)
		}
		wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(observers, 3) })
	}

	t.Run("binary frame → 1003", func(t *testing.T) {
		closedWith(t, ws.StatusUnsupportedData, func(c *wstest.Client) {
			_ = c.WriteFrame(ws.OpBinary, []byte{1, 2, 3})
		})
	})
	t.Run("text that is not UTF-8 → 1007", func(t *testing.T) {
		closedWith(t, ws.StatusInvalidFramePayloadData, func(c *wstest.Client) {
			_ = c.WriteFrame(ws.OpText, []byte{'{', 0xff, 0xfe, '}'})
		})
	})
	t.Run("message over the size limit → 1009 before its body arrives", func(t *testing.T) {
		closedWith(t, ws.StatusMessageTooBig, func(c *wstest.Client) {
			// Only the header: the server must refuse from the declared length.
			_ = c.Write(wstest.FrameHeader(true, 0, ws.OpText, 1<<40))
		})
	})
	t.Run("messages faster than the rate limit → 1008", func(t *testing.T) {
		closedWith(t, ws.StatusPolicyViolation, func(c *wstest.Client) {
			for range 200 {
				if c.SendText(`{"event":"hello"}`) != nil {
					return
				}
			}
		})
	})
	protocol := []struct {
		name  string
		frame []byte
	}{
		{"unmasked frame", wstest.UnmaskedFrame(true, 0, ws.OpText, []byte("hi"))},
		{"RSV bits without an extension", wstest.Frame(true, ws.Rsv(true, false, false), ws.OpText, []byte("hi"))},
		{"reserved opcode 3", wstest.Frame(true, 0, 3, nil)},
		{"reserved control opcode 11", wstest.Frame(true, 0, 11, nil)},
		{"fragmented ping", wstest.Frame(false, 0, ws.OpPing, []byte("x"))},
		{"control frame over 125 bytes", wstest.Frame(true, 0, ws.OpPing, make([]byte, 126))},
		{"continuation with nothing to continue", wstest.Frame(true, 0, ws.OpContinuation, []byte("x"))},
		{"new message inside a fragmented one", append(wstest.Frame(false, 0, ws.OpText, []byte("a")), wstest.Frame(true, 0, ws.OpText, []byte("b"))...)},
		{"close frame with a one-byte payload", wstest.Frame(true, 0, ws.OpClose, []byte{3})},
		{"close frame with a reserved code", wstest.Frame(true, 0, ws.OpClose, wstest.CloseBody(1005, ""))},
	}
	for _, row := range protocol {
		t.Run(row.name+" → 1002", func(t *testing.T) {
			closedWith(t, ws.StatusProtocolError, func(c *wstest.Client) { _ = c.Write(row.frame) })
		})
	}

	t.Run("silence past ping interval + pong timeout → dropped", func(t *testing.T) {
		before, _ := s.metric(t, `presence_leaves_total{reason="ping_timeout"}`)
		c := s.dial(t, "lobby")
		wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(append(observers, c), 4) })
		c.GoSilent()
		if !c.WaitDone(10 * time.Second) {
			t.Fatal("a silent client was not dropped")
		}
		wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(observers, 3) })
		after, _ := s.metric(t, `presence_leaves_total{reason="ping_timeout"}`)
		if after != before+1 {
			t.Fatalf("ping_timeout leaves went from %v to %v, want +1", before, after)
		}
	})

	t.Run("unusable JSON → error event, connection stays up", func(t *testing.T) {
		c := s.dial(t, "lobby")
		wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(append(observers, c), 4) })
		_ = c.SendText(`{"event":`)
		_ = c.SendText(`{"event":"teleport"}`)
		wstest.Eventually(t, 10*time.Second, func() (bool, string) {
			return len(c.Errors()) == 2, fmt.Sprintf("error events: %+v", c.Errors())
		})
		if e := c.Errors(); e[0].Code != "bad_json" || e[1].Code != "unknown_event" || e[1].Message == "" {
			t.Fatalf("error events %+v", e)
		}
		if !c.Open() {
			t.Fatal("the connection was closed for two bad messages")
		}
		c.CloseNormally()
		wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(observers, 3) })
	})

	t.Run("bad room name → 400 with a reason, no upgrade", func(t *testing.T) {
		for _, room := range []string{"has%20space", strings.Repeat("x", 65), "%C3%A9t%C3%A9", "a/b"} {
			_, err := s.tryDial(t, room, wstest.Options{})
			var se ws.StatusError
			if !errors.As(err, &se) || int(se) != http.StatusBadRequest {
				t.Fatalf("room %q: got %v, want HTTP 400", room, err)
			}
		}
		status, body := s.get(t, "/ws?room=has%20space", upgradeHeaders())
		if status != http.StatusBadRequest || !strings.Contains(body, "room name") {
			t.Fatalf("got %d %q, want 400 with a reason", status, body)
		}
	})

	t.Run("origin: cross-site → 403, none → allowed, allow-listed → allowed", func(t *testing.T) {
		h := http.Header{"Origin": {"http://evil.example"}}
		_, err := s.tryDial(t, "lobby", wstest.Options{Header: h})
		var se ws.StatusError
		if !errors.As(err, &se) || int(se) != http.StatusForbidden {
			t.Fatalf("cross-site origin: got %v, want HTTP 403", err)
		}
		same := s.dialWith(t, "lobby", wstest.Options{Header: http.Header{"Origin": {s.url}}})
		partner := s.dialWith(t, "lobby", wstest.Options{Header: http.Header{"Origin": {"https://partner.example"}}})
		wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(append(observers, same, partner), 5) })
		same.CloseNormally()
		partner.CloseNormally()
		wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(observers, 3) })
	})

	t.Run("too many connections from one address → 429", func(t *testing.T) {
		var held []*wstest.Client
		for range 10 {
			held = append(held, s.dialWith(t, "flood", wstest.Options{Local: "127.0.0.9"}))
		}
		_, err := s.tryDial(t, "flood", wstest.Options{Local: "127.0.0.9"})
		var se ws.StatusError
		if !errors.As(err, &se) || int(se) != http.StatusTooManyRequests {
			t.Fatalf("11th connection from one address: got %v, want HTTP 429", err)
		}
		other := s.dialWith(t, "flood", wstest.Options{Local: "127.0.0.10"})
		wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(append(held, other), 11) })
		for _, c := range append(held, other) {
			c.CloseNormally()
		}
	})

	t.Run("permessage-deflate offered → not negotiated", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/ws?room=deflate", nil)
		req.Header = upgradeHeaders()
		req.Header.Set("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")
		res, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("status %d, want 101", res.StatusCode)
		}
		if ext := res.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
			t.Fatalf("the server negotiated %q", ext)
		}
	})

	for i, o := range observers {
		if p := o.SeqProblem(); p != "" {
			t.Fatalf("observer %d saw %s", i, p)
		}
		if !o.Open() {
			t.Fatalf("observer %d was disconnected by someone else's bad input", i)
		}
	}
}

// upgradeHeaders are the headers of a WebSocket handshake, for plain HTTP
// requests that want to read the refusal's body.
func upgradeHeaders() http.Header {
	return http.Header{
		"Connection":            {"Upgrade"},
		"Upgrade":               {"websocket"},
		"Sec-Websocket-Version": {"13"},
		"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
	}
}
