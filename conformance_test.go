package main

import (
	"fmt"
	"testing"
	"time"

	"presence/internal/conformance"
	"presence/internal/wstest"
)

// TestConformanceProductionServer runs the RFC 6455 table against the real
// server, which has no echo: a valid text message must be answered (with an
// error event, since no client event is defined) and keep the connection
// open, an invalid one must fail it with the code the RFC names, and pongs
// and closing handshakes must be exactly as in the echo run
// (transport.TestConformance). A member who stays in the room throughout
// must see nobody else's bad frames: it stays connected, its seq never goes
// back, and once every row is done the count is back to 1 (a row whose
// socket the room never let go would leave it above 1).
func TestConformanceProductionServer(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *config) {
		c.RateLimit, c.RateBurst = 1e6, 1_000_000 // several rows send bursts of frames
		c.MaxBadMessages = 1000                   // every valid row is answered with an error event
		c.PingInterval = time.Hour                // no keep-alive pings in the middle of a row
	})
	observer := s.dial(t, "conformance")
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow([]*wstest.Client{observer}, 1) })

	for _, c := range conformance.All() {
		t.Run(c.ID, func(t *testing.T) {
			conformance.Run(t, s.wsURL+"/ws?room=conformance", conformance.Server, c)
		})
	}

	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow([]*wstest.Client{observer}, 1) })
	if !observer.Open() {
		t.Fatal("the observer was disconnected by other members' frames")
	}
	if p := observer.SeqProblem(); p != "" {
		t.Fatalf("the observer saw %s", p)
	}
	// The last row's client sees the TCP connection end a moment before the
	// server forgets the socket, so the open-socket count is waited for.
	wstest.Eventually(t, 10*time.Second, func() (bool, string) {
		conns, rooms := s.roomsAPI(t)
		return conns == 1 && rooms["conformance"] == 1, fmt.Sprintf("/api/rooms: %d connections, rooms %v; want only the observer", conns, rooms)
	})
}
