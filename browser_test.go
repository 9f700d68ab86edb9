package main

// Real-browser tests: headless Chromium (browser_helpers_test.go) loads the
// page from the real server on loopback and the tests read what a person
// would see. Every wait polls the page's DOM within a deadline.

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"presence/internal/wstest"
)

// TestBrowserRoomCounts: three tabs in one room each show 3; one closes and
// the other two show 2; a tab in another room shows 1 throughout.
func TestBrowserRoomCounts(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	s := startServer(t, nil)

	other := openPage(t, "other", s.url+"/?room=other")
	other.waitCount(1)
	var lobby []*page
	for i := range 3 {
		lobby = append(lobby, openPage(t, fmt.Sprintf("lobby-%d", i), s.url+"/"))
	}
	for _, p := range lobby {
		p.waitCount(3)
	}
	if v := lobby[0].view(); v.Room != "lobby" || !strings.Contains(v.Title, "(3) lobby") || v.Note != "You and 2 other people." {
		t.Errorf("lobby page shows %s; want room lobby, title with (3), note about 2 others", v)
	}
	other.waitCount(1)
	// Everything the page loaded came from the server itself.
	for _, u := range eval[[]string](lobby[0], `performance.getEntriesByType('resource').map(e => e.name)`) {
		if !strings.HasPrefix(u, s.url+"/") {
			t.Errorf("the page loaded %s, which is not from the server", u)
		}
	}

	lobby[2].close()
	for _, p := range lobby[:2] {
		p.waitCount(2)
	}
	other.waitCount(1)
	if v := other.view(); !strings.HasSuffix(v.Counts, ": 1") {
		t.Errorf("the other room saw counts %q; want only 1", v.Counts)
	}
	if _, rooms := s.roomsAPI(t); rooms["lobby"] != 2 || rooms["other"] != 1 {
		t.Errorf("/api/rooms: %v; want lobby 2, other 1", rooms)
	}
}

// TestBrowserReconnectAfterRestart: the server shuts down (as on SIGTERM);
// the pages say they are reconnecting; a server on the same address comes
// back and the pages reconnect by themselves and show the right counts.
func TestBrowserReconnectAfterRestart(t *testing.T) {
	// Not parallel: the server comes back on the port it gave up, which a parallel test could take.
	needBrowser(t)
	s := startServer(t, nil)
	a := openPage(t, "lobby-a", s.url+"/")
	b := openPage(t, "lobby-b", s.url+"/")
	c := openPage(t, "other", s.url+"/?room=other")
	a.waitCount(2)
	b.waitCount(2)
	c.waitCount(1)

	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	for _, p := range []*page{a, b, c} {
		p.waitState("reconnecting")
		v := p.view()
		if v.StateText != "Reconnecting…" || !strings.HasPrefix(v.Retry, "Lost the connection. Trying again") ||
			!strings.HasPrefix(v.Note, "Last known count") {
			t.Errorf("%s while the server is down shows %s; want Reconnecting…, the retry line and a last-known note", p.name, v)
		}
	}
	if v := a.view(); v.Count != "2" {
		t.Errorf("lobby page lost its last count while down: %s", v)
	}

	s2 := startServerAt(t, s.addr(), nil)
	a.waitCount(2)
	b.waitCount(2)
	c.waitCount(1)
	for _, p := range []*page{a, b, c} {
		if v := p.view(); v.Retry != "" || v.Problem != "" || v.StateText != "Connected" {
			t.Errorf("%s after reconnecting shows %s; want Connected, no retry line, no problem", p.name, v)
		}
	}
	if _, rooms := s2.roomsAPI(t); rooms["lobby"] != 2 || rooms["other"] != 1 {
		t.Errorf("/api/rooms after the restart: %v; want lobby 2, other 1", rooms)
	}
}

