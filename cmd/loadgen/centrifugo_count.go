package main

// memberSet derives a room's count the way a Centrifugo application does:
// a presence snapshot asked for after subscribing, then the join and leave
// pushes of the channel. Centrifugo sends no count; each client keeps the
// set of client ids itself.
//
// The pushes and the snapshot race: a push may arrive before the snapshot
// that already contains its change, or after a snapshot taken before it.
// Client ids are never reused (a new connection gets a new UUID), which
// makes the set exact whatever the order:
//
//   - a join adds its id unless the id is known (present, or already left):
//     a duplicate join, or a join overtaken by its own leave, changes nothing;
//   - a leave removes its id and remembers it as gone (a tombstone), even if
//     the id was never seen: a leave that arrives before the snapshot keeps
//     the snapshot from bringing the leaver back;
//   - the snapshot adds every id it lists that is not known.
//
// The count is known only once the snapshot is in; until then the pushes
// are kept in the same map. Tombstones cost 9 bytes a leave seen; the
// scenarios see at most a few thousand per client.
//
// Concurrency: owned by one goroutine (the client's reader).
type memberSet struct {
	present  map[uint64]bool // id → true while a member, false once it left
	live     int             // ids mapped to true
	snapshot bool            // the presence snapshot has been applied
}

func newMemberSet() *memberSet { return &memberSet{present: make(map[uint64]bool)} }

// join records a join push. It reports whether the count changed.
func (s *memberSet) join(id uint64) bool {
	if _, known := s.present[id]; known {
		return false
	}
	s.present[id] = true
	s.live++
	return true
}

// leave records a leave push. It reports whether the count changed.
func (s *memberSet) leave(id uint64) bool {
	was, known := s.present[id]
	s.present[id] = false
	if was {
		s.live--
	}
	return known && was
}

// applySnapshot adds the presence snapshot's ids and makes the count known.
func (s *memberSet) applySnapshot(ids []uint64) {
	for _, id := range ids {
		s.join(id)
	}
	s.snapshot = true
}

// count is the number of members, and whether it is known yet (the
// snapshot has arrived).
func (s *memberSet) count() (int, bool) { return s.live, s.snapshot }
