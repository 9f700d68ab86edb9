package main

// The real-browser harness: one headless Chromium per test binary, shared
// by the browser tests, each page in a tab of its own browser context (like
// a separate incognito window, so pages share no cookies or cache). The
// browser starts on first use and is closed by TestMain after every test,
// before goleak looks for leftover goroutines.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// browserTestsEnv set to "required" turns a missing Chromium from a skip
// into a failure; test.sh sets it, so CI cannot pass without the browser.
const browserTestsEnv = "PRESENCE_BROWSER_TESTS"

// Deadlines of the browser harness. They bound waits, they are not speed
// goals: a page usually meets them in milliseconds.
const (
	pageLoadTimeout = 20 * time.Second
	pageWaitTimeout = 15 * time.Second
	evalAttempt     = 2 * time.Second // one evaluation within waitFor
)

// shared is the one browser process of the test binary.
var shared struct {
	once        sync.Once
	ctx         context.Context // the browser's first tab; new tabs are its children
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	dataDir     string
	err         error
}

// chromiumEnv names another browser binary to drive (any Chromium or Chrome).
const chromiumEnv = "PRESENCE_CHROMIUM"

// findChromium returns the path of Debian's Chromium (or of $PRESENCE_CHROMIUM),
// or an error that says how to install it.
func findChromium() (string, error) {
	names := []string{"/usr/bin/chromium", "chromium", "chromium-browser"}
	if p := os.Getenv(chromiumEnv); p != "" {
		names = []string{p}
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium at %s: install it with `apt-get install -y chromium` (./test.sh does)", strings.Join(names, ", "))
}

// needBrowser returns the shared browser, starting it on first use. Without
// Chromium it skips the test, or fails it when PRESENCE_BROWSER_TESTS=required.
func needBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := findChromium()
	if err != nil {
		if os.Getenv(browserTestsEnv) == "required" {
			t.Fatalf("%v; %s=required makes the browser tests mandatory", err, browserTestsEnv)
		}
		t.Skipf("%v; set %s=required to make this a failure", err, browserTestsEnv)
	}
	shared.once.Do(func() { startBrowser(path) })
	if shared.err != nil {
		t.Fatalf("start %s: %v", path, shared.err)
	}
	return shared.ctx
}

// startBrowser launches Chromium headless with a fresh profile. Besides the
// project's standard flags it keeps timers and rendering running in tabs
// that are not in front, as every page of a test is a live user.
func startBrowser(path string) {
	began := time.Now()
	dir, err := os.MkdirTemp("", "presence-chromium-")
	if err != nil {
		shared.err = err
		return
	}
	shared.dataDir = dir
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(dir),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	shared.ctx, shared.cancel, shared.allocCancel = ctx, cancel, acancel
	if err := chromedp.Do(ctx); err != nil { // starts the process
		shared.err = err
		return
	}
	v, err := chromedp.CallBrowser(ctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		shared.err = err
		return
	}
	fmt.Fprintf(os.Stderr, "browser: %s, DevTools protocol %s, %s, started in %s\n",
		v.Product, v.ProtocolVersion, path, time.Since(began).Round(time.Millisecond))
}

// closeBrowser ends the shared browser and waits for its goroutines and
// process to finish. TestMain calls it after the tests.
func closeBrowser() {
	if shared.ctx == nil {
		return
	}
	ctx, cancel := context.WithTimeout(shared.ctx, 10*time.Second)
	_ = chromedp.Cancel(ctx) // closes the browser gracefully
	cancel()
	shared.cancel()
	shared.allocCancel()
	if c := chromedp.FromContext(shared.ctx); c != nil && c.Allocator != nil {
		c.Allocator.Wait()
	}
	os.RemoveAll(shared.dataDir)
}

// runThenCloseBrowser runs the tests, then closes the shared browser, so
// that goleak (TestMain) finds none of chromedp's goroutines.
type runThenCloseBrowser struct{ m *testing.M }

