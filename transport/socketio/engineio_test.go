package socketio

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"presence/internal/leave"
	"presence/internal/wstest"
	"presence/transport"
)

// The Engine.IO v4 rows, each with the answer the protocol's specification
// gives (github.com/socketio/engine.io-protocol, "Transports", "Protocol").

// TestEngineIORefusals: requests the protocol refuses before any session,
// each with its status and error code.
func TestEngineIORefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	rows := []struct {
		name, method, query string
		status, code        int
	}{
		{"no EIO", "GET", "transport=polling", 400, errUnsupported},
		{"EIO not a number", "GET", "EIO=abc&transport=polling", 400, errUnsupported},
		{"EIO=3 (Socket.IO v2)", "GET", "EIO=3&transport=polling", 400, errUnsupported},
		{"no transport", "GET", "EIO=4", 400, errTransportUnknown},
		{"unknown transport", "GET", "EIO=4&transport=abc", 400, errTransportUnknown},
		{"handshake by POST", "POST", "EIO=4&transport=polling", 400, errBadHandshake},
		{"handshake by PUT", "PUT", "EIO=4&transport=polling", 400, errBadHandshake},
		{"unknown sid, GET", "GET", "EIO=4&transport=polling&sid=nope", 400, errSessionUnknown},
		{"unknown sid, POST", "POST", "EIO=4&transport=polling&sid=nope", 400, errSessionUnknown},
		{"unknown sid, WebSocket", "GET", "EIO=4&transport=websocket&sid=nope", 400, errSessionUnknown},
		{"transport=websocket without a WebSocket handshake", "GET", "EIO=4&transport=websocket", 400, errBadRequest},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := wstest.EIORequest(t, row.method, h.eio(row.query), "", nil, within)
			e, ok := r.Error()
			if r.Status != row.status || !ok || e.Code != row.code || row.code != errBadRequest && e.Message != errorMessages[row.code] {
				t.Fatalf("%d %q, want %d and {\"code\":%d,\"message\":%q}", r.Status, r.Body, row.status, row.code, errorMessages[row.code])
			}
		})
	}
	t.Run("WebSocket handshake with EIO=3", func(t *testing.T) {
		_, err := wstest.Dial(t, h.ws("EIO=3&transport=websocket"), wstest.Options{})
		if !isStatus(err, 400) {
			t.Fatalf("dial: %v, want 400", err)
		}
	})
	if n := h.srv.Sessions(); n != 0 {
		t.Fatalf("%d sessions opened by refused requests", n)
	}
}

func isStatus(err error, status int) bool {
	var se ws.StatusError
	return errors.As(err, &se) && int(se) == status
}

// TestEngineIOHandshake: the open packet carries our settings, with the
// upgrade offered to long-polling and not to a WebSocket.
func TestEngineIOHandshake(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	cfg := testConfig()
	want := wstest.EIOOpen{Upgrades: []string{"websocket"}, PingInterval: int(cfg.PingInterval.Milliseconds()),
		PingTimeout: int(cfg.PongTimeout.Milliseconds()), MaxPayload: int(cfg.MaxMessageSize)}

	p := wstest.OpenPolling(t, h.url, "")
	got := p.Open
	got.SID = ""
	if !equalOpen(got, want) {
		t.Fatalf("polling open %+v, want %+v", got, want)
	}
	c := h.dialWS(h.ws("EIO=4&transport=websocket"))
	o := decodeOpen(t, awaitText(t, c, 1)[0])
	o.SID = ""
	want.Upgrades = []string{}
	if !equalOpen(o, want) {
		t.Fatalf("websocket open %+v, want %+v", o, want)
	}
	if h.srv.Sessions() != 2 || h.edge.Connections() != 2 {
		t.Fatalf("%d sessions, %d connections; want 2 and 2", h.srv.Sessions(), h.edge.Connections())
	}
}

func equalOpen(a, b wstest.EIOOpen) bool {
	return a.SID == b.SID && slices.Equal(a.Upgrades, b.Upgrades) && a.PingInterval == b.PingInterval &&
		a.PingTimeout == b.PingTimeout && a.MaxPayload == b.MaxPayload
}

