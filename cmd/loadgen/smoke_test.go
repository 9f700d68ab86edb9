package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"presence/cmd/loadgen/internal/result"
)

// TestMain lets the test binary act as a loadgen worker, as the real binary
// does: the coordinator starts os.Executable() with LOADGEN_ROLE=worker.
func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "worker" {
		os.Exit(workerMain(os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// startPresence builds the real server and starts it on a free loopback
// port; it returns the ws:// URL and the process id.
func startPresence(t *testing.T) (string, int) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "presence")
	// 'go test' puts its own GOROOT/bin first in PATH, so "go" is the
	// toolchain running this test.
	build := exec.Command("go", "build", "-o", bin, "presence")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the server: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--max-conns-per-ip", "0", "--log-level", "info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case a := <-addr:
		return "ws://" + a, cmd.Process.Pid
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not say where it listens")
	}
	return "", 0
}

// TestSmoke runs small ramp, leave and churn scenarios against the real
// server, end to end through worker processes, and builds a report from
// their JSON.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the server")
	}
	url, pid := startPresence(t)
	dir := t.TempDir()
	metrics := strings.Replace(url, "ws://", "http://", 1) + "/metrics"
	common := []string{"--url", url, "--server-pid", strconv.Itoa(pid), "--metrics-url", metrics, "--label", "ours",
		"--progress", "never", "--timeout", "30s", "--deadline", "2m", "--per-worker", "30"}
	runs := []struct {
		name string
		args []string
	}{
		{"ramp", []string{"ramp", "--n", "50", "--steps", "4", "--step-gap", "60ms"}},
		{"leave", []string{"leave", "--n", "30"}},
		{"churn", []string{"churn", "--n", "30", "--churn-rate", "20", "--duration", "1s"}},
		{"idle", []string{"idle", "--n", "20", "--settle", "100ms", "--hold", "200ms", "--steps", "2", "--step-gap", "60ms"}},
	}
	for _, r := range runs {
		file := filepath.Join(dir, r.name+".json")
		var out bytes.Buffer
		args := append(append(r.args, common...), "--json", file)
		if code := runCLI(context.Background(), args, &out, &out); code != 0 {
			t.Fatalf("%s: exit %d\n%s", r.name, code, out.String())
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var res result.Run
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		if !res.OK || res.Setup == nil || !res.Setup.Done || res.Server == nil || res.Loadgen.Processes < 2 {
			t.Fatalf("%s: %s", r.name, b)
		}
		switch r.name {
		case "ramp":
			if res.Workers != 2 || res.Setup.Opened != 50 || res.Latency == nil || res.Latency.Samples != 4 || res.Latency.P99Ms <= 0 {
				t.Errorf("ramp: %s", b)
			}
		case "leave":
			if l := res.Leave; l == nil || !l.Exact || l.Clean != 10 || l.Reset != 10 || l.Truth != 10 {
				t.Errorf("leave: %s", b)
			}
		case "churn":
			if c := res.Churn; c == nil || !c.Exact || c.Joins == 0 || c.Leaves == 0 || c.Truth != 30 {
				t.Errorf("churn: %s", b)
			}
		case "idle":
			if i := res.Idle; i == nil || i.Conns != 20 || i.RSSAfter == 0 || res.Latency == nil || res.Latency.Samples != 2 {
				t.Errorf("idle: %s", b)
			}
		}
	}

	// The report reads them back.
	if err := os.WriteFile(filepath.Join(dir, "meta.txt"), []byte("command: bench/run.sh quick\nnproc: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	md := filepath.Join(dir, "BENCHMARKS.md")
	charts := filepath.Join(dir, "charts")
	var out bytes.Buffer
	if code := runCLI(context.Background(), []string{"report", "--results", dir, "--out", md, "--charts", charts}, &out, &out); code != 0 {
		t.Fatalf("report: exit %d\n%s", code, out.String())
	}
	text, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"bench/run.sh quick", "## Ramp", "| N = 50 | ours |", "count-propagation latency p99", "## Idle", "(charts/latency.svg)"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	for _, f := range []string{"latency.svg", "memory.svg"} {
		svg, err := os.ReadFile(filepath.Join(charts, f))
		if err != nil || !bytes.HasPrefix(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("<polyline")) {
			t.Errorf("%s: %v %.200s", f, err, svg)
		}
	}
}
