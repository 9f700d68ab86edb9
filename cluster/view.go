package cluster

import (
	"cmp"
	"slices"
	"sync"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"
)

// view is this node's answer to "whose partials count?": the members of the
// cluster topology (from the provider, through protoactor's MemberList),
// minus the members protoactor has blocked, minus the members this node
// suspects. A member is suspected the moment protoactor's remote reports its
// endpoint terminated (a killed process resets its connections: milliseconds)
// or an aggregator says it is down, and stays suspected until it answers a
// Ping sent after the suspicion, so that a message it sent before it died
// cannot vouch for it. A member that leaves the topology is gone for good:
// protoactor blocks it, and a process that comes back does so with a new id.
//
// Concurrency: the Node's event-stream handlers and the relay write; the
// relay and every Aggregator read (live, on each push). Everything is under mu.
type view struct {
	self string

	mu      sync.RWMutex
	members map[string]*memberState // the topology, self included
	gone    map[string]goneMember   // ids that left the topology
	blocked map[string]bool         // protoactor's blocklist, as last polled
	joined  bool                    // self has been in a topology
}

// goneMember is a member that left the topology.
type goneMember struct {
	address string
	at      time.Time
}

// memberState is one member as this node sees it.
type memberState struct {
	member    *pcluster.Member
	suspected time.Time // zero while not suspected
	lastHeard time.Time // last Ping or Pong from it; zero if never
}

func newView(self string) *view {
	return &view{
		self:    self,
		members: make(map[string]*memberState),
		gone:    make(map[string]goneMember),
		blocked: make(map[string]bool),
	}
}

// setTopology replaces the members with a topology's. It reports whether
// self is no longer in it after having been (this node was removed: its
// lease expired, or it was blocked), and which ids left.
func (v *view) setTopology(members []*pcluster.Member, now time.Time) (selfRemoved bool, left []string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	next := make(map[string]*memberState, len(members))
	for _, m := range members {
		if _, gone := v.gone[m.Id]; gone {
			continue // protoactor never readmits a member that left
		}
		st := v.members[m.Id]
		if st == nil {
			st = &memberState{}
		}
		st.member = m
		next[m.Id] = st
	}
	for id, st := range v.members {
		if _, ok := next[id]; !ok {
			v.gone[id] = goneMember{address: st.member.Address(), at: now}
			left = append(left, id)
		}
	}
	v.members = next
	_, in := next[v.self]
	selfRemoved = v.joined && !in
	v.joined = v.joined || in
	return selfRemoved, left
}

// suspectAddress suspects every member at addr (the address of an endpoint
// protoactor reported terminated) and returns the ids newly suspected.
func (v *view) suspectAddress(addr string, now time.Time) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var ids []string
	for id, st := range v.members {
		if id != v.self && st.member.Address() == addr && st.suspected.IsZero() {
			st.suspected = now
			ids = append(ids, id)
		}
	}
	return ids
}

// suspect suspects one member; false if it is self, unknown or already suspected.
func (v *view) suspect(id string, now time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	st := v.members[id]
	if id == v.self || st == nil || !st.suspected.IsZero() {
		return false
	}
	st.suspected = now
	return true
}

// heard records a Pong (or Ping) from id, sent — by our clock — at sentAt
// for a Pong (the echoed nonce), or now for a Ping. It clears a suspicion
// older than sentAt, and reports whether it did.
func (v *view) heard(id string, sentAt, now time.Time) (cleared bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	st := v.members[id]
	if st == nil {
		return false
	}
	st.lastHeard = now
	if !st.suspected.IsZero() && !sentAt.Before(st.suspected) {
		st.suspected = time.Time{}
		return true
	}
	return false
}

// knows reports whether id is in the topology.
func (v *view) knows(id string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	_, ok := v.members[id]
	return ok
}

// heardSince reports whether id answered or pinged this node after t.
func (v *view) heardSince(id string, t time.Time) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	st := v.members[id]
	return st != nil && st.lastHeard.After(t)
}

// setBlocked records protoactor's blocklist; true if it changed anything.
func (v *view) setBlocked(blocked map[string]bool) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(blocked) == len(v.blocked) {
		same := true
		for id := range blocked {
			same = same && v.blocked[id]
		}
		if same {
			return false
		}
	}
	v.blocked = blocked
	return true
}

// live reports whether id's partials count: self, or a member of the
// topology that is neither blocked nor suspected.
func (v *view) live(id string) bool {
	if id == v.self {
		return true
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.liveLocked(id)
}

func (v *view) liveLocked(id string) bool {
	st := v.members[id]
	return id == v.self || (st != nil && st.suspected.IsZero() && !v.blocked[id])
}

// isBlocked reports whether id has been blocked or has left: it can never
// count again under that id.
func (v *view) isBlocked(id string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	_, gone := v.gone[id]
	return gone || v.blocked[id]
}

// liveMembers returns the live members, sorted by id: the rendezvous owner
// of a room is computed over them.
func (v *view) liveMembers() []*pcluster.Member {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []*pcluster.Member
	for id, st := range v.members {
		if v.liveLocked(id) {
			out = append(out, st.member)
		}
	}
	slices.SortFunc(out, func(a, b *pcluster.Member) int { return cmp.Compare(a.Id, b.Id) })
	return out
}

// others returns every member but self with its address, live or not: the
// relay pings them all.
func (v *view) others() map[string]string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make(map[string]string, len(v.members))
	for id, st := range v.members {
		if id != v.self {
			out[id] = st.member.Address()
		}
	}
	return out
}

// suspects returns the suspected members with their addresses.
func (v *view) suspects() map[string]string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make(map[string]string)
	for id, st := range v.members {
		if !st.suspected.IsZero() {
			out[id] = st.member.Address()
		}
	}
	return out
}

// MemberStatus is one member in /api/cluster.
type MemberStatus struct {
	ID        string     `json:"id"`
	Address   string     `json:"address"`
	Self      bool       `json:"self,omitempty"`
	Status    string     `json:"status"` // alive, suspect, blocked or left
	LastHeard *time.Time `json:"lastHeard,omitempty"`
}

// statuses lists every member this node knows of, including those that
// left (most recent first after the current ones).
func (v *view) statuses() []MemberStatus {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []MemberStatus
	for id, st := range v.members {
		s := MemberStatus{ID: id, Address: st.member.Address(), Self: id == v.self, Status: "alive"}
		switch {
		case v.blocked[id]:
			s.Status = "blocked"
		case !st.suspected.IsZero():
			s.Status = "suspect"
		}
		if !st.lastHeard.IsZero() {
			t := st.lastHeard
			s.LastHeard = &t
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b MemberStatus) int { return cmp.Compare(a.ID, b.ID) })
	var left []MemberStatus
	for id, g := range v.gone {
		left = append(left, MemberStatus{ID: id, Address: g.address, Status: "left"})
	}
	slices.SortFunc(left, func(a, b MemberStatus) int { return v.gone[b.ID].at.Compare(v.gone[a.ID].at) })
	if len(left) > 16 {
		left = left[:16]
	}
	return append(out, left...)
}

// liveCount is how many members are live, self included.
func (v *view) liveCount() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	n := 0
	for id := range v.members {
		if v.liveLocked(id) {
			n++
		}
	}
	if _, in := v.members[v.self]; !in {
		n++
	}
	return n
}