// TestEngineIOHeartbeat: the server pings every ping interval and the
// client's pongs keep the session; without one the session ends (and its
// member leaves, ping_timeout), on either transport.
func TestEngineIOHeartbeat(t *testing.T) {
	t.Parallel()
	h := newHarness(t, shortPings)
	t.Run("polling, three pings answered", func(t *testing.T) {
		p := wstest.OpenPolling(t, h.url, "")
		for i := range 3 {
			if r := p.Get(within); r.Status != 200 || r.Body != "2" {
				t.Fatalf("poll %d: %d %q, want a ping", i, r.Status, r.Body)
			}
			if r := p.Post("3"); r.Status != 200 || r.Body != "ok" {
				t.Fatalf("pong %d: %d %q, want ok", i, r.Status, r.Body)
			}
		}
	})
	t.Run("polling, no pong", func(t *testing.T) {
		p := wstest.OpenPolling(t, h.url, "")
		p.Post("40")
		m := h.memberOf(t, p.Open.SID)
		if err := m.ended(t); leave.Of(err) != leave.PingTimeout {
			t.Fatalf("ended with %v, want ping_timeout", err)
		}
		if r := p.Get(within); r.Status != 400 {
			t.Fatalf("poll after the timeout: %d %q, want 400", r.Status, r.Body)
		}
	})
	t.Run("websocket, three pings answered", func(t *testing.T) {
		c := h.dialWS(h.ws("EIO=4&transport=websocket"))
		for i := range 3 {
			if got := awaitText(t, c, 2+i)[1+i]; got != "2" {
				t.Fatalf("message %d: %q, want a ping", i, got)
			}
			_ = c.SendText("3")
		}
		if !c.Open() {
			t.Fatal("closed although it answered every ping")
		}
	})
	t.Run("websocket, no pong", func(t *testing.T) {
		c, m := h.joinWS(t)
		if err := m.ended(t); leave.Of(err) != leave.PingTimeout {
			t.Fatalf("ended with %v, want ping_timeout", err)
		}
		awaitEnd(t, c)
	})
}

// TestEngineIOClose: the client's close packet ends the session; a pending
// poll returns with a noop, later requests are 400.
func TestEngineIOClose(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	t.Run("polling", func(t *testing.T) {
		p := wstest.OpenPolling(t, h.url, "")
		pending, _ := p.GetAsync(within)
		awaitPending(t, h, p.Open.SID)
		if r := p.Post("1"); r.Status != 200 || r.Body != "ok" {
			t.Fatalf("close: %d %q, want ok", r.Status, r.Body)
		}
		if r := <-pending; r.Status != 200 || r.Body != "6" {
			t.Fatalf("pending poll: %d %q, want a noop", r.Status, r.Body)
		}
		if r := p.Get(within); r.Status != 400 {
			t.Fatalf("poll after close: %d %q, want 400", r.Status, r.Body)
		}
	})
	t.Run("websocket", func(t *testing.T) {
		c := h.dialWS(h.ws("EIO=4&transport=websocket"))
		awaitText(t, c, 1)
		_ = c.SendText("1")
		if code := awaitEnd(t, c); code != 1000 {
			t.Fatalf("close %d, want 1000", code)
		}
	})
}

