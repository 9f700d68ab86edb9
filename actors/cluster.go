package actors

import "time"

// Cluster connects this process's rooms to the same rooms in other
// processes. Package cluster implements it and main wires it in; with
// Options.Cluster nil the tree is one process, exactly as without it.
//
// What crosses is absolute: Rooms reports this process's count of a room,
// never a ±1, and the cluster answers with ClusterCount, the other
// processes' members, which the Room adds to its own live children when it
// pushes (see room_cluster.go).
type Cluster interface {
	// LocalCount reports that this process's Room for room has users live
	// members and last showed them seq; 0 users when the Room is created
	// (so the cluster starts answering) and when it is reaped. Rooms calls it
	// from its own goroutine, at most once per flush per room: it must not
	// block.
	LocalCount(room string, users int, seq uint64)
}

// DefaultClusterWait bounds how long a new Room in a cluster holds its first
// push while it waits for the cluster's first ClusterCount, so that a
// joiner's first frame already carries the cluster-wide total.
const DefaultClusterWait = time.Second
