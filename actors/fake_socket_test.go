package actors

import (
	"encoding/json"
	"fmt"
	"presence/internal/leave"
	"sync"
	"sync/atomic"
	"time"
)

// fakeSocket is a Socket with no network: it records what the Conn writes,
// checks every count's seq against the one before, and ends its ReadLoop when
// the test says the peer left or the Conn closes it.
type fakeSocket struct {
	mu        sync.Mutex
	counts    []countData // every "user count" written, in order
	written   []time.Time // when each of those was written
	errors    []errorData // every "error" event written
	seqBroken string      // first seq that was not above the previous one
	closed    bool
	closeCode uint16

	// writeHook, when set, runs before each write is recorded; it may block
	// (a slow client) or fail (a dead one).
	writeHook func(frame []byte) error

	inbound   chan []byte
	ended     chan struct{}
	endOnce   sync.Once
	endErr    error
	readLoops atomic.Int32
}

// leaveErr is what a socket reports when it ends: an error carrying a reason.
type leaveErr string

func (e leaveErr) Error() string             { return "left: " + string(e) }
func (e leaveErr) LeaveReason() leave.Reason { return leave.Reason(e) }

func newFakeSocket() *fakeSocket {
	return &fakeSocket{inbound: make(chan []byte, 16), ended: make(chan struct{})}
}

func (s *fakeSocket) WriteFrame(frame []byte) error {
	if s.writeHook != nil {
		if err := s.writeHook(frame); err != nil {
			return err
		}
	}
	var ev struct {
		Event string          `json:"event"`
		Data  json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(frame, &ev); err != nil {
		panic(fmt.Sprintf("fake socket got a frame that is not JSON: %q", frame))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch ev.Event {
	case EventUserCount:
		var c countData
		_ = json.Unmarshal(ev.Data, &c)
		if n := len(s.counts); n > 0 && c.Seq <= s.counts[n-1].Seq && s.seqBroken == "" {
			s.seqBroken = fmt.Sprintf("seq %d after %d", c.Seq, s.counts[n-1].Seq)
		}
		s.counts = append(s.counts, c)
		s.written = append(s.written, time.Now())
	case "error":
		var e errorData
		_ = json.Unmarshal(ev.Data, &e)
		s.errors = append(s.errors, e)
	}
	return nil
}

func (s *fakeSocket) Close(code uint16, _ string) {
	s.mu.Lock()
	if !s.closed {
		s.closed, s.closeCode = true, code
	}
	s.mu.Unlock()
	s.end(leaveErr("server_close"))
}

func (s *fakeSocket) ReadLoop(onText func([]byte)) error {
	s.readLoops.Add(1)
	for {
		select {
		case m := <-s.inbound:
			onText(m)
		case <-s.ended:
			return s.endErr
		}
	}
}

// leave simulates the peer going away for reason.
func (s *fakeSocket) leave(reason string) { s.end(leaveErr(reason)) }

func (s *fakeSocket) end(err error) {
	s.endOnce.Do(func() {
		s.endErr = err
		close(s.ended)
	})
}

// last returns the last count written, and whether there was one.
func (s *fakeSocket) last() (countData, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.counts) == 0 {
		return countData{}, false
	}
	return s.counts[len(s.counts)-1], true
}

func (s *fakeSocket) history() []countData {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]countData(nil), s.counts...)
}

// writeTimes returns when each count was written.
func (s *fakeSocket) writeTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.written...)
}

func (s *fakeSocket) closedWith() (bool, uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed, s.closeCode
}

func (s *fakeSocket) seqProblem() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seqBroken
}
