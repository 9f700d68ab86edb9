package actors

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"presence/internal/leave"

	"presence/internal/wstest"
)

// fakeSocket is a Socket with no network: it records what the Member writes,
// checks every count's seq against the one before, and ends its reading when
// the test says the peer left or the Member closes it.
type fakeSocket struct {
	mu        sync.Mutex
	counts    []wstest.Count // every "user count" written, in order
	written   []time.Time    // when each of those was written
	errors    []wstest.Error // every "error" event written
	seqBroken string         // first seq that was not above the previous one
	closed    bool
	closeCode uint16

	// writeHook, when set, runs before each write is recorded; it may block
	// (a slow client) or fail (a dead one).
	writeHook func(frame []byte) error

	inbound chan []byte
	ended   chan struct{}
	endOnce sync.Once
	endErr  error
	starts  atomic.Int32 // times Start was called: a restarted Member would call it again
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
	// The payload is decoded by the test kit, never by wire.go, so that a
	// bug in the encoder fails the test instead of being read back by it.
	ev, err := wstest.DecodeEvent(frame)
	if err != nil {
		panic(fmt.Sprintf("fake socket: %v", err)) // the Member fails, and the test with it
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch ev.Name {
	case wstest.EventCount:
		c := ev.Count
		if n := len(s.counts); n > 0 && c.Seq <= s.counts[n-1].Seq && s.seqBroken == "" {
			s.seqBroken = fmt.Sprintf("seq %d after %d", c.Seq, s.counts[n-1].Seq)
		}
		s.counts = append(s.counts, c)
		s.written = append(s.written, time.Now())
	case wstest.EventError:
		s.errors = append(s.errors, ev.Error)
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

// Start reads on a goroutine of its own, like the goroutine transport.
func (s *fakeSocket) Start(onText func([]byte), onEnd func(error)) {
	s.starts.Add(1)
	go func() {
		for {
			select {
			case m := <-s.inbound:
				onText(m)
			case <-s.ended:
				onEnd(s.endErr)
				return
			}
		}
	}()
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
func (s *fakeSocket) last() (wstest.Count, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.counts) == 0 {
		return wstest.Count{}, false
	}
	return s.counts[len(s.counts)-1], true
}

func (s *fakeSocket) history() []wstest.Count {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]wstest.Count(nil), s.counts...)
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
