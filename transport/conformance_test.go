package transport

import (
	"testing"

	"presence/internal/conformance"
)

// TestConformance runs the RFC 6455 table (groups 1–7 of the Autobahn
// suite, by case ID, plus the size limit) against the real read loop with an
// echo handler: every valid message comes back intact, every violation fails
// the connection with the code the RFC names, and the server always finishes
// the closing handshake and ends the TCP connection.
func TestConformance(t *testing.T) {
	t.Parallel()
	s := startEchoServer(t, conformanceConfig())
	cases := conformance.All()
	if len(cases) < 150 {
		t.Fatalf("the table has %d rows, want at least 150", len(cases))
	}
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			conformance.Run(t, s.url, conformance.Echo, c)
		})
	}
	t.Logf("%d rows", len(cases))
}
