package wstest

import (
	"fmt"
	"slices"
	"time"

	"github.com/gobwas/ws"
)

// NoStatus is State.CloseCode for a close frame without a status code
// (RFC 6455 §7.1.5: "no status code was actually present").
const NoStatus = ws.StatusNoStatusRcvd

// State is everything the server has sent a Client so far, in order.
type State struct {
	Counts []Count  // "user count" events (unless RawText)
	Errors []Error  // "error" events (unless RawText)
	Texts  [][]byte // text messages as they came (only with RawText)
	Pongs  [][]byte // pong payloads

	CloseSeen    bool          // the server sent a close frame
	CloseCode    ws.StatusCode // its code: NoStatus without one, 0 for a malformed one (or none yet)
	ClosePayload []byte

	SeqProblem string   // the first count whose seq was not above the one before; "" if none
	Problems   []string // every violation found, each also reported to t

	Ended bool  // the connection is over (Done is closed just after)
	Err   error // why reading ended
}

// Snapshot returns a copy of the state, safe to keep.
func (c *Client) Snapshot() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.st
	s.Counts = slices.Clone(s.Counts)
	s.Errors = slices.Clone(s.Errors)
	s.Texts = slices.Clone(s.Texts)
	s.Pongs = slices.Clone(s.Pongs)
	s.Problems = slices.Clone(s.Problems)
	return s
}

// Last returns the last count the server sent, and whether there was one.
func (c *Client) Last() (Count, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.st.Counts); n > 0 {
		return c.st.Counts[n-1], true
	}
	return Count{}, false
}

// CloseCode is the code of the server's close frame: 0 if none came.
func (c *Client) CloseCode() ws.StatusCode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.CloseCode
}

// Errors returns the error events so far.
func (c *Client) Errors() []Error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.st.Errors)
}

// SeqProblem describes the first count whose seq did not rise; "" if none.
func (c *Client) SeqProblem() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.SeqProblem
}

// ForgetCounts drops all but the last count: for a long test (the soak)
// whose own memory would otherwise grow with the counts its steady members
// record, and hide the server's. The seq check goes on from the last count.
func (c *Client) ForgetCounts() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.st.Counts); n > 1 {
		c.st.Counts = slices.Clone(c.st.Counts[n-1:])
	}
}

// Await waits until cond holds, at most within, and reports whether it
// does. It wakes on every change of the state, not on a timer. cond runs
// with the client's lock held: it must only read s, not keep it, and not
// call the client's methods.
func (c *Client) Await(within time.Duration, cond func(s *State) bool) bool {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		ok, changed := cond(&c.st), c.changed
		c.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-deadline.C:
			c.mu.Lock()
			defer c.mu.Unlock()
			return cond(&c.st)
		}
	}
}

// AllShow reports whether every client's last count is want, and names one
// that does not: a condition for Eventually.
func AllShow(clients []*Client, want int) (bool, string) {
	for i, c := range clients {
		last, ok := c.Last()
		if !ok {
			return false, fmt.Sprintf("client %d has no count (want %d)", i, want)
		}
		if last.CurrentUsers != want {
			return false, fmt.Sprintf("client %d shows %d, want %d", i, last.CurrentUsers, want)
		}
	}
	return true, ""
}

// update changes the state under the lock and wakes every Await.
func (c *Client) update(f func(s *State)) {
	c.mu.Lock()
	f(&c.st)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// problemLocked records a violation and reports it to t. The lock is held.
func (c *Client) problemLocked(s *State, format string, args ...any) {
	p := fmt.Sprintf(format, args...)
	s.Problems = append(s.Problems, p)
	if c.t != nil {
		c.t.Errorf("%s: the server sent %s", c.name, p)
	}
}
