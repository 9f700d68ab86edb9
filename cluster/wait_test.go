package cluster

import (
	"testing"
	"time"
)

// waitFor polls cond until it holds, and fails the test with cond's reason
// if it does not within the deadline.
func waitFor(t *testing.T, within time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true after %s: %s", within, why)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not ordering events
	}
}