// TestBrowserRetryNow: while the server is down the page's backoff grows to
// seconds; when the server is back, "Retry now" connects at once instead of
// waiting the countdown out. The page records when it connected, and that
// must come before the attempt the countdown announced.
func TestBrowserRetryNow(t *testing.T) {
	// Not parallel: the server comes back on the port it gave up, which a parallel test could take.
	needBrowser(t)
	s := startServer(t, nil)
	p := openPage(t, "lobby", s.url+"/")
	p.waitCount(1)
	if err := p.do(pageLoadTimeout, chromedp.Evaluate[chromedp.Void](`(() => {
	  const state = document.getElementById('state');
	  window.connectedAt = 0;
	  new MutationObserver(() => {
	    if (state.dataset.state === 'connected' && !window.connectedAt) window.connectedAt = Date.now();
	  }).observe(state, { attributes: true });
	})()`)); err != nil {
		t.Fatal(err)
	}

	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	// The backoff doubles from 0.5 s to its 10 s cap, jittered to 50–100 %:
	// a countdown of 5 s or more comes within about 16 s.
	const announced = `parseInt((/in (\d+) s/.exec(document.getElementById('retry-text').textContent) || [0, 0])[1], 10)`
	p.waitForWithin(40*time.Second, "counting down from 5 s or more", announced+" >= 5")

	startServerAt(t, s.addr(), nil)
	secs := eval[int](p, `(() => {
	  const secs = `+announced+`;
	  window.clickedAt = Date.now();
	  window.dueAt = window.clickedAt + (secs - 1) * 1000; // the countdown rounds up
	  document.getElementById('retry-now').click();
	  return secs;
	})()`)
	if secs < 2 {
		t.Fatalf("the countdown was at %d s when Retry now was clicked; the check needs at least 2 s left", secs)
	}
	p.waitCount(1)
	at := eval[map[string]float64](p, `({connected: window.connectedAt, clicked: window.clickedAt, due: window.dueAt})`)
	if at["connected"] == 0 || at["connected"] >= at["due"] {
		t.Fatalf("the page connected %.0f ms after the click, when its %d s countdown was running out: Retry now did not try at once",
			at["connected"]-at["clicked"], secs)
	}
}

// crossSitePage opens a WebSocket to the URL in its ?target= and records
// what the browser let it see.
const crossSitePage = `<!doctype html>
<title>another site</title>
<p id="result">pending</p>
<script>
  const r = document.getElementById('result');
  const ws = new WebSocket(new URLSearchParams(location.search).get('target'));
  ws.onopen = () => { r.dataset.opened = 'yes'; };
  ws.onmessage = m => { r.dataset.message = m.data; };
  ws.onerror = () => { r.dataset.error = 'yes'; };
  ws.onclose = e => { r.dataset.code = String(e.code); r.textContent = 'closed'; };
</script>`

// TestBrowserCrossSiteWebSocketRefused: a page from another origin
// (127.0.0.2, another port) that opens a WebSocket to the server is refused
// before the upgrade (cross-site WebSocket hijacking), while the server's own
// page connects.
func TestBrowserCrossSiteWebSocketRefused(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	s := startServer(t, nil)
	origin := func() float64 {
		v, _ := s.metric(t, `presence_upgrade_rejections_total{reason="origin"}`)
		return v
	}

	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.2: %v", err)
	}
	elsewhere := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, crossSitePage)
	}))
	elsewhere.Listener.Close()
	elsewhere.Listener = ln
	elsewhere.Start()
	t.Cleanup(elsewhere.Close)

	before := origin()
	evil := openPage(t, "cross-site", elsewhere.URL+"/?target="+s.wsURL+"/ws?room=lobby")
	evil.waitFor("told the socket closed", `document.getElementById('result').textContent === 'closed'`)
	got := eval[map[string]string](evil, `({...document.getElementById('result').dataset})`)
	if got["opened"] != "" || got["message"] != "" || got["code"] != "1006" || got["error"] != "yes" {
		t.Errorf("cross-site page saw %v; want an error and close 1006, never open, no message", got)
	}
	if after := origin(); after != before+1 {
		t.Errorf(`presence_upgrade_rejections_total{reason="origin"} went from %v to %v; want +1`, before, after)
	}

	own := openPage(t, "same-origin", s.url+"/")
	own.waitCount(1)
	if conns, rooms := s.roomsAPI(t); conns != 1 || rooms["lobby"] != 1 {
		t.Errorf("/api/rooms: %d connections, %v; want only the same-origin page", conns, rooms)
	}
}

