package actors

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"presence/internal/leave"

	"presence/internal/wstest"
)

// TestMemberPanicStopsOnlyThatMember: a Member that panics is stopped, never
// restarted; its socket is closed with 1011, it leaves the room, and the
// other members see the new count and stay connected.
func TestMemberPanicStopsOnlyThatMember(t *testing.T) {
	t.Parallel()
	obs := &recordingObserver{}
	tr := newTree(t, Options{Observer: obs})
	members := tr.joinAll("lobby", 5)

	var armed atomic.Bool
	victim := tr.joinHooked("lobby", func([]byte) error {
		if armed.Load() {
			panic("injected conn panic")
		}
		return nil
	})
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged(append(members, victim), 6) })

	armed.Store(true)
	extra := tr.join("lobby") // the next flush makes the victim's Member write, and panic
	members = append(members, extra)

	wstest.Eventually(t, 5*time.Second, func() (bool, string) {
		closed, code := victim.closedWith()
		return closed && code == CloseInternalError, fmt.Sprintf("victim closed=%v code=%d", closed, code)
	})
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged(members, 6) })
	if got := tr.count("lobby").Users; got != 6 {
		t.Fatalf("room counts %d, want 6", got)
	}
	if n := victim.starts.Load(); n != 1 {
		t.Fatalf("the failed Member's socket was started %d times: it was restarted", n)
	}
	for i, m := range members {
		if closed, _ := m.closedWith(); closed {
			t.Fatalf("member %d was closed by another member's panic", i)
		}
	}
	if got := obs.left("crash"); got != 1 {
		t.Fatalf("leaves with reason crash = %d, want 1", got)
	}
}

// TestRoomPanicKeepsMembers: a Room that panics, once while a member goes
// live and once while it flushes, is resumed: nobody is disconnected, and the
// count that reaches everyone is still exact.
func TestRoomPanicKeepsMembers(t *testing.T) {
	t.Parallel()
	obs := &recordingObserver{}
	tr := newTree(t, Options{Observer: obs})
	members := tr.joinAll("lobby", 4)

	obs.panicOnJoined.Store(1) // the Room panics handling the next MemberStarted
	members = append(members, tr.join("lobby"))
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged(members, 5) })

	obs.panicOnFlushed.Store(1) // … and then in the middle of a flush
	members = append(members, tr.join("lobby"))
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged(members, 6) })

	members[0].leave("close_frame")
	members = members[1:]
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged(members, 5) })

	if got := tr.count("lobby").Users; got != 5 {
		t.Fatalf("room counts %d, want 5", got)
	}
	for i, m := range members {
		if closed, _ := m.closedWith(); closed {
			t.Fatalf("member %d was disconnected by the Room's failure", i)
		}
		if p := m.seqProblem(); p != "" {
			t.Fatalf("member %d saw %s", i, p)
		}
	}
	if obs.panicOnJoined.Load() != 0 || obs.panicOnFlushed.Load() != 0 {
		t.Fatal("an injected panic did not happen")
	}
}

// TestRoomThatKeepsFailingLosesNoSocket: a Room that fails on every member
// going live is stopped once past its failure budget, with joins still on
// their way to it (protoactor drops what is left in a stopped actor's
// mailbox). No socket may be lost between the actors: each one ends either
// closed with 1001 (its Member or its join met the stopping Room; the client
// reconnects) or seated in a Room, its read loop running.
func TestRoomThatKeepsFailingLosesNoSocket(t *testing.T) {
	t.Parallel()
	obs := &recordingObserver{}
	obs.panicOnJoined.Store(1 << 30) // every member going live fails its Room
	tr := newTree(t, Options{Observer: obs})
	stopped := func() bool { return obs.left(leave.Shutdown) > 0 } // a stopped Room stops its Members

	// Join in batches while the Room fails, until it has been stopped and ten
	// batches beyond, so that joins meet it in every state. Each batch must
	// come out of limbo: every socket closed, or seated with its read loop
	// running.
	var sockets []*fakeSocket
	for extra := 10; extra > 0; {
		if len(sockets) >= 20_000 {
			t.Fatalf("%d joins and the Room was never stopped", len(sockets))
		}
		batch := make([]*fakeSocket, 20)
		for i := range batch {
			batch[i] = tr.join("doomed")
		}
		sockets = append(sockets, batch...)
		wstest.Eventually(t, 10*time.Second, func() (bool, string) {
			limbo := 0
			for _, s := range batch {
				if closed, _ := s.closedWith(); !closed && s.starts.Load() == 0 {
					limbo++
				}
			}
			return limbo == 0, fmt.Sprintf("%d of a batch of %d sockets neither closed nor read (after %d joins)", limbo, len(batch), len(sockets))
		})
		if stopped() {
			extra--
		}
	}
	for i, s := range sockets {
		if closed, code := s.closedWith(); closed && code != CloseGoingAway {
			t.Fatalf("socket %d closed with %d, want 1001", i, code)
		}
	}
}

