package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"presence/internal/wstest"
)

// The official Socket.IO client (npm socket.io-client, pinned in
// interop/package-lock.json) against the real server, over each transport,
// in rooms shared with /ws members. interop/sio-client.mjs prints one JSON
// line per event and takes commands on stdin. Like the ws peer, these tests
// skip without node or the package unless PRESENCE_NODE_TESTS=required.

// sioPeer is one run of interop/sio-client.mjs.
type sioPeer struct {
	t     *testing.T
	name  string
	stdin io.WriteCloser
	mu    sync.Mutex
	lines []sioLine
	done  chan struct{}
}

// sioLine is one event the client printed.
type sioLine struct {
	Type         string `json:"type"`
	Transport    string `json:"transport"`
	CurrentUsers int    `json:"currentUsers"`
	Room         string `json:"room"`
	Seq          uint64 `json:"seq"`
	Reason       string `json:"reason"`
	Message      string `json:"message"`
	Code         string `json:"code"`
}

// runSIO starts the client against server (http://host:port) with the
// given transports ("default", "polling", "websocket") and room option
// ("query:NAME", "auth:NAME", "none").
func runSIO(t *testing.T, server, transports, room string) *sioPeer {
	t.Helper()
	cmd, cancel := nodeScript(t, 90*time.Second, "sio-client.mjs", server, transports, room)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &sioPeer{t: t, name: transports + " " + room, stdin: stdin, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var l sioLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Errorf("socket.io client printed %q: %v", sc.Text(), err)
				continue
			}
			p.mu.Lock()
			p.lines = append(p.lines, l)
			p.mu.Unlock()
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		p.send("exit")
		_ = stdin.Close()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
		cancel()
		<-p.done
	})
	return p
}

// needSIO is needNode, also requiring socket.io-client in interop/.
func needSIO(t *testing.T) {
	t.Helper()
	_, dir := needNode(t)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io-client", "package.json")); err != nil {
		if os.Getenv("PRESENCE_NODE_TESTS") == "required" {
			t.Fatal("PRESENCE_NODE_TESTS=required, but interop/node_modules has no socket.io-client (run: npm ci --prefix interop)")
		}
		t.Skip("interop/node_modules has no socket.io-client (run: npm ci --prefix interop)")
	}
}

func (p *sioPeer) send(cmd string) { _, _ = fmt.Fprintln(p.stdin, cmd) }

func (p *sioPeer) snapshot() []sioLine {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]sioLine(nil), p.lines...)
}

// shows reports whether the client's last count is want, and that every
// count so far was in room with a rising seq.
func (p *sioPeer) shows(room string, want int) (bool, string) {
	var counts []sioLine
	for _, l := range p.snapshot() {
		if l.Type == "count" {
			counts = append(counts, l)
		}
	}
	for i, c := range counts {
		if c.Room != room || (i > 0 && c.Seq <= counts[i-1].Seq) {
			p.t.Errorf("%s: count %+v after %+v, want room %s and a rising seq", p.name, c, counts[max(i-1, 0)], room)
		}
	}
	if n := len(counts); n > 0 && counts[n-1].CurrentUsers == want {
		return true, ""
	}
	return false, fmt.Sprintf("%s: counts %+v, want the last to be %d", p.name, counts, want)
}

// saw waits for a line of type typ that satisfies cond, and returns it.
func (p *sioPeer) saw(typ string, cond func(sioLine) bool) sioLine {
	p.t.Helper()
	var found sioLine
	wstest.Eventually(p.t, 30*time.Second, func() (bool, string) {
		for _, l := range p.snapshot() {
			if l.Type == typ && (cond == nil || cond(l)) {
				found = l
				return true, ""
			}
		}
		return false, fmt.Sprintf("%s: no %s event in %+v", p.name, typ, p.snapshot())
	})
	return found
}

