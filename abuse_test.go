package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"presence/internal/wstest"
)

// stream writes chunk after chunk to c until n bytes are out or a write
// fails: an attacker that keeps sending whatever the server says.
func stream(c *wstest.Client, chunks func(i int) []byte, n int) (sent int) {
	for i := 0; sent < n; i++ {
		b := chunks(i)
		if c.Write(b) != nil {
			return sent
		}
		sent += len(b)
	}
	return sent
}

// TestAbuseOversizeMessagesKeepMemoryBounded sends the messages that make
// naive servers allocate what the peer declares (CVE-2020-27813,
// gobwas/ws#223) or pin memory fragment by fragment (CVE-2026-48779): each
// sender is closed with 1009, the server's heap does not grow by anything
// like the message, and the members already in the room notice nothing.
func TestAbuseOversizeMessagesKeepMemoryBounded(t *testing.T) {
	// Not parallel: it measures the process's heap.
	s := startServer(t, nil) // the default 4 KiB message limit
	var observers []*wstest.Client
	for range 3 {
		observers = append(observers, s.dial(t, "lobby"))
	}
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(observers, 3) })

	const tenMiB = 10 << 20
	body := make([]byte, 64<<10) // streamed again and again: the sender holds 64 KiB, not 10 MiB
	kib := wstest.Frame(false, 0, ws.OpContinuation, make([]byte, 1024))
	var fragments bytes.Buffer
	fragments.Write(wstest.Frame(false, 0, ws.OpText, []byte("x")))
	for range 100_000 - 1 {
		fragments.Write(wstest.Frame(false, 0, ws.OpContinuation, []byte("x"))) // no FIN, ever
	}
	huge := append([]byte{0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 1, 2, 3, 4)

	attacks := []struct {
		name string
		send func(c *wstest.Client) int
	}{
		{"declared length 2^63-1", func(c *wstest.Client) int {
			_ = c.Write(huge)
			return len(huge)
		}},
		{"10 MiB in one frame", func(c *wstest.Client) int {
			h := wstest.FrameHeader(true, 0, ws.OpText, tenMiB)
			return stream(c, func(i int) []byte {
				if i == 0 {
					return h
				}
				return body
			}, tenMiB+len(h))
		}},
		{"10 MiB in 1 KiB fragments", func(c *wstest.Client) int {
			first := wstest.Frame(false, 0, ws.OpText, make([]byte, 1024))
			return stream(c, func(i int) []byte {
				if i == 0 {
					return first
				}
				return kib
			}, tenMiB)
		}},
		{"100,000 one-byte fragments without FIN", func(c *wstest.Client) int {
			_ = c.Write(fragments.Bytes())
			return fragments.Len()
		}},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			c := s.dial(t, "lobby")
			wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(append(observers, c), 4) })
			c.GoSilent() // an attacker ignores the close frame and keeps sending

			before := readHeap()
			peak := heapPeak()
			sent := make(chan int, 1)
			go func() { sent <- a.send(c) }()
			if !c.WaitDone(20 * time.Second) {
				t.Fatal("the sender was not disconnected")
			}
			n := <-sent
			top := peak()
			after := readHeap()

			if code := c.CloseCode(); code != ws.StatusMessageTooBig {
				t.Errorf("the sender got close %d, want 1009", code)
			}
			allocated := after.total - before.total
			t.Logf("sent %s; process allocated %s while it lasted; heap in use peaked %s above the start; live heap after GC %s",
				mib(uint64(n)), mib(allocated), mibDelta(top, before.inuse), mibDelta(after.live, before.live))
			// Generous bounds, far below the message: the server reads at most
			// MaxMessageSize plus a 1 MiB drain, through fixed-size buffers.
			if allocated > 4<<20 {
				t.Errorf("the process allocated %s during the attack; want under 4 MiB", mib(allocated))
			}
			if top > before.inuse+8<<20 {
				t.Errorf("heap in use peaked at %s, %s above the start; want under 8 MiB above", mib(top), mibDelta(top, before.inuse))
			}
			if after.live > before.live+1<<20 {
				t.Errorf("live heap grew by %s and stayed; want under 1 MiB", mibDelta(after.live, before.live))
			}
			wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(observers, 3) })
		})
	}
	for i, o := range observers {
		if !o.Open() || o.SeqProblem() != "" {
			t.Fatalf("observer %d: open=%v, %s", i, o.Open(), o.SeqProblem())
		}
	}
}

