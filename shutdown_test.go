package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestShutdownClosesEveryMemberWith1001 is the in-process equivalent of
// SIGTERM (the context main gets from signal.NotifyContext ends): every
// member gets close 1001, serve returns without error, and TestMain's leak
// check finds no goroutine left behind.
func TestShutdownClosesEveryMemberWith1001(t *testing.T) {
	s := startServer(t, nil)
	var clients []*wsClient
	for i := range 40 {
		clients = append(clients, dial(t, s, dialOptions{room: []string{"lobby", "other"}[i%2]}))
	}
	eventually(t, 10*time.Second, func() (bool, string) {
		ok, why := allShow(clients[0:1], 20)
		return ok, why
	})

	if err := s.stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}
	for i, c := range clients {
		if !c.waitDone(10 * time.Second) {
			t.Fatalf("client %d still open after shutdown", i)
		}
		if code := c.serverCloseCode(); code != 1001 {
			t.Fatalf("client %d got close %d, want 1001", i, code)
		}
	}
}

// TestShutdownForcesUnresponsiveSockets: a client that never answers the
// close frame does not hold shutdown past the close timeout.
func TestShutdownForcesUnresponsiveSockets(t *testing.T) {
	s := startServer(t, func(c *config) { c.CloseTimeout = 300 * time.Millisecond })
	c := dial(t, s, dialOptions{room: "lobby"})
	eventually(t, 10*time.Second, func() (bool, string) { return allShow([]*wsClient{c}, 1) })
	c.goSilent()
	start := time.Now()
	if err := s.stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}
	if !c.waitDone(10 * time.Second) {
		t.Fatal("the unresponsive client is still connected")
	}
	if code := c.serverCloseCode(); code != 1001 {
		t.Fatalf("got close %d, want 1001", code)
	}
	// Shutdown waits for the close timeout, not for the client.
	t.Logf("shutdown with an unresponsive member took %s (close timeout 300ms)", time.Since(start).Round(time.Millisecond))
}

// TestSIGTERMExitsZero runs the real binary, connects members, sends SIGTERM
// and checks that each member gets 1001 and the process exits with 0.
func TestSIGTERMExitsZero(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "presence")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--addr", "127.0.0.1:0", "--log-format", "json", "--flush-interval", "10ms")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				addr <- line.Addr
			}
		}
	}()
	var s *testServer
	select {
	case a := <-addr:
		s = &testServer{t: t, url: "http://" + a, wsURL: "ws://" + a}
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not log its address")
	}

	var clients []*wsClient
	for range 5 {
		clients = append(clients, dial(t, s, dialOptions{room: "lobby"}))
	}
	eventually(t, 10*time.Second, func() (bool, string) { return allShow(clients, 5) })

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("exit code %d, want 0", exit.ExitCode())
	} else if err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		if !c.waitDone(10 * time.Second) {
			t.Fatalf("client %d still open", i)
		}
		if code := c.serverCloseCode(); code != 1001 {
			t.Fatalf("client %d got close %d, want 1001", i, code)
		}
	}
}
