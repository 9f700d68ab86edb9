package main

import (
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"presence/internal/wstest"
)

// TestNetworkEveryKindOfLeave puts 550 real WebSocket clients, from three
// loopback addresses, in five rooms; then in every room some leave with a
// close frame, some vanish with a TCP reset, and some go silent (stop
// answering pings). Every remaining client must converge on the exact count,
// and /api/rooms and the connections gauge must agree with the truth.
func TestNetworkEveryKindOfLeave(t *testing.T) {
	// Not parallel: 550 live clients must each answer every ping in time.
	// The pong timeout leaves them seconds for it, so that a loaded machine
	// (race detector, other test processes) does not drop a live client;
	// the silent ones are still found within ping + pong = 5 s.
	const ping, pong = time.Second, 4 * time.Second
	s := startServer(t, func(c *config) {
		c.PingInterval = ping
		c.PongTimeout = pong
	})
	rooms := []string{"lobby", "alpha", "beta", "gamma", "delta"}
	const perRoom, closers, resetters, silent = 110, 20, 20, 10

	members := map[string][]*wstest.Client{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for r, room := range rooms {
		for i := range perRoom {
			wg.Go(func() {
				c, err := s.tryDial(t, room, wstest.Options{Local: fmt.Sprintf("127.0.0.%d", 1+(r*perRoom+i)%3)})
				if err != nil {
					t.Errorf("dial %s: %v", room, err) // not Fatal: this is not the test's goroutine
					return
				}
				mu.Lock()
				members[room] = append(members[room], c)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, room := range rooms {
		wstest.Eventually(t, 20*time.Second, func() (bool, string) { return wstest.AllShow(members[room], perRoom) })
	}

	// First the ones that leave at once: close frames and TCP resets.
	start := time.Now()
	var gone []*wstest.Client
	for _, room := range rooms {
		cs := members[room]
		for _, c := range cs[:closers] {
			wg.Go(c.CloseNormally)
		}
		for _, c := range cs[closers : closers+resetters] {
			wg.Go(c.Reset)
		}
		gone = append(gone, cs[:closers+resetters]...)
		members[room] = cs[closers+resetters:]
	}
	wg.Wait()
	want := perRoom - closers - resetters
	for _, room := range rooms {
		wstest.Eventually(t, 20*time.Second, func() (bool, string) { return wstest.AllShow(members[room], want) })
	}
	t.Logf("%d clients saw the exact count %s after %d closed or reset",
		len(rooms)*perRoom-len(gone), time.Since(start).Round(time.Millisecond), len(gone))

	// Then the ones that go silent: the server finds out from missing pongs.
	start = time.Now()
	for _, room := range rooms {
		for _, c := range members[room][:silent] {
			c.GoSilent()
			gone = append(gone, c)
		}
		members[room] = members[room][silent:]
	}
	want -= silent
	for _, room := range rooms {
		wstest.Eventually(t, 20*time.Second, func() (bool, string) { return wstest.AllShow(members[room], want) })
	}
	t.Logf("%d clients saw the exact count %s after %d went silent (ping %s + pong %s)",
		len(rooms)*want, time.Since(start).Round(time.Millisecond), len(rooms)*silent, ping, pong)

	wstest.Eventually(t, 10*time.Second, func() (bool, string) {
		conns, counts := s.roomsAPI(t)
		if conns != len(rooms)*want {
			return false, fmt.Sprintf("/api/rooms connections %d, want %d", conns, len(rooms)*want)
		}
		for _, room := range rooms {
			if counts[room] != want {
				return false, fmt.Sprintf("/api/rooms %s = %d, want %d", room, counts[room], want)
			}
		}
		gauge, _ := s.metric(t, "presence_connections")
		return gauge == float64(len(rooms)*want), fmt.Sprintf("presence_connections %v, want %d", gauge, len(rooms)*want)
	})
	for _, c := range gone {
		if c.Open() {
			t.Fatal("a client that left (or went silent) is still connected")
		}
	}
	for reason, min := range map[string]int{"close_frame": len(rooms) * closers, "eof": len(rooms) * resetters, "ping_timeout": len(rooms) * silent} {
		v, _ := s.metric(t, fmt.Sprintf(`presence_leaves_total{reason="%s"}`, reason))
		if int(v) != min {
			t.Errorf("presence_leaves_total{reason=%q} = %v, want %d", reason, v, min)
		}
	}
	for _, room := range rooms {
		for _, c := range members[room] {
			if p := c.SeqProblem(); p != "" {
				t.Fatalf("a client in %s saw %s", room, p)
			}
		}
	}
}

// TestSeedLessonCheck is the seed lesson's own test: the client script
// listens for 'user count'.
func TestSeedLessonCheck(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	status, body := s.get(t, "/public/client.js", nil)
	if status != 200 {
		t.Fatalf("GET /public/client.js: %d", status)
	}
	if !regexp.MustCompile(`(?s)socket.on.*('|")user count('|")`).MatchString(body) {
		t.Fatal("client.js does not match /socket.on.*('|\")user count('|\")/s")
	}
}