// TestAbuseFloodsAreClosedWith1008 floods from five clients at once, with
// text messages and with pings (control frames count against the same
// limit): each flooder is closed with 1008, and the members in the room stay
// connected and keep getting exact counts.
func TestAbuseFloodsAreClosedWith1008(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *config) { c.MaxBadMessages = 1_000_000 })
	var observers []*wstest.Client
	for range 3 {
		observers = append(observers, s.dial(t, "lobby"))
	}
	var flooders []*wstest.Client
	for range 5 {
		flooders = append(flooders, s.dial(t, "lobby"))
	}
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(append(observers, flooders...), 8) })

	msg := wstest.Frame(true, 0, ws.OpText, []byte(`{"event":"spam"}`))
	ping := wstest.Frame(true, 0, ws.OpPing, []byte("are you there"))
	var wg sync.WaitGroup
	for i, f := range flooders {
		frame := [][]byte{msg, ping}[i%2]
		wg.Go(func() {
			for range 5000 {
				if f.CloseCode() != 0 || f.Write(frame) != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for i, f := range flooders {
		if !f.WaitDone(10 * time.Second) {
			t.Fatalf("flooder %d was not disconnected", i)
		}
		if code := f.CloseCode(); code != ws.StatusPolicyViolation {
			t.Fatalf("flooder %d got close %d, want 1008", i, code)
		}
	}
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(observers, 3) })
	late := s.dial(t, "lobby")
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(append(observers, late), 4) })
	for i, o := range observers {
		if !o.Open() || o.SeqProblem() != "" {
			t.Fatalf("observer %d: open=%v, %s", i, o.Open(), o.SeqProblem())
		}
	}
}

// TestAbuseSlowlorisHandshake trickles the upgrade request a byte at a time
// from many connections: each is dropped at the handshake timeout, a normal
// client still gets in meanwhile, and the server is left holding no
// goroutine or file for any of them.
func TestAbuseSlowlorisHandshake(t *testing.T) {
	// Not parallel: it counts the process's goroutines and open files.
	const handshake = time.Second
	s := startServer(t, func(c *config) { c.HandshakeTimeout = handshake })
	observer := s.dial(t, "lobby")
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow([]*wstest.Client{observer}, 1) })
	base := currentResources(t)

	addr := s.url[len("http://"):]
	request := "GET /ws?room=lobby HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	const attackers = 50
	dropped := make(chan time.Duration, attackers)
	var wg sync.WaitGroup
	for i := range attackers {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		stop := make(chan struct{})
		wg.Go(func() { // one byte every 100 ms: the whole request would take ~15 s
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for j := 0; j < len(request); j++ {
				if _, err := nc.Write([]byte{request[j]}); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
			t.Errorf("attacker %d sent its whole request before being dropped", i)
		})
		wg.Go(func() {
			defer nc.Close()
			defer close(stop)
			_ = nc.SetReadDeadline(time.Now().Add(30 * time.Second))
			buf := make([]byte, 512)
			for {
				if _, err := nc.Read(buf); err != nil { // EOF (or a 408) when the server gives up
					dropped <- time.Since(start)
					return
				}
			}
		})
	}

	// Meanwhile a normal client connects and joins.
	c := s.dial(t, "lobby")
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow([]*wstest.Client{observer, c}, 2) })

	wg.Wait()
	close(dropped)
	var longest time.Duration
	for d := range dropped {
		longest = max(longest, d)
	}
	t.Logf("%d trickling handshakes, all dropped; the last after %s (handshake timeout %s)", attackers, longest.Round(time.Millisecond), handshake)
	if longest > handshake+2*time.Second {
		t.Errorf("a trickling handshake was held for %s; the handshake timeout is %s", longest, handshake)
	}
	c.CloseNormally()
	backToBaseline(t, base, 20*time.Second)
}

