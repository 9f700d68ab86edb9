package cluster

import (
	"testing"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"
)

func member(id string, port int32) *pcluster.Member {
	return &pcluster.Member{Id: id, Host: "127.0.0.1", Port: port, Kinds: []string{AggregatorKind}}
}

func TestViewSuspicionNeedsAFreshAnswer(t *testing.T) {
	v := newView("a")
	t0 := time.Now()
	v.setTopology([]*pcluster.Member{member("a", 1), member("b", 2), member("c", 3)}, t0)
	if !v.live("b") || v.liveCount() != 3 {
		t.Fatal("b should be live among 3")
	}
	if ids := v.suspectAddress("127.0.0.1:2", t0.Add(time.Second)); len(ids) != 1 || ids[0] != "b" {
		t.Fatalf("suspectAddress = %v, want [b]", ids)
	}
	if v.live("b") || v.liveCount() != 2 {
		t.Fatal("a suspect must not count")
	}
	// A pong to a ping sent before the suspicion proves nothing: it may
	// have been in flight when b died.
	if v.heard("b", t0, t0.Add(2*time.Second)) || v.live("b") {
		t.Fatal("an answer to an old ping cleared the suspicion")
	}
	// A ping from b proves nothing either (zero proof time).
	if v.heard("b", time.Time{}, t0.Add(2*time.Second)) || v.live("b") {
		t.Fatal("a ping from a suspect cleared the suspicion")
	}
	if !v.heard("b", t0.Add(1500*time.Millisecond), t0.Add(2*time.Second)) || !v.live("b") {
		t.Fatal("an answer to a ping sent after the suspicion must clear it")
	}
	if v.suspect("a", t0) || !v.live("a") {
		t.Fatal("a node never suspects itself")
	}
}

func TestViewLeftIsForever(t *testing.T) {
	v := newView("a")
	now := time.Now()
	if removed, _ := v.setTopology([]*pcluster.Member{member("b", 2)}, now); removed {
		t.Fatal("not yet joined: nothing to be removed from")
	}
	v.setTopology([]*pcluster.Member{member("a", 1), member("b", 2)}, now)
	removed, left := v.setTopology([]*pcluster.Member{member("a", 1)}, now)
	if removed || len(left) != 1 || left[0] != "b" {
		t.Fatalf("removed %v, left %v; want false, [b]", removed, left)
	}
	v.setTopology([]*pcluster.Member{member("a", 1), member("b", 2)}, now)
	if v.live("b") || !v.isBlocked("b") {
		t.Fatal("a member that left must never count again (protoactor blocks it)")
	}
	if removed, _ := v.setTopology([]*pcluster.Member{member("b", 2)}, now); !removed {
		t.Fatal("a topology without self, after self was in one, means self was removed")
	}
}

func TestViewBlocked(t *testing.T) {
	v := newView("a")
	v.setTopology([]*pcluster.Member{member("a", 1), member("b", 2)}, time.Now())
	if !v.setBlocked(map[string]bool{"b": true}) || v.live("b") || !v.isBlocked("b") {
		t.Fatal("a blocked member must not count")
	}
	if v.setBlocked(map[string]bool{"b": true}) {
		t.Fatal("the same blocklist is no change")
	}
	got := v.liveMembers()
	if len(got) != 1 || got[0].Id != "a" {
		t.Fatalf("liveMembers = %v, want [a]", got)
	}
}
