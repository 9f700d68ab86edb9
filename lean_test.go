package main

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"presence/internal/wstest"
)

// TestIdleMembersHoldNoGoroutines: with 5,000 idle members in one room, the
// server (the real binary, in the poll read mode) runs no more goroutines
// than its worker pool and the constant few it has with no member at all.
// A goroutine per socket would add 5,000. The same check in the goroutine
// fallback, with fewer members, shows the assertion can fail: there every
// member holds one.
//
// This is a resource test, not a speed test: it counts, it does not time.
func TestIdleMembersHoldNoGoroutines(t *testing.T) {
	// Not parallel: 5,000 sockets on each side, of the 20,000 files a process may hold.
	bin := wstest.BuildBinary(t, ".")
	const workers = 8
	cases := []struct {
		mode      string
		members   int
		perMember bool // a goroutine per member is expected
	}{
		{"poll", 5000, false},
		{"goroutine", 500, true},
	}
	if testing.Short() {
		cases[0].members = 1000
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			// A long flush interval: the room forms with few count frames.
			p := wstest.StartBinary(t, bin, "--addr", "127.0.0.1:0", "--log-format", "json", "--flush-interval", "500ms",
				"--max-conns-per-ip", "0", "--read-mode", tc.mode, "--workers", strconv.Itoa(workers))
			s := binaryServer(t, p)
			// With no member: the HTTP server, the actor system, the runtime.
			base := goroutines(t, s)

			clients := make([]*wstest.Client, tc.members)
			errs := make(chan error, tc.members)
			var wg sync.WaitGroup
			const dialers = 32
			for d := range dialers {
				wg.Go(func() {
					for i := d; i < tc.members; i += dialers {
						// A generous timeout: what is measured is goroutines, not
						// how fast a loaded machine answers 5,000 handshakes.
						c, err := wstest.Dial(t, s.wsURL+"/ws?room=lobby", wstest.Options{Timeout: time.Minute})
						if err != nil {
							errs <- fmt.Errorf("dial member %d: %w", i+1, err)
							return
						}
						clients[i] = c
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			wstest.Eventually(t, 60*time.Second, func() (bool, string) {
				conns, rooms := s.roomsAPI(t)
				return conns == tc.members && rooms["lobby"] == tc.members,
					fmt.Sprintf("%d connections, lobby %d; want %d", conns, rooms["lobby"], tc.members)
			})
			// Idle: every member has read the final count, so no flush is
			// under way and the workers have had time to finish.
			wstest.Eventually(t, 60*time.Second, func() (bool, string) { return wstest.AllShow(clients, tc.members) })

			limit := base + workers + 5 // the pool, and a handful for a flush timer or a scrape in flight
			if tc.perMember {
				wstest.Eventually(t, 10*time.Second, func() (bool, string) {
					n := goroutines(t, s)
					return n >= base+tc.members, fmt.Sprintf("%d goroutines (%d with no member)", n, base)
				})
				return
			}
			wstest.Eventually(t, 10*time.Second, func() (bool, string) {
				n := goroutines(t, s)
				return n <= limit, fmt.Sprintf("%d goroutines with %d idle members: more than the %d with none plus %d workers plus 5",
					n, tc.members, base, workers)
			})
			t.Logf("%s: %d goroutines with no member, %d with %d idle members", tc.mode, base, goroutines(t, s), tc.members)
		})
	}
}

// goroutines is the server's go_goroutines gauge.
func goroutines(t *testing.T, s *testServer) int {
	t.Helper()
	v, ok := s.metric(t, "go_goroutines")
	if !ok {
		t.Fatal("no go_goroutines on /metrics")
	}
	return int(v)
}