// awaitPending waits until the session has a GET pending.
func awaitPending(t *testing.T, h *harness, sid string) {
	t.Helper()
	wstest.Eventually(t, within, func() (bool, string) {
		s := h.srv.lookup(sid)
		if s == nil {
			return false, "no session"
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.getting, "no poll pending"
	})
}

// TestEngineIOConcurrentRequests: a second GET (or POST) while one is
// pending is 400 and ends the session; the pending poll gets the close
// packet. A poll the client cancels ends the session too (eof).
func TestEngineIOConcurrentRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	t.Run("duplicate GET", func(t *testing.T) {
		p := wstest.OpenPolling(t, h.url, "")
		pending, _ := p.GetAsync(within)
		awaitPending(t, h, p.Open.SID)
		if r := p.Get(within); r.Status != 400 {
			t.Fatalf("second GET: %d %q, want 400", r.Status, r.Body)
		}
		if r := <-pending; r.Status != 200 || r.Body != "1" {
			t.Fatalf("first GET: %d %q, want the close packet", r.Status, r.Body)
		}
		if r := p.Get(within); r.Status != 400 {
			t.Fatalf("GET after: %d %q, want 400", r.Status, r.Body)
		}
	})
	t.Run("duplicate POST", func(t *testing.T) {
		p := wstest.OpenPolling(t, h.url, "")
		// A POST whose body is still on its way holds the session's POST.
		nc, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		u := strings.TrimPrefix(p.URL(), h.url)
		fmt.Fprintf(nc, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n40", u)
		wstest.Eventually(t, within, func() (bool, string) {
			s := h.srv.lookup(p.Open.SID)
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.posting, "first POST not under way"
		})
		if r := p.Post("3"); r.Status != 400 {
			t.Fatalf("second POST: %d %q, want 400", r.Status, r.Body)
		}
		if r := p.Get(within); r.Status != 400 {
			t.Fatalf("GET after: %d %q, want 400", r.Status, r.Body)
		}
	})
	t.Run("cancelled poll", func(t *testing.T) {
		p := wstest.OpenPolling(t, h.url, "")
		p.Post("40")
		m := h.memberOf(t, p.Open.SID)
		p.Await(within, "the connect ack and a count", func(pkts []string) bool { return len(pkts) >= 1 })
		pending, cancel := p.GetAsync(within)
		awaitPending(t, h, p.Open.SID)
		cancel()
		<-pending
		if err := m.ended(t); leave.Of(err) != leave.EOF {
			t.Fatalf("ended with %v, want eof", err)
		}
	})
}

// TestEngineIOInvalidPayloads: a body that is not a payload of known text
// packets is 400 and ends the session; one over maxPayload is 413.
func TestEngineIOInvalidPayloads(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	rows := []struct {
		name, body string
		status     int
		reason     leave.Reason
	}{
		{"not a packet", "abc", 400, leave.ProtocolError},
		{"unknown packet type", "7", 400, leave.ProtocolError},
		{"empty packet between two", "3\x1e\x1e3", 400, leave.ProtocolError},
		{"binary packet", "bAQIDBA==", 400, leave.Policy},
		{"open from the client", "0", 400, leave.ProtocolError},
		{"upgrade on polling", "5", 400, leave.ProtocolError},
		{"not UTF-8", "4\xff", 400, leave.ProtocolError},
		{"over maxPayload", "4" + strings.Repeat("x", int(testConfig().MaxMessageSize)), 413, leave.Policy},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			p := wstest.OpenPolling(t, h.url, "")
			p.Post("40")
			m := h.memberOf(t, p.Open.SID)
			r := p.Post(row.body)
			if r.Status != row.status {
				t.Fatalf("%d %q, want %d", r.Status, r.Body, row.status)
			}
			if _, ok := r.Error(); !ok {
				t.Fatalf("body %q is not an Engine.IO error", r.Body)
			}
			if err := m.ended(t); leave.Of(err) != row.reason {
				t.Fatalf("ended with %v, want %s", err, row.reason)
			}
			if r := p.Get(within); r.Status != 400 {
				t.Fatalf("GET after: %d %q, want 400", r.Status, r.Body)
			}
		})
	}
	t.Run("websocket: unknown packet type", func(t *testing.T) {
		c := h.dialWS(h.ws("EIO=4&transport=websocket"))
		awaitText(t, c, 1)
		_ = c.SendText("abc")
		if code := awaitEnd(t, c); code != 1002 {
			t.Fatalf("close %d, want 1002", code)
		}
	})
	t.Run("websocket: message over maxPayload", func(t *testing.T) {
		c := h.dialWS(h.ws("EIO=4&transport=websocket"))
		awaitText(t, c, 1)
		_ = c.SendText("4" + strings.Repeat("x", int(testConfig().MaxMessageSize)))
		if code := awaitEnd(t, c); code != 1009 {
			t.Fatalf("close %d, want 1009", code)
		}
	})
	t.Run("websocket: binary message", func(t *testing.T) {
		c := h.dialWS(h.ws("EIO=4&transport=websocket"))
		awaitText(t, c, 1)
		_ = c.WriteFrame(ws.OpBinary, []byte{1, 2, 3})
		if code := awaitEnd(t, c); code != 1003 {
			t.Fatalf("close %d, want 1003", code)
		}
	})
}

