package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"presence/internal/wstest"
	"presence/third_party/socketioclient"
)

// Socket.IO sessions in the real server, with the real actor tree: counted
// once whatever their transport, in the same rooms as /ws members.

// sioWS opens a Socket.IO session on a WebSocket and joins room.
func sioWS(t *testing.T, s *testServer, room string) *wstest.Client {
	t.Helper()
	c, err := wstest.Dial(t, s.wsURL+"/socket.io/?EIO=4&transport=websocket&room="+room, wstest.Options{RawText: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SendText("40")
	return c
}

// lastSIOCount is the last count a raw Socket.IO WebSocket client read.
func lastSIOCount(t *testing.T, c *wstest.Client) (wstest.Count, bool) {
	t.Helper()
	var last wstest.Count
	found := false
	for _, m := range c.Snapshot().Texts {
		if strings.HasPrefix(string(m), `42["user count"`) {
			n, err := wstest.SIOCount(string(m))
			if err != nil {
				t.Fatal(err)
			}
			if found && n.Seq <= last.Seq {
				t.Fatalf("seq %d after %d", n.Seq, last.Seq)
			}
			last, found = n, true
		}
	}
	return last, found
}

// TestSocketIOMixedRoom: /ws members, a long-polling session and a
// WebSocket session share a room: all read the same count with the same
// seq (one flush, one count, two wire formats), and a Socket.IO DISCONNECT
// leaves at once.
func TestSocketIOMixedRoom(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	gos := []*wstest.Client{s.dial(t, "mixed"), s.dial(t, "mixed")}
	p := wstest.OpenPolling(t, s.url, "&room=mixed")
	p.Post("40")
	ws := sioWS(t, s, "mixed")

	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(gos, 4) })
	var polled wstest.Count
	p.Await(10*time.Second, "a count of 4", func(pkts []string) bool {
		c, err := wstest.SIOCount(pkts[len(pkts)-1])
		polled = c
		return err == nil && c.CurrentUsers == 4
	})
	var pushed wstest.Count
	wstest.Eventually(t, 10*time.Second, func() (bool, string) {
		c, _ := lastSIOCount(t, ws)
		pushed = c
		return c.CurrentUsers == 4, "no count of 4 on the Socket.IO WebSocket"
	})
	last, _ := gos[0].Last()
	if polled.Seq != last.Seq || pushed.Seq != last.Seq || polled.Room != "mixed" || pushed.Room != "mixed" {
		t.Fatalf("the same count read as %+v (/ws), %+v (polling), %+v (websocket)", last, polled, pushed)
	}
	if conns, rooms := s.roomsAPI(t); conns != 4 || rooms["mixed"] != 4 {
		t.Fatalf("/api/rooms: %d connections, rooms %v; want 4 and mixed 4", conns, rooms)
	}

	p.Post("41")
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow(gos, 3) })
	wstest.Eventually(t, 10*time.Second, func() (bool, string) {
		c, _ := lastSIOCount(t, ws)
		return c.CurrentUsers == 3, "no count of 3 on the Socket.IO WebSocket"
	})
	if v, _ := s.metric(t, `presence_leaves_total{reason="close_frame"}`); v != 1 {
		t.Fatalf("leaves by close_frame %v, want 1", v)
	}
}