// TestAbuseClientThatNeverReads: a client with a tiny receive buffer keeps
// sending but never reads, so its TCP window fills and the server's writes
// to it block. It is dropped when a write misses the write deadline
// (write_timeout, a slow-consumer drop), the room never waits for it, and
// nothing of it is left behind.
func TestAbuseClientThatNeverReads(t *testing.T) {
	// Not parallel: it counts the process's goroutines and open files.
	const writeTimeout = 500 * time.Millisecond
	s := startServer(t, func(c *config) {
		c.WriteTimeout = writeTimeout
		c.RateLimit, c.RateBurst = 1e6, 1_000_000
		c.MaxBadMessages = 1_000_000 // every message is answered with an error event: output it will not read
	})
	var observers []*wstest.Client
	for range 3 {
		observers = append(observers, s.dial(t, "lobby"))
	}
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(observers, 3) })
	base := currentResources(t)
	drops, _ := s.metric(t, "presence_slow_consumer_drops_total")
	timeouts, _ := s.metric(t, `presence_leaves_total{reason="write_timeout"}`)

	// No reader at all (DialRaw, not a Client), and a 4 KiB receive buffer.
	nc, _, err := wstest.DialRaw(s.wsURL+"/ws?room=lobby", wstest.Options{ReceiveBuffer: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(observers, 4) })

	var batch bytes.Buffer
	for range 500 {
		batch.Write(wstest.Frame(true, 0, ws.OpText, []byte("x")))
	}
	start := time.Now()
	var gone atomic.Bool
	go func() {
		for i := 0; i < 400 && !gone.Load(); i++ { // at most 200,000 messages
			_ = nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := nc.Write(batch.Bytes()); err != nil {
				return
			}
		}
	}()
	wstest.Eventually(t, 30*time.Second, func() (bool, string) {
		n, _ := s.metric(t, `presence_leaves_total{reason="write_timeout"}`)
		return n == timeouts+1, fmt.Sprintf("write_timeout leaves: %v, want %v", n, timeouts+1)
	})
	gone.Store(true)
	t.Logf("the client that never reads was dropped %s after it started sending (write timeout %s)", time.Since(start).Round(time.Millisecond), writeTimeout)
	if n, _ := s.metric(t, "presence_slow_consumer_drops_total"); n != drops+1 {
		t.Fatalf("slow consumer drops: %v, want %v", n, drops+1)
	}
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(observers, 3) })
	for i, o := range observers {
		if !o.Open() {
			t.Fatalf("observer %d was disconnected", i)
		}
	}
	nc.Close()
	backToBaseline(t, base, 20*time.Second)
}

// TestAbuseConnectionFloodFromOneAddress opens 200 sockets at once from one
// address against a limit of 50: exactly 50 get in, the rest get 429 before
// any upgrade, another address is unaffected, and the slots come back when
// the sockets close.
func TestAbuseConnectionFloodFromOneAddress(t *testing.T) {
	t.Parallel()
	const limit = 50
	s := startServer(t, func(c *config) { c.MaxConnsPerIP = limit })
	flood := func() (in []*wstest.Client, refused int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 4 * limit {
			wg.Go(func() {
				c, err := s.tryDial(t, "flood", wstest.Options{Local: "127.0.0.5"})
				mu.Lock()
				defer mu.Unlock()
				var se ws.StatusError
				switch {
				case err == nil:
					in = append(in, c)
				case errors.As(err, &se) && int(se) == http.StatusTooManyRequests:
					refused++
				default:
					t.Errorf("dial: %v, want success or HTTP 429", err)
				}
			})
		}
		wg.Wait()
		return in, refused
	}

	in, refused := flood()
	if len(in) != limit || refused != 3*limit {
		t.Fatalf("%d connected and %d refused with 429; want %d and %d", len(in), refused, limit, 3*limit)
	}
	other := s.dialWith(t, "flood", wstest.Options{Local: "127.0.0.6"})
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(append(in, other), limit+1) })
	if n, _ := s.metric(t, `presence_upgrade_rejections_total{reason="per_ip_limit"}`); n != 3*limit {
		t.Fatalf("per_ip_limit rejections %v, want %d", n, 3*limit)
	}

	for _, c := range in {
		c.CloseNormally()
	}
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow([]*wstest.Client{other}, 1) })
	wstest.Eventually(t, 10*time.Second, func() (bool, string) {
		n, _ := s.roomsAPI(t)
		return n == 1, fmt.Sprintf("%d connections open", n)
	})
	again, _ := flood()
	if len(again) != limit {
		t.Fatalf("after the first %d closed, %d could connect again; want %d", limit, len(again), limit)
	}
}