func (r runThenCloseBrowser) Run() int {
	code := r.m.Run()
	closeBrowser()
	return code
}

// page is one browser tab showing a URL, closed when the test ends. On a
// failed test it first saves a screenshot (see failureDir).
type page struct {
	t      *testing.T
	name   string
	ctx    context.Context
	cancel context.CancelFunc
	closed bool

	mu         sync.Mutex
	exceptions []string // uncaught JavaScript exceptions
	console    []string // console.log and the like, "log: text"
}

// pageSetup runs in a new tab before the first navigation (viewport, media).
type pageSetup = chromedp.Action[chromedp.Void]

// openPage opens url in a new tab of a new browser context and waits for it
// to load.
func openPage(t *testing.T, name, url string, setup ...pageSetup) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(needBrowser(t), chromedp.WithNewBrowserContext())
	p := &page{t: t, name: name, ctx: ctx, cancel: cancel}
	t.Cleanup(func() {
		if t.Failed() && !p.closed {
			p.saveScreenshot()
		}
		p.close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, e := range p.exceptions {
			t.Errorf("%s: uncaught JavaScript exception: %s", p.name, e)
		}
	})
	// The first run creates the tab, whose event loop lives as long as the
	// context of that run: so it gets the page's own context, and the
	// deadline is kept here instead.
	created := make(chan error, 1)
	go func() { created <- chromedp.Do(ctx, setup...) }()
	select {
	case err := <-created:
		if err != nil {
			t.Fatalf("%s: new tab: %v", name, err)
		}
	case <-time.After(pageLoadTimeout):
		t.Fatalf("%s: no new tab within %s", name, pageLoadTimeout)
	}
	go p.collectConsole(chromedp.Console(ctx))
	if err := p.do(pageLoadTimeout, chromedp.Navigate(url)); err != nil {
		t.Fatalf("%s: load %s: %v", name, url, err)
	}
	return p
}

func (p *page) collectConsole(messages func(func(chromedp.ConsoleMessage, error) bool)) {
	for m, err := range messages {
		if err != nil {
			return // the tab closed
		}
		p.mu.Lock()
		if m.IsException() {
			p.exceptions = append(p.exceptions, m.String())
		} else {
			p.console = append(p.console, m.String())
		}
		p.mu.Unlock()
	}
}

// consoleHas reports whether the page wrote line to its console.
func (p *page) consoleHas(line string) (bool, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.console {
		if l == line {
			return true, ""
		}
	}
	return false, fmt.Sprintf("%s: no %q in the console: %q", p.name, line, p.console)
}

// do runs actions in the tab within d.
func (p *page) do(d time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(p.ctx, d)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageWaitTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.name, expr, err)
	}
	return v
}

// close closes the tab (the page's WebSocket goes with it).
func (p *page) close() {
	if p.closed {
		return
	}
	p.closed = true
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	_ = chromedp.Cancel(ctx)
	p.cancel()
}

// view is what the page shows, read from its DOM.
type view struct {
	State     string `json:"state"`     // #state[data-state]: connecting, connected, reconnecting, closed
	StateText string `json:"stateText"` // the words next to the dot
	Room      string `json:"room"`
	Count     string `json:"count"`
	Note      string `json:"note"`
	Retry     string `json:"retry"`   // the reconnect line, "" when hidden
	Problem   string `json:"problem"` // the alert, "" when hidden
	Counts    string `json:"counts"`  // the sparkline's label: every count seen
	Title     string `json:"title"`
	URL       string `json:"url"`
}

const viewJS = `(() => {
  const $ = id => document.getElementById(id);
  const shown = e => e && !e.hidden ? e.textContent.trim().replace(/\s+/g, ' ') : '';
  return {
    state: $('state').dataset.state, stateText: $('state-text').textContent,
    room: $('room-name').textContent, count: $('count').textContent, note: $('count-note').textContent,
    retry: shown($('retry')), problem: shown($('problem')),
    counts: $('sparkline').getAttribute('aria-label'), title: document.title, url: location.href,
  };
})()`