// TestEngineIORateLimit: packets posted faster than the rate limit end the
// session (policy), as messages on a WebSocket are closed 1008.
func TestEngineIORateLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *transport.Config) { c.RateLimit, c.RateBurst = 1, 3 })
	p := wstest.OpenPolling(t, h.url, "")
	p.Post("40")
	m := h.memberOf(t, p.Open.SID)
	if r := p.Post("6", "6", "6", "6"); r.Status != 400 {
		t.Fatalf("%d %q, want 400", r.Status, r.Body)
	}
	if err := m.ended(t); leave.Of(err) != leave.Policy {
		t.Fatalf("ended with %v, want policy", err)
	}
}

// TestEngineIOUpgrade: polling, then the WebSocket probe ("2probe" →
// "3probe", the pending poll gets a noop), then "5": the session carries
// on over the WebSocket with the same member, and polls are refused.
func TestEngineIOUpgrade(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	p := wstest.OpenPolling(t, h.url, "&room=up")
	p.Post("40")
	m := h.memberOf(t, p.Open.SID)
	p.Await(within, "the connect ack", func(pkts []string) bool { return len(pkts) > 0 && strings.HasPrefix(pkts[0], "40{") })

	pending, _ := p.GetAsync(within)
	awaitPending(t, h, p.Open.SID)
	c := h.dialWS(p.WSURL())
	_ = c.SendText("2probe")
	if got := awaitText(t, c, 1)[0]; got != "3probe" {
		t.Fatalf("probe answered %q, want 3probe", got)
	}
	if r := <-pending; r.Status != 200 || r.Body != "6" {
		t.Fatalf("pending poll: %d %q, want a noop", r.Status, r.Body)
	}
	// A count written while the upgrade is under way waits, then goes out
	// on the WebSocket.
	if err := m.s.WriteMessage(count{"up", 1, 7}); err != nil {
		t.Fatal(err)
	}
	_ = c.SendText("5")
	if got := awaitText(t, c, 2)[1]; got != `42["user count",1,{"room":"up","seq":7}]` {
		t.Fatalf("after the upgrade: %q, want the count", got)
	}
	if err := m.s.WriteMessage(count{"up", 2, 8}); err != nil {
		t.Fatal(err)
	}
	if got := awaitText(t, c, 3)[2]; got != `42["user count",2,{"room":"up","seq":8}]` {
		t.Fatalf("on the WebSocket: %q, want the next count", got)
	}

	for _, r := range []wstest.Response{p.Get(within), p.Post("3")} {
		if r.Status != 400 {
			t.Fatalf("polling after the upgrade: %d %q, want 400", r.Status, r.Body)
		}
	}
	if second := h.dialWS(p.WSURL()); awaitEnd(t, second) != 1008 {
		t.Fatalf("a second WebSocket for the session: close %d, want 1008", second.CloseCode())
	}
	if h.joined() != 1 || !c.Open() {
		t.Fatalf("%d members, WebSocket open %v: want one member, still open", h.joined(), c.Open())
	}
	_ = c.SendText("41")
	if err := m.ended(t); leave.Of(err) != leave.CloseFrame {
		t.Fatalf("ended with %v, want close_frame", err)
	}
}

// TestEngineIOFailedProbe: a probe that says anything but "2probe" is closed
// 1002 and the session carries on polling.
func TestEngineIOFailedProbe(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	p := wstest.OpenPolling(t, h.url, "")
	c := h.dialWS(p.WSURL())
	_ = c.SendText("4hello")
	if code := awaitEnd(t, c); code != 1002 {
		t.Fatalf("probe closed %d, want 1002", code)
	}
	p.Post("40")
	if r := p.Get(within); r.Status != 200 || !strings.HasPrefix(r.Body, "40{") {
		t.Fatalf("poll after the failed probe: %d %q, want the connect ack", r.Status, r.Body)
	}
}