// TestAbuseOrigins checks the Origin rule (DESIGN.md §4, RFC 6455 §10.2)
// beyond TestBadInput's three rows: normalisation, look-alikes, another port
// of the same host, "null", and the allow-list's "*".
func TestAbuseOrigins(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *config) { c.AllowedOrigins = []string{"https://partner.example", "http://localhost:3000"} })
	port := s.url[len("http://127.0.0.1:"):]
	rows := []struct {
		origin string
		ok     bool
	}{
		{"", true}, // a non-browser client
		{s.url, true},
		{"HTTP://127.0.0.1:" + port, true},
		{"https://partner.example", true},
		{"https://partner.example:443", true},
		{"https://PARTNER.example", true},
		{"http://localhost:3000", true},
		{"http://evil.example", false},
		{"null", false},
		{"http://127.0.0.1:1", false},
		{"http://localhost:" + port, false}, // same port, another host name: not this request's Host
		{"http://partner.example", false},
		{"https://partner.example:8443", false},
		{"https://partner.example.evil.example", false},
		{"https://evil.example/https://partner.example", false},
		{"not a url", false},
	}
	before, _ := s.metric(t, `presence_upgrade_rejections_total{reason="origin"}`)
	refused := 0
	for _, r := range rows {
		h := http.Header{}
		if r.origin != "" {
			h.Set("Origin", r.origin)
		}
		c, err := s.tryDial(t, "origins", wstest.Options{Header: h})
		var se ws.StatusError
		switch {
		case r.ok && err != nil:
			t.Errorf("Origin %q: %v, want it allowed", r.origin, err)
		case r.ok:
			c.CloseNormally()
		case !errors.As(err, &se) || int(se) != http.StatusForbidden:
			t.Errorf("Origin %q: %v, want HTTP 403", r.origin, err)
		default:
			refused++
		}
	}
	if after, _ := s.metric(t, `presence_upgrade_rejections_total{reason="origin"}`); after != before+float64(refused) {
		t.Errorf("origin rejections went from %v to %v, want +%d", before, after, refused)
	}

	anyOrigin := startServer(t, func(c *config) { c.AllowedOrigins = []string{"*"} })
	c := anyOrigin.dialWith(t, "origins", wstest.Options{Header: http.Header{"Origin": {"http://evil.example"}}})
	c.CloseNormally()
}

// TestAbuseDeflateOfferedThenCompressedFrame: a client offers
// permessage-deflate, the server declines it, and a frame with RSV1 (a
// compressed message, possibly a decompression bomb) is a protocol error.
func TestAbuseDeflateOfferedThenCompressedFrame(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	h := http.Header{"Sec-Websocket-Extensions": {"permessage-deflate; client_max_window_bits"}}
	c := s.dialWith(t, "lobby", wstest.Options{Header: h})
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow([]*wstest.Client{c}, 1) })
	bomb := wstest.Frame(true, ws.Rsv(true, false, false), ws.OpText, []byte{0xf2, 0x48, 0xcd, 0xc9}) // deflate bytes
	_ = c.Write(bomb)
	if !c.WaitDone(10 * time.Second) {
		t.Fatal("not disconnected")
	}
	if code := c.CloseCode(); code != ws.StatusProtocolError {
		t.Fatalf("close %d, want 1002", code)
	}
}
