package wstest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Engine.IO v4 long-polling, driven by hand: a test sends each request
// itself and reads the status and body the server answers, so that every
// row of the protocol's tables can be played, including the wrong ones.
// Like the rest of the kit it decodes with its own code (the open packet
// with encoding/json, payloads split on \x1e), never the server's.

// EIOOpen is the payload of Engine.IO's open packet.
type EIOOpen struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

// EIOError is the JSON body of a refused Engine.IO request.
type EIOError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Polling is one long-polling session of a test.
type Polling struct {
	t    testing.TB
	Base string // http://host:port/socket.io/?EIO=4&transport=polling
	Open EIOOpen
}

// Response is one answer of the server.
type Response struct {
	Status int
	Body   string
	Header http.Header
}

// Packets splits a long-polling body into its packets.
func (r Response) Packets() []string { return strings.Split(r.Body, "\x1e") }

// Error decodes an Engine.IO error body; ok is false if it is not one.
func (r Response) Error() (e EIOError, ok bool) {
	err := json.Unmarshal([]byte(r.Body), &e)
	return e, err == nil && e.Message != ""
}

// EIORequest sends one request and returns the answer; the test fails if the
// server does not answer within timeout. Connections are not kept alive:
// every request is its own, as a test of one row expects.
func EIORequest(t testing.TB, method, url, body string, header http.Header, timeout time.Duration) Response {
	t.Helper()
	r, err := EIODo(context.Background(), method, url, body, header, timeout)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

// EIODo is EIORequest returning its error, for loops that must not stop the
// test (the soak), and for requests a test cancels with ctx.
func EIODo(ctx context.Context, method, url, body string, header http.Header, timeout time.Duration) (Response, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: resp.StatusCode, Body: string(b), Header: resp.Header}, nil
}

// OpenPolling performs the long-polling handshake at server (http://host:port)
// with extra query (e.g. "&room=team-a") and fails the test unless it gets
// an open packet.
func OpenPolling(t testing.TB, server, query string) *Polling {
	t.Helper()
	p, err := TryOpenPolling(t, server, query)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TryOpenPolling is OpenPolling returning its error instead of failing t.
func TryOpenPolling(t testing.TB, server, query string) (*Polling, error) {
	base := server + "/socket.io/?EIO=4&transport=polling" + query
	r, err := EIODo(context.Background(), http.MethodGet, base, "", nil, DefaultTimeout)
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Body, "0") {
		return nil, fmt.Errorf("handshake: %d %q, want 200 and an open packet", r.Status, r.Body)
	}
	p := &Polling{t: t, Base: base}
	if err := json.Unmarshal([]byte(r.Body[1:]), &p.Open); err != nil || p.Open.SID == "" {
		return nil, fmt.Errorf("open packet %q: %v", r.Body, err)
	}
	return p, nil
}

// URL is the session's address for polls and posts.
func (p *Polling) URL() string { return p.Base + "&sid=" + p.Open.SID }

// WSURL is the address of the session's upgrade WebSocket.
func (p *Polling) WSURL() string {
	return strings.Replace(strings.Replace(p.URL(), "transport=polling", "transport=websocket", 1), "http://", "ws://", 1)
}

// Get polls once, waiting up to within for the answer.
func (p *Polling) Get(within time.Duration) Response {
	p.t.Helper()
	return EIORequest(p.t, http.MethodGet, p.URL(), "", nil, within)
}

// GetAsync starts a poll and returns a channel for its answer (an error as
// a Response with Status 0 and the error as Body), and a func that cancels
// it as a client that goes away would.
func (p *Polling) GetAsync(within time.Duration) (<-chan Response, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan Response, 1)
	go func() {
		r, err := EIODo(ctx, http.MethodGet, p.URL(), "", nil, within)
		if err != nil {
			r = Response{Body: err.Error()}
		}
		out <- r
	}()
	return out, cancel
}

// Post sends packets, joined with \x1e, as one POST.
func (p *Polling) Post(packets ...string) Response {
	p.t.Helper()
	return EIORequest(p.t, http.MethodPost, p.URL(), strings.Join(packets, "\x1e"), nil, DefaultTimeout)
}

// Await polls until a poll's packets satisfy cond (pings are answered and
// left out), and returns every packet seen; it fails the test after within.
func (p *Polling) Await(within time.Duration, what string, cond func(packets []string) bool) []string {
	p.t.Helper()
	var seen []string
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		r := p.Get(time.Until(deadline))
		if r.Status != http.StatusOK {
			p.t.Fatalf("waiting for %s: poll answered %d %q (seen %q)", what, r.Status, r.Body, seen)
		}
		for _, pkt := range r.Packets() {
			if pkt == "2" {
				p.Post("3")
				continue
			}
			seen = append(seen, pkt)
		}
		if cond(seen) {
			return seen
		}
	}
	p.t.Fatalf("no %s within %s (seen %q)", what, within, seen)
	return nil
}

// SIOCount decodes Socket.IO's 42["user count",N,{"room":…,"seq":…}].
func SIOCount(packet string) (Count, error) {
	rest, ok := strings.CutPrefix(packet, "42")
	if !ok {
		return Count{}, fmt.Errorf("not an event packet: %q", packet)
	}
	var args []json.RawMessage
	if err := json.Unmarshal([]byte(rest), &args); err != nil || len(args) != 3 {
		return Count{}, fmt.Errorf("want [\"user count\",N,{…}]: %q", packet)
	}
	var name string
	var c Count
	var extra struct {
		Room string `json:"room"`
		Seq  uint64 `json:"seq"`
	}
	if json.Unmarshal(args[0], &name) != nil || name != EventCount ||
		json.Unmarshal(args[1], &c.CurrentUsers) != nil || json.Unmarshal(args[2], &extra) != nil {
		return Count{}, fmt.Errorf("want [\"user count\",N,{\"room\",\"seq\"}]: %q", packet)
	}
	c.Room, c.Seq = extra.Room, extra.Seq
	return c, nil
}
