package actors

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"presence/internal/wstest"
)

// fakeCluster records what Rooms reports through Options.Cluster.
type fakeCluster struct {
	mu      sync.Mutex
	reports map[string][]int // room → every local count reported, in order
}

func (c *fakeCluster) LocalCount(room string, users int, _ uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reports == nil {
		c.reports = make(map[string][]int)
	}
	c.reports[room] = append(c.reports[room], users)
}

func (c *fakeCluster) reported(room string) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.reports[room]...)
}

// TestClusterCountJoinsTheLocalCount: in a cluster a Room pushes its live
// children plus the other processes' members, reports only its own, holds
// its first push until the cluster answers, and reports 0 when reaped.
func TestClusterCountJoinsTheLocalCount(t *testing.T) {
	t.Parallel()
	fc := &fakeCluster{}
	tr := newTree(t, Options{Cluster: fc, ClusterWait: time.Hour})
	a, b := tr.join("r"), tr.join("r")

	// The Room was announced with 0 and holds its first push.
	wstest.Eventually(t, 5*time.Second, func() (bool, string) {
		got := fc.reported("r")
		return len(got) > 0 && got[0] == 0, fmt.Sprintf("reports %v, want a first 0", got)
	})
	wstest.Eventually(t, 5*time.Second, func() (bool, string) {
		return tr.count("r").Users == 2, "both members live"
	})
	if _, ok := a.last(); ok {
		t.Fatal("a member was shown a count before the cluster answered")
	}

	tr.system.Root.Send(tr.rooms, &ClusterCount{Room: "r", Others: 5})
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged([]*fakeSocket{a, b}, 7) })
	wstest.Eventually(t, 5*time.Second, func() (bool, string) {
		got := fc.reported("r")
		return len(got) > 0 && got[len(got)-1] == 2, fmt.Sprintf("reports %v, want the local 2 last", got)
	})

	// Other processes' members change: pushed; the local count is reported unchanged.
	tr.system.Root.Send(tr.rooms, &ClusterCount{Room: "r", Others: 1})
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged([]*fakeSocket{a, b}, 3) })

	// A local leave: total and report both move by the local change.
	b.leave("close_frame")
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged([]*fakeSocket{a}, 2) })
	wstest.Eventually(t, 5*time.Second, func() (bool, string) {
		got := fc.reported("r")
		return got[len(got)-1] == 1, fmt.Sprintf("reports %v, want the local 1 last", got)
	})

	// The last local member leaves: the Room is reaped and reports 0.
	a.leave("close_frame")
	wstest.Eventually(t, 5*time.Second, func() (bool, string) {
		got := fc.reported("r")
		return got[len(got)-1] == 0 && tr.count("r").Users == 0, fmt.Sprintf("reports %v, want 0 last", got)
	})
	for _, s := range []*fakeSocket{a, b} {
		if p := s.seqProblem(); p != "" {
			t.Fatalf("a member saw %s", p)
		}
	}
}

// TestClusterFirstPushWaitsBoundedly: when the cluster does not answer (the
// node has not joined), a new Room pushes its own count after ClusterWait.
func TestClusterFirstPushWaitsBoundedly(t *testing.T) {
	t.Parallel()
	tr := newTree(t, Options{Cluster: &fakeCluster{}, ClusterWait: 50 * time.Millisecond})
	a := tr.join("r")
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged([]*fakeSocket{a}, 1) })
}

// TestClusterSeqIsAboveTheClockAndEveryNode: in a cluster a Room's seq is at
// least the wall clock in microseconds and above the highest seq another
// node has shown, so a client that moves between nodes keeps seeing newer
// counts.
func TestClusterSeqIsAboveTheClockAndEveryNode(t *testing.T) {
	t.Parallel()
	tr := newTree(t, Options{Cluster: &fakeCluster{}, ClusterWait: time.Hour})
	a := tr.join("r")
	floor := uint64(time.Now().Add(time.Hour).UnixMicro()) // a node an hour ahead
	tr.system.Root.Send(tr.rooms, &ClusterCount{Room: "r", Others: 0, Seq: floor})
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged([]*fakeSocket{a}, 1) })
	first, _ := a.last()
	if first.Seq <= floor {
		t.Fatalf("seq %d is not above another node's %d", first.Seq, floor)
	}
	before := uint64(time.Now().UnixMicro())
	tr.system.Root.Send(tr.rooms, &ClusterCount{Room: "r", Others: 4})
	wstest.Eventually(t, 5*time.Second, func() (bool, string) { return converged([]*fakeSocket{a}, 5) })
	if last, _ := a.last(); last.Seq <= first.Seq || last.Seq < before {
		t.Fatalf("seq %d after %d (clock %d)", last.Seq, first.Seq, before)
	}
}