// TestInteropSocketIOTransports: the npm client over long-polling only,
// WebSocket only, and its default (long-polling, then the upgrade) joins
// the room of a /ws member; both see 2, then 1 when it disconnects.
func TestInteropSocketIOTransports(t *testing.T) {
	t.Parallel()
	needSIO(t)
	s := startServer(t, nil)
	for _, tr := range []string{"polling", "websocket", "default"} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			room := "sio-" + tr
			observer := s.dial(t, room)
			p := runSIO(t, s.url, tr, "query:"+room)
			want := tr
			if tr == "default" {
				want = "polling"
				p.saw("upgrade", func(l sioLine) bool { return l.Transport == "websocket" })
			}
			if c := p.saw("open", nil); c.Transport != want {
				t.Fatalf("opened over %s, want %s", c.Transport, want)
			}
			wstest.Eventually(t, 20*time.Second, func() (bool, string) { return p.shows(room, 2) })
			wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow([]*wstest.Client{observer}, 2) })

			p.send("disconnect")
			p.saw("disconnect", func(l sioLine) bool { return l.Reason == "io client disconnect" })
			wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow([]*wstest.Client{observer}, 1) })
		})
	}
}

// TestInteropSocketIOMixedRoom: npm clients on each transport and /ws
// members in one room all see the same exact count, and its changes.
func TestInteropSocketIOMixedRoom(t *testing.T) {
	t.Parallel()
	needSIO(t)
	s := startServer(t, nil)
	gos := []*wstest.Client{s.dial(t, "mixed"), s.dial(t, "mixed")}
	peers := []*sioPeer{
		runSIO(t, s.url, "polling", "query:mixed"),
		runSIO(t, s.url, "websocket", "auth:mixed"),
		runSIO(t, s.url, "default", "query:mixed"),
	}
	for _, p := range peers {
		wstest.Eventually(t, 20*time.Second, func() (bool, string) { return p.shows("mixed", 5) })
	}
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(gos, 5) })
	if _, rooms := s.roomsAPI(t); rooms["mixed"] != 5 {
		t.Fatalf("/api/rooms: %v, want mixed 5", rooms)
	}

	peers[0].send("disconnect")
	gos[0].CloseNormally()
	for _, p := range peers[1:] {
		wstest.Eventually(t, 20*time.Second, func() (bool, string) { return p.shows("mixed", 3) })
	}
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(gos[1:], 3) })
}

// TestInteropSocketIOAnswers: what the client gets for what the server
// does not serve: a bad room is a connect_error with the reason; an event
// the server does not know is answered with an 'error' event.
func TestInteropSocketIOAnswers(t *testing.T) {
	t.Parallel()
	needSIO(t)
	s := startServer(t, nil)
	bad := runSIO(t, s.url, "default", "auth:no spaces")
	if e := bad.saw("connect_error", nil); !strings.Contains(e.Message, "invalid room") {
		t.Fatalf("connect_error %q, want the room's reason", e.Message)
	}
	p := runSIO(t, s.url, "websocket", "none")
	wstest.Eventually(t, 20*time.Second, func() (bool, string) { return p.shows("lobby", 1) })
	p.send("emit chat")
	if e := p.saw("error-event", nil); e.Code != "unknown_event" || !strings.Contains(e.Message, `"chat"`) {
		t.Fatalf("error event %+v, want unknown_event about \"chat\"", e)
	}
}

// TestInteropSocketIOReconnectAfterRestart: the server shuts down (SIGTERM's
// path) with npm clients on both transports: they are told the transport
// closed, and when a server comes back on the same address they reconnect
// by themselves and read the new room's count.
func TestInteropSocketIOReconnectAfterRestart(t *testing.T) {
	// Not parallel: the server comes back on the port it gave up, which a parallel test could take.
	needSIO(t)
	s := startServer(t, nil)
	peers := []*sioPeer{runSIO(t, s.url, "polling", "query:back"), runSIO(t, s.url, "websocket", "query:back")}
	for _, p := range peers {
		wstest.Eventually(t, 20*time.Second, func() (bool, string) { return p.shows("back", 2) })
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		p.saw("disconnect", func(l sioLine) bool { return l.Reason == "transport close" })
	}
	startServerAt(t, s.addr(), nil)
	for _, p := range peers {
		p.saw("reconnect", nil)
		wstest.Eventually(t, 20*time.Second, func() (bool, string) { return p.shows("back", 2) })
	}
}
