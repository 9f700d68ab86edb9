package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"presence/internal/wstest"
)

// TestRoutes checks the plain HTTP routes of DESIGN.md §4.
func TestRoutes(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	for _, tc := range []struct {
		path   string
		status int
		has    string
	}{
		{"/", 200, `<script src="/public/client.js">`},
		{"/public/client.js", 200, "presence"},
		{"/public/style.css", 200, "body"},
		{"/public/app.js", 200, "presence.connect"},
		{"/public/", 404, ""},
		{"/public/nope.js", 404, ""},
		{"/nope", 404, ""},
		{"/healthz", 200, "ok"},
		{"/readyz", 200, "ready"},
		{"/api/rooms", 200, `"connections":0`},
		{"/metrics", 200, "presence_connections 0"},
		{"/ws", 400, ""}, // a plain GET is not a WebSocket handshake
	} {
		status, body := s.get(t, tc.path, nil)
		if status != tc.status || !strings.Contains(body, tc.has) {
			t.Errorf("GET %s: %d %.80q, want %d containing %q", tc.path, status, body, tc.status, tc.has)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, s.url+"/api/rooms", nil)
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /api/rooms: %d, want 405", res.StatusCode)
	}
}

// TestMetricsHoldActorAndPresenceSeries checks /metrics with actor metrics
// on: protoactor's series (through OpenTelemetry) and ours, on one registry.
func TestMetricsHoldActorAndPresenceSeries(t *testing.T) {
	// Not parallel: actor metrics install a global OpenTelemetry meter provider (actors.NewSystem).
	s := startServer(t, func(c *config) { c.ActorMetrics = true })
	c := s.dial(t, "lobby")
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow([]*wstest.Client{c}, 1) })

	_, body := s.get(t, "/metrics", nil)
	for _, want := range []string{
		"protoactor_actor_spawn_count",
		"protoactor_actor_message_receive_duration_seconds_bucket",
		"presence_connections 1",
		"presence_members 1",
		"presence_rooms 1",
		"presence_joins_total 1",
		"presence_count_frames_sent_total",
		"presence_push_latency_seconds_bucket",
		`presence_leaves_total{reason="ping_timeout"} 0`,
		`presence_upgrade_rejections_total{reason="origin"} 0`,
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "protoactor_actor_mailbox_length") {
		t.Error("/metrics has the mailbox gauge whose per-spawn callback leaks")
	}
	c.CloseNormally()
}
