package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"presence/internal/wstest"
)

// The frames this server sends, checked by an independent peer: the npm
// `ws` package (pinned in interop/package-lock.json), which fails on masked
// server frames, RSV bits, bad UTF-8 and invalid close codes. test.sh
// installs it with `npm ci`; without node or the package these tests skip,
// unless PRESENCE_NODE_TESTS=required (test.sh sets it) makes that a failure.

// nodePeer is one run of interop/ws-client.mjs.
type nodePeer struct {
	t      *testing.T
	mu     sync.Mutex
	counts []wstest.Count
	result *nodeResult
	done   chan struct{}
}

// nodeResult is the script's final report.
type nodeResult struct {
	Opened      bool           `json:"opened"`
	Counts      []wstest.Count `json:"counts"`
	ErrorEvents []wstest.Error `json:"errorEvents"`
	Other       []any          `json:"other"`
	Errors      []string       `json:"errors"`
	Close       *nodeCloseInfo `json:"close"`
}

type nodeCloseInfo struct {
	Code     int    `json:"code"`
	Reason   string `json:"reason"`
	WasClean bool   `json:"wasClean"`
}

// needNode returns the node binary and the interop folder, or skips (fails
// when PRESENCE_NODE_TESTS=required) with what is missing.
func needNode(t *testing.T) (node, dir string) {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		if os.Getenv("PRESENCE_NODE_TESTS") == "required" {
			t.Fatalf("PRESENCE_NODE_TESTS=required, but %s", what)
		}
		t.Skipf("skipping the npm interop tests: %s (./test.sh installs it; PRESENCE_NODE_TESTS=required makes this a failure)", what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	dir, _ = filepath.Abs("interop")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws", "package.json")); err != nil {
		missing("interop/node_modules has no ws (run: npm ci --prefix interop)")
	}
	return node, dir
}

// nodeScript is the command that runs script, in interop/, with args: node
// found by needNode, the test's log as its stderr, killed by cancel or
// after timeout. The caller sets up its pipes and starts it.
func nodeScript(t *testing.T, timeout time.Duration, script string, args ...string) (*exec.Cmd, context.CancelFunc) {
	t.Helper()
	node, dir := needNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(dir, script)}, args...)...)
	cmd.Dir = dir
	cmd.Stderr = &testWriter{t: t}
	return cmd, cancel
}

// runNode starts the script against url in mode, and reads its lines.
func runNode(t *testing.T, url, mode, arg string) *nodePeer {
	t.Helper()
	cmd, cancel := nodeScript(t, 60*time.Second, "ws-client.mjs", url, mode, arg)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &nodePeer{t: t, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line struct {
				Type string `json:"type"`
				wstest.Count
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Errorf("node printed %q: %v", sc.Text(), err)
				continue
			}
			p.mu.Lock()
			switch line.Type {
			case "count":
				p.counts = append(p.counts, line.Count)
			case "result":
				var r nodeResult
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Errorf("node result %q: %v", sc.Text(), err)
				}
				p.result = &r
			}
			p.mu.Unlock()
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// shows reports whether the node client's last count is want.
func (p *nodePeer) shows(want int) (bool, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.counts); n > 0 && p.counts[n-1].CurrentUsers == want {
		return true, ""
	}
	return false, fmt.Sprintf("node client's counts %+v, want last %d", p.counts, want)
}

// wait returns the script's report once it has exited.
func (p *nodePeer) wait() nodeResult {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Fatal("the node client did not finish")
	}
	if p.result == nil {
		p.t.Fatal("the node client exited without a report")
	}
	return *p.result
}

// check holds what every run must show: it connected, every frame was a
// valid count or error event, seqs rose strictly, and ws saw no protocol
// error.
func (r nodeResult) check(t *testing.T, room string) {
	t.Helper()
	if !r.Opened {
		t.Fatal("the node client never connected")
	}
	if len(r.Errors) > 0 || len(r.Other) > 0 {
		t.Fatalf("ws reported errors %q and unexpected frames %v", r.Errors, r.Other)
	}
	for i, c := range r.Counts {
		if c.Room != room || c.CurrentUsers < 1 {
			t.Fatalf("count %+v, want room %s and at least 1 user", c, room)
		}
		if i > 0 && c.Seq <= r.Counts[i-1].Seq {
			t.Fatalf("seq %d after %d", c.Seq, r.Counts[i-1].Seq)
		}
	}
	if r.Close == nil {
		t.Fatal("no close event")
	}
}

// TestInteropNodeWSShutdown: two npm ws clients and three Go clients share a
// room; the ws clients read valid, rising counts, and when the server shuts
// down they get a clean close 1001.
func TestInteropNodeWSShutdown(t *testing.T) {
	t.Parallel()
	needNode(t)
	s := startServer(t, nil)
	url := s.wsURL + "/ws?room=interop"
	var peers []*nodePeer
	for range 2 {
		peers = append(peers, runNode(t, url, "listen", ""))
	}
	var gos []*wstest.Client
	for range 3 {
		gos = append(gos, s.dial(t, "interop"))
	}
	for _, p := range peers {
		wstest.Eventually(t, 20*time.Second, func() (bool, string) { return p.shows(5) })
	}
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(gos, 5) })

	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		r := p.wait()
		r.check(t, "interop")
		if r.Close.Code != 1001 || !r.Close.WasClean {
			t.Fatalf("close %+v, want a clean 1001", r.Close)
		}
		if last := r.Counts[len(r.Counts)-1]; last.CurrentUsers != 5 {
			t.Fatalf("last count %d, want 5", last.CurrentUsers)
		}
	}
}

// TestInteropNodeWSOversizeAndBadJSON: a ws client that sends a message over
// the limit gets a clean 1009; one that sends text that is not JSON gets an
// error event it can parse; one that closes normally gets its 1000 back;
// the Go members see each leave.
func TestInteropNodeWSOversizeAndBadJSON(t *testing.T) {
	t.Parallel()
	needNode(t)
	s := startServer(t, nil)
	url := s.wsURL + "/ws?room=interop"
	observer := s.dial(t, "interop")
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow([]*wstest.Client{observer}, 1) })

	t.Run("oversize → 1009", func(t *testing.T) {
		r := runNode(t, url, "oversize", strconv.Itoa(4097)).wait()
		r.check(t, "interop")
		if r.Close.Code != 1009 || !r.Close.WasClean {
			t.Fatalf("close %+v, want a clean 1009", r.Close)
		}
	})
	t.Run("not JSON → error event, then a normal close", func(t *testing.T) {
		r := runNode(t, url, "bad-json", "").wait()
		r.check(t, "interop")
		if len(r.ErrorEvents) != 1 || r.ErrorEvents[0].Code != "bad_json" || !strings.Contains(r.ErrorEvents[0].Message, "decode") {
			t.Fatalf("error events %+v, want one bad_json", r.ErrorEvents)
		}
		if r.Close.Code != 1000 || !r.Close.WasClean {
			t.Fatalf("close %+v, want a clean 1000", r.Close)
		}
	})
	t.Run("close 1000 at count 2 → echoed", func(t *testing.T) {
		r := runNode(t, url, "close", "2").wait()
		r.check(t, "interop")
		if r.Close.Code != 1000 || !r.Close.WasClean {
			t.Fatalf("close %+v, want a clean 1000", r.Close)
		}
	})
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow([]*wstest.Client{observer}, 1) })
	if !observer.Open() {
		t.Fatal("the observer was disconnected")
	}
}