// TestBrowserRoomFromURL: ?room=team-a joins team-a; the form switches a
// page to another room through the address.
func TestBrowserRoomFromURL(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	s := startServer(t, nil)
	a := openPage(t, "team-a-1", s.url+"/?room=team-a")
	b := openPage(t, "team-a-2", s.url+"/?room=team-a")
	lobby := openPage(t, "lobby", s.url+"/")
	a.waitCount(2)
	b.waitCount(2)
	lobby.waitCount(1)
	if v := a.view(); v.Room != "team-a" || !strings.Contains(v.Title, "team-a") {
		t.Errorf("page for ?room=team-a shows %s", v)
	}
	if _, rooms := s.roomsAPI(t); rooms["team-a"] != 2 || rooms["lobby"] != 1 {
		t.Errorf("/api/rooms: %v; want team-a 2, lobby 1", rooms)
	}

	if err := b.do(pageLoadTimeout, chromedp.Evaluate[chromedp.Void](`window.beforeLeaving = true`)); err != nil {
		t.Fatal(err)
	}
	b.joinWithForm("team-b", false)
	b.waitCount(1)
	if v := b.view(); v.Room != "team-b" || !strings.HasSuffix(v.URL, "/?room=team-b") {
		t.Errorf("after the form: %s; want room team-b in the address", v)
	}
	a.waitCount(1)

	// Back to team-a: the page comes back (from the back/forward cache, or
	// loaded anew) and counts again, and team-b is empty.
	if err := b.do(pageLoadTimeout, chromedp.Evaluate[chromedp.Void](`history.back()`)); err != nil {
		t.Fatalf("history.back: %v", err)
	}
	b.waitFor("back in team-a", `location.search === '?room=team-a' && document.getElementById('state').dataset.state === 'connected' && document.getElementById('count').textContent === '2'`)
	a.waitCount(2)
	if eval[bool](b, `window.beforeLeaving === true`) {
		t.Logf("back: the page came back from the back/forward cache and reconnected")
	} else {
		t.Logf("back: the page was loaded anew")
	}
	wstest.Eventually(t, pageWaitTimeout, func() (bool, string) {
		_, rooms := s.roomsAPI(t)
		return rooms["team-a"] == 2 && rooms["team-b"] == 0 && rooms["lobby"] == 1, fmt.Sprintf("/api/rooms: %v; want team-a 2, lobby 1", rooms)
	})
}

// joinWithForm types a room name into the form and submits it with a click
// (or a tap), then waits for the new page to load.
func (p *page) joinWithForm(room string, tap bool) {
	p.t.Helper()
	submit := chromedp.Click(chromedp.CSS("#switch button"))
	if tap {
		submit = chromedp.Tap(chromedp.CSS("#switch button"))
	}
	ctx, cancel := context.WithTimeout(p.ctx, pageLoadTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("room-input"), room)); err != nil {
		p.t.Fatalf("%s: type %q: %v", p.name, room, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, submit)); err != nil {
		p.t.Fatalf("%s: submit %q: %v", p.name, room, err)
	}
}