// TestSocketIOUpgradeIsOneMember: a long-polling session that upgrades to a
// WebSocket stays one member: the room's count never drops while it moves.
func TestSocketIOUpgradeIsOneMember(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	observer := s.dial(t, "up")
	p := wstest.OpenPolling(t, s.url, "&room=up")
	p.Post("40")
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow([]*wstest.Client{observer}, 2) })
	p.Await(10*time.Second, "the count", func(pkts []string) bool { return strings.HasPrefix(pkts[len(pkts)-1], `42["user count",2`) })

	c, err := wstest.Dial(t, p.WSURL(), wstest.Options{RawText: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SendText("2probe")
	if !c.Await(10*time.Second, func(st *wstest.State) bool { return len(st.Texts) > 0 }) || string(c.Snapshot().Texts[0]) != "3probe" {
		t.Fatalf("probe answered %q", c.Snapshot().Texts)
	}
	_ = c.SendText("5")
	// The server reads "5" on its own time: a poll that reaches it first is
	// still the session's, and the upgrade answers it with a noop ("6").
	// Once the upgrade is done, a poll is refused.
	wstest.Eventually(t, 10*time.Second, func() (bool, string) {
		r := p.Get(10 * time.Second)
		if r.Status == http.StatusOK && r.Body == "6" {
			return false, "polls still answered with a noop"
		}
		if r.Status != http.StatusBadRequest {
			t.Fatalf("poll after the upgrade: %d %q, want 400 (or 200 \"6\" while it completes)", r.Status, r.Body)
		}
		return true, ""
	})
	third := s.dial(t, "up")
	wstest.Eventually(t, 10*time.Second, func() (bool, string) {
		n, _ := lastSIOCount(t, c)
		return n.CurrentUsers == 3, "no count of 3 on the upgraded session"
	})
	wstest.Eventually(t, 10*time.Second, func() (bool, string) { return wstest.AllShow([]*wstest.Client{observer, third}, 3) })
	for _, n := range observer.Snapshot().Counts {
		if n.CurrentUsers < 1 || n.CurrentUsers > 3 {
			t.Fatalf("the observer read %+v", observer.Snapshot().Counts)
		}
	}
	var seen []int
	for _, n := range observer.Snapshot().Counts {
		seen = append(seen, n.CurrentUsers)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Fatalf("the count went down during the upgrade: %v", seen)
		}
	}
}

// TestSocketIOClientBundle: /socket.io/socket.io.js and its siblings are
// socket.io-client's files byte for byte: the copy embedded is the one npm
// installed into interop/ (verified there against package-lock.json's
// integrity hash, which must be the one recorded beside the copy, for the
// version recorded there), and the server serves it unchanged.
func TestSocketIOClientBundle(t *testing.T) {
	t.Parallel()
	lock, err := os.ReadFile("interop/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	var pl struct {
		Packages map[string]struct {
			Version   string `json:"version"`
			Integrity string `json:"integrity"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(lock, &pl); err != nil {
		t.Fatal(err)
	}
	pinned := pl.Packages["node_modules/socket.io-client"]
	if pinned.Version != socketioclient.Version || pinned.Integrity != socketioclient.Integrity {
		t.Fatalf("interop pins socket.io-client %s %s; third_party/socketioclient has %s %s",
			pinned.Version, pinned.Integrity, socketioclient.Version, socketioclient.Integrity)
	}

	s := startServer(t, nil)
	installed := filepath.Join("interop", "node_modules", "socket.io-client")
	haveNPM := true
	if _, err := os.Stat(filepath.Join(installed, "package.json")); err != nil {
		if os.Getenv("PRESENCE_NODE_TESTS") == "required" {
			t.Fatal("PRESENCE_NODE_TESTS=required, but interop/node_modules has no socket.io-client (run: npm ci --prefix interop)")
		}
		haveNPM = false
		t.Log("interop/node_modules has no socket.io-client: checking the served files against the embedded copy only")
	}
	for _, name := range append([]string{"LICENSE"}, socketioclient.Served...) {
		embedded, err := socketioclient.Files.ReadFile(pathIn(name))
		if err != nil {
			t.Fatal(err)
		}
		if haveNPM {
			npm, err := os.ReadFile(filepath.Join(installed, pathIn(name)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(embedded, npm) {
				t.Errorf("%s differs from socket.io-client %s as npm installed it", name, socketioclient.Version)
			}
		}
		if name == "LICENSE" {
			continue
		}
		status, body := s.get(t, "/socket.io/"+name, nil)
		if status != http.StatusOK || body != string(embedded) {
			t.Errorf("GET /socket.io/%s: %d, %d bytes; want 200 and the file's %d bytes", name, status, len(body), len(embedded))
		}
	}
	if status, _ := s.get(t, "/socket.io/socket.io.msgpack.min.js", nil); status != http.StatusNotFound {
		t.Errorf("a file not shipped: %d, want 404", status)
	}
}

func pathIn(name string) string {
	if name == "LICENSE" {
		return name
	}
	return "dist/" + name
}