func (v view) String() string {
	b, _ := json.Marshal(v)
	return string(b)
}

// view reads what the page shows now.
func (p *page) view() view {
	p.t.Helper()
	return eval[view](p, viewJS)
}

// waitFor evaluates the JavaScript predicate in the page every 20 ms until it
// holds, and fails the test with what the page shows when it does not within
// pageWaitTimeout. The loop runs here, not in the page (chromedp.Poll), on
// purpose: chromedp.Poll runs in the execution context it last saw for the
// frame, and a document restored from the back/forward cache is not one it
// learns about, so a poll there never returns. Evaluate runs in whatever
// document is current; an evaluation that fails (the page is between
// documents) counts as "not yet".
func (p *page) waitFor(what, predicate string) {
	p.t.Helper()
	p.waitForWithin(pageWaitTimeout, what, predicate)
}

// waitForWithin is waitFor with a deadline of its own, for waits that are
// long by design (a reconnect backoff growing to its cap).
func (p *page) waitForWithin(limit time.Duration, what, predicate string) {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	retry := time.NewTicker(20 * time.Millisecond)
	defer retry.Stop()
	var err error
	for {
		ctx, cancel := context.WithTimeout(p.ctx, min(time.Until(deadline), evalAttempt))
		var holds bool
		holds, err = chromedp.Run(ctx, chromedp.Evaluate[bool](predicate))
		cancel()
		if err == nil && holds {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: not %s within %s (last evaluation: %v); the page shows %s", p.name, what, limit, err, p.view())
		}
		<-retry.C
	}
}

// waitCount waits until the page is connected and shows n.
func (p *page) waitCount(n int) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("connected and showing %d", n), fmt.Sprintf(
		`document.getElementById('state').dataset.state === 'connected' && document.getElementById('count').textContent === '%d'`, n))
}

// waitState waits until the page's connection state is state.
func (p *page) waitState(state string) {
	p.t.Helper()
	p.waitFor("in state "+state, fmt.Sprintf(`document.getElementById('state').dataset.state === %q`, state))
}

// emulateMedia sets CSS media features, e.g. prefers-color-scheme: dark.
func emulateMedia(features map[string]string) pageSetup {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var fs []*emulation.MediaFeature
		for k, v := range features {
			fs = append(fs, &emulation.MediaFeature{Name: k, Value: v})
		}
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: fs})
		return err
	})
}

// screenshot returns a PNG of the viewport.
func (p *page) screenshot() ([]byte, error) {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.FullScreenshot(100))
}

// saveScreenshot writes what the page shows into failureDir and logs where.
func (p *page) saveScreenshot() {
	png, err := p.screenshot()
	if err != nil {
		p.t.Logf("%s: no screenshot: %v", p.name, err)
		return
	}
	file := filepath.Join(failureDir(p.t), safeName(p.name)+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		p.t.Logf("%s: no screenshot: %v", p.name, err)
		return
	}
	p.t.Logf("%s: screenshot of the failure: %s", p.name, file)
}

var failureDirs sync.Map // test name → directory

// failureDir is where a failed test's screenshots go. With -artifacts it is
// the test's artifact directory under -outputdir; otherwise a directory in
// the temporary directory named after the test, kept after the run (unlike
// t.TempDir, which is deleted when the test ends, screenshot and all).
func failureDir(t *testing.T) string {
	if d, ok := failureDirs.Load(t.Name()); ok {
		return d.(string)
	}
	var dir string
	if f := flag.Lookup("test.artifacts"); f != nil && f.Value.String() == "true" {
		dir = t.ArtifactDir()
	} else {
		d, err := os.MkdirTemp("", "presence-"+safeName(t.Name())+"-")
		if err != nil {
			d = os.TempDir()
		}
		dir = d
	}
	failureDirs.Store(t.Name(), dir)
	return dir
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