// TestEngineIOLatestWins: counts written to a session nobody polls do not
// pile up: the next poll gets only the newest, after the packets queued
// before it.
func TestEngineIOLatestWins(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	p := wstest.OpenPolling(t, h.url, "")
	p.Post("40")
	m := h.memberOf(t, p.Open.SID)
	for i := range 100 {
		if err := m.s.WriteMessage(count{"lobby", i, uint64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	r := p.Get(within)
	pkts := r.Packets()
	if r.Status != 200 || len(pkts) != 2 || !strings.HasPrefix(pkts[0], "40{") || pkts[1] != `42["user count",99,{"room":"lobby","seq":100}]` {
		t.Fatalf("%d %q, want the connect ack and the newest count only", r.Status, pkts)
	}
}

// TestEngineIOServerClose: a close the server starts sends Engine.IO's close
// packet (after Socket.IO's DISCONNECT when the client broke a rule), then
// the session ends.
func TestEngineIOServerClose(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, row := range []struct {
		code uint16
		want string
	}{{1001, "1"}, {1008, "41\x1e1"}} {
		t.Run(fmt.Sprint("polling ", row.code), func(t *testing.T) {
			p := wstest.OpenPolling(t, h.url, "")
			p.Post("40")
			m := h.memberOf(t, p.Open.SID)
			p.Await(within, "the connect ack", func(pkts []string) bool { return len(pkts) > 0 })
			m.s.Close(row.code, "bye")
			if r := p.Get(within); r.Status != 200 || r.Body != row.want {
				t.Fatalf("poll: %d %q, want %q", r.Status, r.Body, row.want)
			}
			if err := m.ended(t); leave.Of(err) != leave.ServerClose {
				t.Fatalf("ended with %v, want server_close", err)
			}
		})
		t.Run(fmt.Sprint("websocket ", row.code), func(t *testing.T) {
			c, m := h.joinWS(t)
			m.s.Close(row.code, "bye")
			if code := awaitEnd(t, c); code != int(row.code) {
				t.Fatalf("close %d, want %d", code, row.code)
			}
			got := texts(c)[2:]
			if want := strings.Split(row.want, "\x1e"); !slices.Equal(got, want) {
				t.Fatalf("last messages %q, want %q", got, want)
			}
		})
	}
	t.Run("polling, never polled again", func(t *testing.T) {
		p := wstest.OpenPolling(t, h.url, "")
		p.Post("40")
		m := h.memberOf(t, p.Open.SID)
		start := time.Now()
		m.s.Close(1001, "bye")
		if err := m.ended(t); leave.Of(err) != leave.ServerClose || time.Since(start) < testConfig().CloseTimeout/2 {
			t.Fatalf("ended with %v after %s, want server_close after the close timeout", err, time.Since(start))
		}
	})
}

// TestEngineIOShutdown: Shutdown sends every session the close packet and
// returns once all have ended; new handshakes are refused.
func TestEngineIOShutdown(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	p := wstest.OpenPolling(t, h.url, "")
	pending, _ := p.GetAsync(within)
	awaitPending(t, h, p.Open.SID)
	c := h.dialWS(h.ws("EIO=4&transport=websocket"))
	awaitText(t, c, 1)

	h.edge.Drain()
	done := make(chan error, 1)
	go func() { done <- h.srv.Shutdown(t.Context()) }()
	if r := <-pending; r.Body != "1" {
		t.Fatalf("pending poll: %d %q, want the close packet", r.Status, r.Body)
	}
	if code := awaitEnd(t, c); code != 1001 || texts(c)[len(texts(c))-1] != "1" {
		t.Fatalf("websocket: close %d after %q, want the close packet and 1001", code, texts(c))
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(within):
		t.Fatal("Shutdown did not return")
	}
	r := wstest.EIORequest(t, http.MethodGet, h.eio("EIO=4&transport=polling"), "", nil, within)
	if e, _ := r.Error(); r.Status != 503 || e.Code != errForbidden {
		t.Fatalf("handshake during shutdown: %d %q, want 503 with code 4", r.Status, r.Body)
	}
}