// TestBrowserBadRoomName: a room name the server would refuse is explained
// on the page, with a name that works offered in the form; nothing is sent.
func TestBrowserBadRoomName(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	s := startServer(t, nil)
	long := strings.Repeat("a", 65)
	cases := []struct {
		name, query, says, suggests string
	}{
		{"space", "bad%20name", `Cannot join “bad name”. Room names are 1 to 64 of A-Z, a-z, 0-9, ".", "_" and "-"; this one contains a space.`, "bad-name"},
		{"too-long", long, `Cannot join “` + long + `”. Room names are 1 to 64 of A-Z, a-z, 0-9, ".", "_" and "-"; this one is 65 characters long.`, long[:64]},
		{"slash", "a%2Fb", `this one contains "/".`, "a-b"},
	}
	for _, c := range cases {
		p := openPage(t, c.name, s.url+"/?room="+c.query)
		p.waitFor("showing a problem", `!document.getElementById('problem').hidden`)
		v := p.view()
		if !strings.Contains(v.Problem, c.says) || v.State != "closed" || v.StateText != "Disconnected" {
			t.Errorf("%s: page shows %s; want state closed and a problem saying %q", c.name, v, c.says)
		}
		hidden := eval[bool](p, `document.getElementById('room').hidden && document.getElementById('history').hidden`)
		input := eval[string](p, `document.getElementById('room-input').value`)
		focused := eval[bool](p, `document.activeElement === document.getElementById('room-input')`)
		if !hidden || input != c.suggests || !focused {
			t.Errorf("%s: count hidden %v, input %q (focused %v); want the count hidden and %q offered in the focused input",
				c.name, hidden, input, focused, c.suggests)
		}
	}
	if v, _ := s.metric(t, `presence_upgrade_rejections_total{reason="bad_room"}`); v != 0 || s.app.edge.Connections() != 0 {
		t.Errorf("bad names reached the server: %v bad_room rejections, %d connections", v, s.app.edge.Connections())
	}

	// The offered name works.
	p := openPage(t, "fixed", s.url+"/?room=bad%20name")
	p.waitFor("showing a problem", `!document.getElementById('problem').hidden`)
	p.joinWithForm("bad-name", false)
	p.waitCount(1)
	if v := p.view(); v.Room != "bad-name" || v.Problem != "" {
		t.Errorf("after joining the offered name: %s", v)
	}
}

// TestBrowserPhoneLayout: on phone-sized screens (320 and 390 px wide, touch)
// the page fits the width with the longest room name, its controls are big
// enough to tap, and a tap on Join switches rooms.
func TestBrowserPhoneLayout(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	s := startServer(t, nil)
	room := strings.Repeat("w", 64) // the longest name, in a wide letter
	for _, width := range []int64{320, 390} {
		p := openPage(t, fmt.Sprintf("phone-%d", width), s.url+"/?room="+room,
			chromedp.EmulateViewport(width, 740, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2)))
		p.waitCount(1)
		layout := eval[map[string]float64](p, `(() => {
			const r = id => document.getElementById(id).getBoundingClientRect();
			const card = document.querySelector('.card').getBoundingClientRect();
			const button = document.querySelector('#switch button').getBoundingClientRect();
			return {
				viewport: innerWidth, scrollWidth: document.documentElement.scrollWidth,
				cardLeft: card.left, cardRight: card.right,
				countHeight: r('count').height, countBottom: r('count').bottom, viewportHeight: innerHeight,
				inputHeight: r('room-input').height, buttonHeight: button.height, buttonRight: button.right,
			};
		})()`)
		w := float64(width) // a mobile viewport grows to fit content that is too wide
		if layout["viewport"] != w || layout["scrollWidth"] > w || layout["cardLeft"] < 0 || layout["cardRight"] > w ||
			layout["buttonRight"] > w {
			t.Errorf("%d px: the page is wider than the screen: %v", width, layout)
		}
		if layout["countBottom"] > layout["viewportHeight"] || layout["countHeight"] < 60 {
			t.Errorf("%d px: the count is not large and visible without scrolling: %v", width, layout)
		}
		if layout["inputHeight"] < 44 || layout["buttonHeight"] < 44 {
			t.Errorf("%d px: the form's controls are smaller than a 44 px tap target: %v", width, layout)
		}
		if width == 320 {
			p.joinWithForm("on-the-go", true)
			p.waitCount(1)
			if v := p.view(); v.Room != "on-the-go" {
				t.Errorf("after tapping Join: %s", v)
			}
		}
	}
}

