package main

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"presence/internal/wstest"
)

// TestShutdownClosesEveryMemberWith1001 is the in-process equivalent of
// SIGTERM (the context main gets from signal.NotifyContext ends): every
// member gets close 1001, serve returns without error, and TestMain's leak
// check finds no goroutine left behind.
func TestShutdownClosesEveryMemberWith1001(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	var clients []*wstest.Client
	for i := range 40 {
		clients = append(clients, s.dial(t, []string{"lobby", "other"}[i%2]))
	}
	wstest.Eventually(t, 10*time.Second, func() (bool, string) {
		ok, why := wstest.AllShow(clients[0:1], 20)
		return ok, why
	})

	if err := s.stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}
	for i, c := range clients {
		if !c.WaitDone(10 * time.Second) {
			t.Fatalf("client %d still open after shutdown", i)
		}
		if code := c.CloseCode(); code != 1001 {
			t.Fatalf("client %d got close %d, want 1001", i, code)
		}
	}
}

// TestShutdownForcesUnresponsiveSockets: a client that never answers the
// close frame does not hold shutdown past the close timeout.
//
// Which of the two ends the wait shows in the log: the shutdown deadline
// forcing sockets closed is logged as a warning, the close timeout is not.
// With the close timeout the shorter, the socket must go by it; with it the
// longer, by the deadline (the check can tell them apart).
func TestShutdownForcesUnresponsiveSockets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		closeTimeout, shutdownTimeout time.Duration
		forced                        bool
	}{
		{300 * time.Millisecond, 10 * time.Second, false},
		{30 * time.Second, time.Second, true},
	} {
		t.Run(fmt.Sprintf("close timeout %s, shutdown timeout %s", tc.closeTimeout, tc.shutdownTimeout), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, func(c *config) { c.CloseTimeout, c.ShutdownTimeout = tc.closeTimeout, tc.shutdownTimeout })
			c := s.dial(t, "lobby")
			wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow([]*wstest.Client{c}, 1) })
			c.GoSilent()
			start := time.Now()
			if err := s.stop(); err != nil {
				t.Fatalf("serve returned %v", err)
			}
			if !c.WaitDone(10 * time.Second) {
				t.Fatal("the unresponsive client is still connected")
			}
			if code := c.CloseCode(); code != 1001 {
				t.Fatalf("got close %d, want 1001", code)
			}
			if forced := s.logged("forced sockets closed"); forced != tc.forced {
				t.Fatalf("the shutdown deadline forced the socket closed: %v, want %v", forced, tc.forced)
			}
			t.Logf("shutdown with an unresponsive member took %s", time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestSIGTERMExitsZero runs the real binary, connects members, sends SIGTERM
// and checks that each member gets 1001 and the process exits with 0.
func TestSIGTERMExitsZero(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := wstest.BuildBinary(t, ".")
	p := wstest.StartBinary(t, bin, "--addr", "127.0.0.1:0", "--log-format", "json", "--flush-interval", "10ms")
	s := binaryServer(t, p)

	var clients []*wstest.Client
	for range 5 {
		clients = append(clients, s.dial(t, "lobby"))
	}
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(clients, 5) })

	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := p.Wait(60 * time.Second)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("exit code %d, want 0 (%v)", exit.ExitCode(), err)
	} else if err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		if !c.WaitDone(10 * time.Second) {
			t.Fatalf("client %d still open", i)
		}
		if code := c.CloseCode(); code != 1001 {
			t.Fatalf("client %d got close %d, want 1001", i, code)
		}
	}
}
