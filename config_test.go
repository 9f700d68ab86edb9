package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestHelpListsEveryFlagWithItsTwinAndDefault(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	code := run(context.Background(), []string{"--help"}, env(nil), &out)
	if code != 0 {
		t.Fatalf("--help exited %d", code)
	}
	for _, want := range []string{
		"--addr (PRESENCE_ADDR)", `(default ":8080")`,
		"--flush-interval (PRESENCE_FLUSH_INTERVAL)", `(default "50ms")`,
		"--ping-interval (PRESENCE_PING_INTERVAL)", `(default "25s")`,
		"--pong-timeout (PRESENCE_PONG_TIMEOUT)", `(default "10s")`,
		"--max-message-size (PRESENCE_MAX_MESSAGE_SIZE)", `(default "4096")`,
		"--max-conns-per-ip (PRESENCE_MAX_CONNS_PER_IP)", `(default "1000")`,
		"--allowed-origins (PRESENCE_ALLOWED_ORIGINS)",
		"--actor-metrics (PRESENCE_ACTOR_METRICS)",
		"--cluster (PRESENCE_CLUSTER)", "--cluster-bind (PRESENCE_CLUSTER_BIND)",
		"--cluster-advertise (PRESENCE_CLUSTER_ADVERTISE)", "--etcd (PRESENCE_ETCD)",
		"--cluster-peers (PRESENCE_CLUSTER_PEERS)", "--cluster-refresh (PRESENCE_CLUSTER_REFRESH)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help does not mention %q:\n%s", want, out.String())
		}
	}
}

func TestEnvironmentTwinsAndFlagPrecedence(t *testing.T) {
	t.Parallel()
	cfg, err := parseConfig([]string{"--ping-interval", "3s"}, env(map[string]string{
		"PRESENCE_PING_INTERVAL":  "7s",
		"PRESENCE_FLUSH_INTERVAL": "20ms",
		"PRESENCE_ACTOR_METRICS":  "false",
	}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PingInterval != 3*time.Second {
		t.Errorf("ping interval %s: the flag should win over the environment", cfg.PingInterval)
	}
	if cfg.FlushInterval != 20*time.Millisecond || cfg.ActorMetrics {
		t.Errorf("environment not applied: flush %s, actor metrics %v", cfg.FlushInterval, cfg.ActorMetrics)
	}
}

func TestBadSettingsGetAReadableMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--flush-interval", "-1s"}, nil, "--flush-interval must be above 0"},
		{[]string{"--max-message-size", "0"}, nil, "--max-message-size must be 1 to 1048576"},
		{[]string{"--log-level", "loud"}, nil, "--log-level must be debug, info, warn or error"},
		{nil, map[string]string{"PRESENCE_PING_INTERVAL": "soon"}, `PRESENCE_PING_INTERVAL="soon"`},
		{[]string{"extra"}, nil, `unexpected argument "extra"`},
		{[]string{"--no-such-flag"}, nil, "flag provided but not defined"},
		{[]string{"--cluster", "demo"}, nil, "--cluster-bind HOST:PORT is required with --cluster"},
		{[]string{"--cluster", "demo", "--cluster-bind", "127.0.0.1:7001"}, nil, "--etcd URL[,URL…] (etcd) or --cluster-peers"},
		{nil, map[string]string{"PRESENCE_ETCD": "http://127.0.0.1:2379"}, "--etcd needs --cluster NAME"},
		{[]string{"--cluster", "a b", "--cluster-bind", "0.0.0.0:7001", "--etcd", "127.0.0.1:2379"}, nil, "--cluster must be 1 to 64"},
	} {
		var out bytes.Buffer
		if code := run(context.Background(), tc.args, env(tc.env), &out); code != 2 {
			t.Errorf("%v %v: exit %d, want 2", tc.args, tc.env, code)
		}
		if !strings.Contains(out.String(), tc.want) {
			t.Errorf("%v %v: output %q does not say %q", tc.args, tc.env, out.String(), tc.want)
		}
	}
}

func TestAddressInUseExitsOne(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	addr := strings.TrimPrefix(s.url, "http://")
	var out bytes.Buffer
	if code := run(context.Background(), []string{"--addr", addr}, env(nil), &out); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(out.String(), "cannot listen") {
		t.Fatalf("output %q does not explain", out.String())
	}
}

// TestClusterBindInUseExitsOne: the cluster's address is checked before the
// node serves anything (protoactor would panic on a goroutine later).
func TestClusterBindInUseExitsOne(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var out bytes.Buffer
	args := []string{"--addr", "127.0.0.1:0", "--cluster", "demo", "--cluster-bind", ln.Addr().String(), "--etcd", "http://127.0.0.1:1"}
	if code := run(context.Background(), args, env(nil), &out); code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, out.String())
	}
	if !strings.Contains(out.String(), "--cluster-bind") || !strings.Contains(out.String(), "address already in use") {
		t.Fatalf("output %q does not explain", out.String())
	}
}
