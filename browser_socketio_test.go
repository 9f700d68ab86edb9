package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"presence/internal/wstest"
)

// lessonPage is the Socket.IO lesson's page: it loads the official client
// from the server (/socket.io/socket.io.js) and runs the lesson's client
// code as the lesson wrote it (freeCodeCamp "Handle a Disconnect", without
// its jQuery ready wrapper), which logs every count. A second listener of
// ours shows the count on the page.
const lessonPage = `<!doctype html>
<title>lesson</title>
<p id="count">…</p>
<script src="/socket.io/socket.io.js"></script>
<script>
  /*global io*/
  let socket = io();
  socket.on('user count', function (data) {
    console.log(data);
  });
  socket.on('user count', (n) => { document.getElementById('count').textContent = n; });
</script>
`

// TestBrowserSocketIOLessonPage: in Chromium, the lesson's page on the
// server's origin shows the live count: three pages → 3 (each also logs
// 3), close one → 2, and a /ws page in the same room agrees.
func TestBrowserSocketIOLessonPage(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	s := startServer(t, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /lesson", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, lessonPage)
	})
	mux.Handle("/", s.app.http.Handler)
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)

	var pages []*page
	for i := range 3 {
		pages = append(pages, openPage(t, fmt.Sprintf("lesson-%d", i), site.URL+"/lesson"))
	}
	for _, p := range pages {
		p.waitFor("the count 3", `document.getElementById('count').textContent === '3'`)
		wstest.Eventually(t, pageWaitTimeout, func() (bool, string) { return p.consoleHas("log: 3") })
	}
	native := openPage(t, "native", site.URL+"/")
	native.waitCount(4)

	pages[2].close()
	native.close()
	for _, p := range pages[:2] {
		p.waitFor("the count 2", `document.getElementById('count').textContent === '2'`)
		wstest.Eventually(t, pageWaitTimeout, func() (bool, string) { return p.lastConsoleIs("log: 2") })
	}
	// The client came from this server, and upgraded to a WebSocket.
	if got := eval[string](pages[0], `socket.connected + ' ' + socket.io.engine.transport.name`); got != "true websocket" {
		t.Errorf("client connected and transport %q, want \"true websocket\"", got)
	}
	for _, u := range eval[[]string](pages[0], `performance.getEntriesByType('resource').map(e => e.name)`) {
		if !strings.HasPrefix(u, site.URL+"/") {
			t.Errorf("the page loaded %s, which is not from the server", u)
		}
	}
}

// lastConsoleIs reports whether the page's last console line is line.
func (p *page) lastConsoleIs(line string) (bool, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.console); n > 0 && p.console[n-1] == line {
		return true, ""
	}
	return false, fmt.Sprintf("%s: console %q, want the last line %q", p.name, p.console, line)
}
