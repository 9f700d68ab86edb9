package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"presence/internal/wstest"
)

// The kit's client (internal/wstest) against the real server, as this
// package's tests use it through testServer.dial: two members join the
// lobby and read 2; one closes normally (its close is echoed, 1000) and the
// other reads 1; at shutdown the last one gets 1001. Every frame the clients
// read was held to the protocol and the wire contract on the way, and
// Problems lists what broke them: nothing.
//
// A test passes t to wstest.Dial (reports become t.Errorf, the client ends
// with the test); an Example has no t, so it passes nil and ends its clients
// itself.
func Example_wstestClient() {
	cfg, err := parseConfig([]string{"--addr", "127.0.0.1:0", "--flush-interval", "10ms", "--actor-metrics=false"},
		func(string) string { return "" }, io.Discard)
	if err != nil {
		fmt.Println(err)
		return
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	a, err := newApp(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, shutdown := context.WithCancel(context.Background())
	defer shutdown()
	served := make(chan error, 1)
	go func() { served <- a.serve(ctx, ln) }()

	url := "ws://" + ln.Addr().String() + "/ws?room=lobby"
	alice, err := wstest.Dial(nil, url, wstest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer alice.Kill()
	bob, err := wstest.Dial(nil, url, wstest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bob.Kill()

	shows := func(n int) func(s *wstest.State) bool {
		return func(s *wstest.State) bool { k := len(s.Counts); return k > 0 && s.Counts[k-1].CurrentUsers == n }
	}
	alice.Await(10*time.Second, shows(2))
	last, _ := alice.Last()
	fmt.Println("alice reads", last.CurrentUsers, "in", last.Room)

	bob.CloseNormally()
	fmt.Println("bob's close:", bob.CloseCode())
	alice.Await(10*time.Second, shows(1))
	last, _ = alice.Last()
	fmt.Println("alice reads", last.CurrentUsers)

	shutdown()
	fmt.Println("serve:", <-served)
	alice.WaitDone(10 * time.Second)
	fmt.Println("alice's close:", alice.CloseCode())
	fmt.Println("problems:", len(alice.Snapshot().Problems)+len(bob.Snapshot().Problems))
	// Output:
	// alice reads 2 in lobby
	// bob's close: 1000
	// alice reads 1
	// serve: <nil>
	// alice's close: 1001
	// problems: 0
}