// screenshotEnv names a file to write the page's screenshot to (the README
// embeds docs/page.png, made with PRESENCE_SCREENSHOT=docs/page.png).
const screenshotEnv = "PRESENCE_SCREENSHOT"

// TestBrowserScreenshot builds a known state — 3 people in lobby, after the
// count went 1, 2, 3, 4, 5, 4, 3 — checks what the page shows, and writes a
// screenshot of it when PRESENCE_SCREENSHOT names a file.
func TestBrowserScreenshot(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	s := startServer(t, nil)
	viewer := openPage(t, "viewer", s.url+"/",
		chromedp.EmulateViewport(760, 860),
		emulateMedia(map[string]string{"prefers-color-scheme": "dark", "prefers-reduced-motion": "reduce"}))
	viewer.waitCount(1)
	var others []*page
	for i := range 4 {
		others = append(others, openPage(t, fmt.Sprintf("other-%d", i), s.url+"/"))
		viewer.waitCount(i + 2)
	}
	others[3].close()
	viewer.waitCount(4)
	others[2].close()
	viewer.waitCount(3)

	v := viewer.view()
	if !strings.HasSuffix(v.Counts, ": 1, 2, 3, 4, 5, 4, 3") || v.Note != "You and 2 other people." || v.Title != "(3) lobby · Live presence" {
		t.Errorf("viewer shows %s", v)
	}
	changes := eval[[]string](viewer, `[...document.querySelectorAll('#changes li')].map(li =>
		li.querySelector('.what').textContent + ' → ' + li.querySelector('.n').textContent)`)
	want := []string{"1 left → 3", "1 left → 4", "1 joined → 5", "1 joined → 4", "1 joined → 3", "1 joined → 2"}
	if strings.Join(changes, "|") != strings.Join(want, "|") {
		t.Errorf("latest changes %q; want %q", changes, want)
	}

	shot, err := viewer.screenshot()
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil || img.Bounds().Dx() != 760 || img.Bounds().Dy() < 860 {
		t.Fatalf("screenshot is not a 760×860 PNG: %v, %v", err, img.Bounds())
	}
	if file := os.Getenv(screenshotEnv); file != "" {
		if err := os.WriteFile(file, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote the screenshot to %s", file)
	}
}

// TestBrowserReadmeClientExample runs the README's client.js example as it
// is written, in a page of the server's own origin, and reads its console.
func TestBrowserReadmeClientExample(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "## The browser client")
	_, rest, ok2 := strings.Cut(rest, "```html\n")
	example, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no html example under \"## The browser client\"")
	}

	// The example's page and the server on one origin: the server's routes,
	// plus the example at /example.
	s := startServer(t, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /example", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html>\n<title>example</title>\n"+example)
	})
	mux.Handle("/", s.app.http.Handler)
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)

	p := openPage(t, "example", site.URL+"/example")
	wstest.Eventually(t, pageWaitTimeout, func() (bool, string) { return p.consoleHas("log: connected") })
	wstest.Eventually(t, pageWaitTimeout, func() (bool, string) { return p.consoleHas("log: 1 people in lobby") })
	other := openPage(t, "page", site.URL+"/")
	other.waitCount(2)
	wstest.Eventually(t, pageWaitTimeout, func() (bool, string) { return p.consoleHas("log: 2 people in lobby") })

	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	wstest.Eventually(t, pageWaitTimeout, func() (bool, string) { return p.consoleHas("log: disconnected 1001 reconnecting: true") })
}
