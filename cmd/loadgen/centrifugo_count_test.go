package main

import "testing"

// memberSet is checked step by step: each row is one event and the count
// the client knows after it (-1: not known yet, the snapshot has not come).
func TestMemberSet(t *testing.T) {
	type ev struct {
		op   string // join, leave, snap
		ids  []uint64
		want int
	}
	tests := []struct {
		name   string
		events []ev
	}{
		{"snapshot, then pushes", []ev{
			{"snap", []uint64{1, 2, 3}, 3},
			{"join", []uint64{4}, 4},
			{"leave", []uint64{2}, 3},
		}},
		{"pushes before the snapshot are kept, the count waits for it", []ev{
			{"join", []uint64{4}, -1},
			{"snap", []uint64{1, 2, 3, 4}, 4},
		}},
		{"a leave before the snapshot keeps the leaver out of it", []ev{
			{"leave", []uint64{2}, -1},
			{"snap", []uint64{1, 2, 3}, 2},
		}},
		{"a join missing from the snapshot still counts", []ev{
			{"join", []uint64{9}, -1},
			{"snap", []uint64{1}, 2},
		}},
		{"duplicate joins and leaves change nothing", []ev{
			{"snap", []uint64{1, 2}, 2},
			{"join", []uint64{2}, 2},
			{"join", []uint64{3}, 3},
			{"join", []uint64{3}, 3},
			{"leave", []uint64{3}, 2},
			{"leave", []uint64{3}, 2},
		}},
		{"a join overtaken by its own leave stays out", []ev{
			{"snap", []uint64{1}, 1},
			{"leave", []uint64{5}, 1},
			{"join", []uint64{5}, 1},
		}},
		{"a leave of an unknown id does not go below the truth", []ev{
			{"snap", []uint64{1}, 1},
			{"leave", []uint64{7}, 1},
		}},
		{"the snapshot lists an id twice", []ev{
			{"snap", []uint64{1, 1, 2}, 2},
		}},
		{"an empty room", []ev{
			{"snap", nil, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newMemberSet()
			for i, e := range tt.events {
				switch e.op {
				case "join":
					s.join(e.ids[0])
				case "leave":
					s.leave(e.ids[0])
				case "snap":
					s.applySnapshot(e.ids)
				}
				n, ok := s.count()
				got := n
				if !ok {
					got = -1
				}
				if got != e.want {
					t.Fatalf("after event %d (%s %v): count %d, want %d", i, e.op, e.ids, got, e.want)
				}
			}
		})
	}
}

// join and leave report whether the count changed, which is what the
// client needs to know whether to record a new count.
func TestMemberSetReportsChanges(t *testing.T) {
	s := newMemberSet()
	if !s.join(1) || s.join(1) {
		t.Error("join: first changes, duplicate does not")
	}
	if !s.leave(1) || s.leave(1) || s.leave(2) {
		t.Error("leave: first changes, duplicate and unknown do not")
	}
	if s.join(2) {
		t.Error("a join after its own leave changes nothing")
	}
}
