package socketio

import (
	"net/http"
	"testing"

	"presence/internal/wstest"
	"presence/transport"
)

// The /ws rules that Socket.IO sessions share: the browser origin, CORS
// for the origins allowed, and the per-address limit.

// TestEngineIOOrigins: a cross-site browser origin is refused (403, code 4)
// on a handshake, a poll and a WebSocket, before any session or upgrade;
// an allowed one gets CORS headers with credentials, and its preflight is
// answered; a request without an Origin (not a browser) is allowed.
func TestEngineIOOrigins(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *transport.Config) { c.AllowedOrigins = []string{"https://app.example"} })
	evil := http.Header{"Origin": {"https://evil.example"}}
	good := http.Header{"Origin": {"https://app.example"}}

	r := wstest.EIORequest(t, http.MethodGet, h.eio("EIO=4&transport=polling"), "", evil, within)
	if e, ok := r.Error(); r.Status != 403 || !ok || e.Code != errForbidden {
		t.Fatalf("cross-site handshake: %d %q, want 403 with code 4", r.Status, r.Body)
	}
	if _, err := wstest.Dial(t, h.ws("EIO=4&transport=websocket"), wstest.Options{Header: evil}); !isStatus(err, 403) {
		t.Fatalf("cross-site WebSocket: %v, want 403 before the upgrade", err)
	}
	p := wstest.OpenPolling(t, h.url, "")
	if r := wstest.EIORequest(t, http.MethodPost, p.URL(), "40", evil, within); r.Status != 403 {
		t.Fatalf("cross-site POST to a session: %d %q, want 403", r.Status, r.Body)
	}
	if _, err := wstest.Dial(t, p.WSURL(), wstest.Options{Header: evil}); !isStatus(err, 403) {
		t.Fatalf("cross-site upgrade of a session: %v, want 403", err)
	}
	if n := h.srv.Sessions(); n != 1 {
		t.Fatalf("%d sessions, want only the one without an Origin", n)
	}

	r = wstest.EIORequest(t, http.MethodGet, h.eio("EIO=4&transport=polling"), "", good, within)
	if r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || r.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("allowed origin: %d, headers %v; want 200 with CORS and credentials", r.Status, r.Header)
	}
	preflight := http.Header{"Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"content-type"}}
	for k, v := range good {
		preflight[k] = v
	}
	r = wstest.EIORequest(t, http.MethodOptions, h.eio("EIO=4&transport=polling"), "", preflight, within)
	if r.Status != 204 || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		r.Header.Get("Access-Control-Allow-Methods") != "GET, POST" || r.Header.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Fatalf("allowed preflight: %d, headers %v", r.Status, r.Header)
	}
	preflight["Origin"] = evil["Origin"]
	r = wstest.EIORequest(t, http.MethodOptions, h.eio("EIO=4&transport=polling"), "", preflight, within)
	if r.Status != 403 || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("cross-site preflight: %d, headers %v; want 403 without CORS", r.Status, r.Header)
	}
}

// TestEngineIOPerAddressLimit: sessions count against --max-conns-per-ip
// like /ws sockets, whatever their transport, and a session's upgrade
// takes no second place; one that ends gives its place back.
func TestEngineIOPerAddressLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *transport.Config) { c.MaxConnsPerIP = 2 })
	p := wstest.OpenPolling(t, h.url, "")
	c := h.dialWS(h.ws("EIO=4&transport=websocket"))
	awaitText(t, c, 1)

	r := wstest.EIORequest(t, http.MethodGet, h.eio("EIO=4&transport=polling"), "", nil, within)
	if e, _ := r.Error(); r.Status != 429 || e.Code != errForbidden {
		t.Fatalf("third session: %d %q, want 429 with code 4", r.Status, r.Body)
	}
	if _, err := wstest.Dial(t, h.ws("EIO=4&transport=websocket"), wstest.Options{}); !isStatus(err, 429) {
		t.Fatalf("third session on a WebSocket: %v, want 429", err)
	}
	probe := h.dialWS(p.WSURL()) // the upgrade of an admitted session
	_ = probe.SendText("2probe")
	if got := awaitText(t, probe, 1)[0]; got != "3probe" {
		t.Fatalf("probe: %q", got)
	}
	if h.edge.Connections() != 2 {
		t.Fatalf("%d connections, want 2", h.edge.Connections())
	}
	_ = c.SendText("1")
	awaitEnd(t, c)
	wstest.Eventually(t, within, func() (bool, string) { return h.edge.Connections() == 1, "the closed session still counts" })
	wstest.OpenPolling(t, h.url, "")
}