// TestBlockedWriteDoesNotDelayOthers: a member whose write blocks (a client
// that stopped reading) holds up nobody; when its write times out it is
// dropped, and it never gets a count after that.
func TestBlockedWriteDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	obs := &recordingObserver{}
	tr := newTree(t, Options{Observer: obs})
	members := tr.joinAll("lobby", 3)

	release := make(chan struct{})
	var writes atomic.Int32
	stuck := tr.joinHooked("lobby", func([]byte) error {
		if writes.Add(1) == 1 {
			return nil // its first count goes through
		}
		<-release // then the client stops reading: the write blocks until the deadline
		return leaveErr("write_timeout")
	})
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged(append(members, stuck), 4) })

	// The stuck member's next write blocks; the others carry on through
	// several changes.
	more := []*fakeSocket{tr.join("lobby"), tr.join("lobby")}
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged(append(members, more...), 6) })
	more[0].leave("eof")
	others := append(members, more[1])
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged(others, 5) })
	if writes.Load() < 2 {
		t.Fatal("the stuck member never tried its second write")
	}

	close(release) // the write "times out"
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged(others, 4) })
	wstest.Eventually(t, 5*time.Second, func() (bool, string) {
		closed, _ := stuck.closedWith()
		return closed, "the stuck socket was not closed"
	})
	if got := len(stuck.history()); got != 1 {
		t.Fatalf("the stuck member recorded %d counts, want only its first", got)
	}
	if obs.slow.Load() != 1 || obs.left("write_timeout") != 1 {
		t.Fatalf("slow consumer drops %d, write_timeout leaves %d; want 1 and 1", obs.slow.Load(), obs.left("write_timeout"))
	}
}

// TestSlowMemberGetsOnlyTheNewestCount: a member whose write is slow but
// finishes writes only the newest count afterwards, never the stale ones that
// queued up meanwhile.
func TestSlowMemberGetsOnlyTheNewestCount(t *testing.T) {
	t.Parallel()
	tr := newTree(t, Options{})
	members := tr.joinAll("lobby", 2)

	release := make(chan struct{})
	var writes atomic.Int32
	slow := tr.joinHooked("lobby", func([]byte) error {
		if writes.Add(1) == 2 {
			<-release // the second write is slow
		}
		return nil
	})
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged(append(members, slow), 3) })

	// Four more joins, one flush interval apart, while the slow write hangs.
	for want := 4; want <= 7; want++ {
		members = append(members, tr.join("lobby"))
		wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged(members, want) })
	}
	close(release)
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged([]*fakeSocket{slow}, 7) })

	var got []int
	for _, c := range slow.history() {
		got = append(got, c.CurrentUsers)
	}
	// 3 (its first), 4 (the slow write, already under way), then straight to 7.
	if fmt.Sprint(got) != "[3 4 7]" {
		t.Fatalf("the slow member wrote counts %v, want [3 4 7]", got)
	}
}

// TestUnusableMessagesGetErrorsThenClose: each client message is answered
// with an error event; past the budget the socket is closed with 1008.
func TestUnusableMessagesGetErrorsThenClose(t *testing.T) {
	t.Parallel()
	tr := newTree(t, Options{MaxBadMessages: 3})
	members := tr.joinAll("lobby", 2)
	s := members[0]

	s.inbound <- []byte(`not json`)
	s.inbound <- []byte(`{"event":"dance","data":1}`)
	wstest.Eventually(t, 5*time.Second, func() (bool, string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.errors) == 2, fmt.Sprintf("errors so far: %+v", s.errors)
	})
	s.mu.Lock()
	codes := []string{s.errors[0].Code, s.errors[1].Code}
	s.mu.Unlock()
	if codes[0] != ErrCodeBadJSON || codes[1] != ErrCodeUnknownEvent {
		t.Fatalf("error codes %v, want [%s %s]", codes, ErrCodeBadJSON, ErrCodeUnknownEvent)
	}
	if closed, _ := s.closedWith(); closed {
		t.Fatal("closed after two bad messages; the budget is three")
	}

	s.inbound <- []byte(`[]`)
	s.inbound <- []byte(`{}`)
	wstest.Eventually(t, 5*time.Second, func() (bool, string) {
		closed, code := s.closedWith()
		return closed && code == ClosePolicy, fmt.Sprintf("closed=%v code=%d", closed, code)
	})
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged(members[1:], 1) })
}

// TestWriteErrorLeavesWithItsReason: a socket whose write fails leaves with
// the reason the error carries.
func TestWriteErrorLeavesWithItsReason(t *testing.T) {
	t.Parallel()
	obs := &recordingObserver{}
	tr := newTree(t, Options{Observer: obs})
	tr.joinHooked("lobby", func([]byte) error { return fmt.Errorf("write: %w", leaveErr("eof")) })
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return obs.left("eof") == 1, "no eof leave yet" })
	if got := tr.count("lobby").Users; got != 0 {
		t.Fatalf("room counts %d after its only member failed, want 0", got)
	}
	if leave.Of(errors.New("plain")) != leave.Unknown {
		t.Fatal("an error without a reason should leave as unknown")
	}
}
