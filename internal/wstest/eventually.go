package wstest

import (
	"testing"
	"time"
)

// PollInterval is how often Poll and Eventually check their condition:
// often enough that a wait ends a few milliseconds after its condition comes
// true, rarely enough that conditions which fetch /metrics, ask an actor or
// walk hundreds of clients do not load the CPU the tests share.
const PollInterval = 5 * time.Millisecond

// Poll checks cond at once and then every PollInterval until it holds or
// within has passed, and reports whether it held. It is for conditions about
// many things at once (every client, an actor's count, a metric), which have
// no single event to wait on; a condition on one Client is better waited for
// with Client.Await, which wakes on each change.
func Poll(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
}

// Eventually waits like Poll until cond reports true, and fails t with
// cond's last explanation if it has not within the deadline. cond runs on
// the test's goroutine, so it may itself call t.Fatal.
func Eventually(t testing.TB, within time.Duration, cond func() (ok bool, why string)) {
	t.Helper()
	var why string
	if !Poll(within, func() (ok bool) { ok, why = cond(); return ok }) {
		t.Fatalf("not true after %s: %s", within, why)
	}
}
