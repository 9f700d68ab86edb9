package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"presence/internal/wstest"
)

// startKillable runs the server binary on addr with the keep-alive timings
// of this test (a dead client is noticed within two seconds).
func startKillable(t *testing.T, bin, addr string) *wstest.Process {
	return wstest.StartBinary(t, bin, "--addr", addr, "--log-format", "json", "--flush-interval", "10ms",
		"--ping-interval", "1s", "--pong-timeout", "1s")
}

// reconnector is a member that, like the page's client.js, reconnects with
// capped exponential backoff and jitter whenever its connection ends.
type reconnector struct {
	mu      sync.Mutex
	conns   []*wstest.Client // every connection it made, in order
	refused int              // dials that failed
}

func (r *reconnector) current() (*wstest.Client, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.conns) == 0 {
		return nil, 0
	}
	return r.conns[len(r.conns)-1], len(r.conns)
}

// run keeps the member connected to s's room until ctx ends.
func (r *reconnector) run(ctx context.Context, t *testing.T, s *testServer, room string, o wstest.Options, rng *rand.Rand) {
	o.NoCleanup = true
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		c, err := s.tryDial(t, room, o)
		if err != nil {
			r.mu.Lock()
			r.refused++
			r.mu.Unlock()
			wait := backoff/2 + time.Duration(rng.Int64N(int64(backoff)))
			backoff = min(2*backoff, time.Second)
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			continue
		}
		backoff = 50 * time.Millisecond
		r.mu.Lock()
		r.conns = append(r.conns, c)
		r.mu.Unlock()
		select {
		case <-c.Done():
		case <-ctx.Done():
			c.Kill()
		}
	}
}

// TestKill9UnderLoadClientsConvergeOnAFreshProcess runs the real binary
// with 150 members in three rooms, kills it with SIGKILL (no close frames, no
// shutdown), and starts a fresh process on the same address: every member
// sees its connection drop without a close frame, reconnects with backoff,
// and all of them converge on the exact counts, with seqs that keep rising
// across the restart.
func TestKill9UnderLoadClientsConvergeOnAFreshProcess(t *testing.T) {
	// Not parallel: the server comes back on the port it gave up, which a parallel test could take.
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := wstest.BuildBinary(t, ".")
	first := startKillable(t, bin, "127.0.0.1:0")
	s := binaryServer(t, first)

	const rooms, perRoom = 3, 50
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	members := map[string][]*reconnector{}
	for i := range rooms * perRoom {
		room := "k" + strconv.Itoa(i%rooms)
		r := &reconnector{}
		members[room] = append(members[room], r)
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		wg.Go(func() { r.run(ctx, t, s, room, wstest.Options{Local: "127.0.0." + strconv.Itoa(2+i%5)}, rng) })
	}
	converge := func(generation int) {
		t.Helper()
		for room, rs := range members {
			wstest.Eventually(t, 60*time.Second, func() (bool, string) {
				var cs []*wstest.Client
				for _, r := range rs {
					c, n := r.current()
					if n < generation || !c.Open() {
						return false, fmt.Sprintf("%s: a member is on connection %d, want %d and open", room, n, generation)
					}
					cs = append(cs, c)
				}
				ok, why := wstest.AllShow(cs, perRoom)
				return ok, room + ": " + why
			})
		}
	}
	converge(1)

	if err := first.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait(10 * time.Second) // killed: its exit status says so
	for room, rs := range members {
		for i, r := range rs {
			r.mu.Lock()
			c := r.conns[0]
			r.mu.Unlock()
			if !c.WaitDone(10 * time.Second) {
				t.Fatalf("%s member %d did not see the process die", room, i)
			}
			if code := c.CloseCode(); code != 0 {
				t.Fatalf("%s member %d got close %d from a killed process", room, i, code)
			}
		}
	}

	second := startKillable(t, bin, first.Addr)
	converge(2)
	conns, counts := s.roomsAPI(t)
	if conns != rooms*perRoom || len(counts) != rooms {
		t.Fatalf("the fresh process has %d connections in %v, want %d in %d rooms", conns, counts, rooms*perRoom, rooms)
	}
	refused := 0
	for room, rs := range members {
		for i, r := range rs {
			r.mu.Lock()
			old, fresh := r.conns[0], r.conns[len(r.conns)-1]
			refused += r.refused
			r.mu.Unlock()
			before, _ := old.Last()
			after, _ := fresh.Last()
			if after.Seq <= before.Seq {
				t.Fatalf("%s member %d: seq %d after the restart, %d before: a client would ignore the new counts", room, i, after.Seq, before.Seq)
			}
		}
	}
	t.Logf("%d members reconnected to the fresh process after %d refused dials in between", rooms*perRoom, refused)

	cancel()
	wg.Wait()
	if err := second.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(60 * time.Second); err != nil {
		t.Fatalf("the fresh process did not exit cleanly: %v", err)
	}
}
