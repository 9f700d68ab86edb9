package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// A Room in a cluster (Options.Cluster set) pushes the cluster-wide count:
// its own live children, exact as ever, plus the members the other
// processes have, which the cluster hands it as ClusterCount. Everything
// here is a no-op without a cluster: others stays 0, awaiting is false, and
// seq goes up by one per flush as it always has.

// roomCluster is a Room's view of the other processes. Touched only in the
// Room's Receive.
type roomCluster struct {
	others   int         // members on other processes, from the last ClusterCount
	floor    uint64      // highest seq another process has shown for the room
	awaiting bool        // no ClusterCount yet: the first push waits for one, at most Options.ClusterWait
	wait     *time.Timer // ends the wait
}

// awaitCluster starts the bound on the wait for the first ClusterCount, so
// that a joiner's first frame carries the cluster-wide total when the
// cluster answers in time, and its own process's count when it does not.
func (r *Room) awaitCluster(ctx actor.Context) {
	if !r.cluster.awaiting {
		return
	}
	root, self := ctx.ActorSystem().Root, ctx.Self()
	r.cluster.wait = time.AfterFunc(r.opts.ClusterWait, func() { root.Send(self, clusterWaitOverMsg) })
}

var clusterWaitOverMsg = &clusterWaitOver{}

// clusterCount takes the other processes' members. A different number is a
// change the members must see, pushed like any membership change.
func (r *Room) clusterCount(ctx actor.Context, msg *ClusterCount) {
	r.cluster.floor = max(r.cluster.floor, msg.Seq)
	if r.cluster.awaiting {
		r.cluster.stop()
		r.cluster.others = msg.Others
		r.flush(ctx) // the held first push, if a member is waiting for it
		return
	}
	if msg.Others != r.cluster.others {
		r.cluster.others = msg.Others
		r.changed(ctx)
	}
}

// clusterWaitOver pushes what the Room has when the cluster has not answered
// in time (the node has not joined yet, or the room's aggregator is
// unreachable): its own members, never members it cannot see.
func (r *Room) clusterWaitOver(ctx actor.Context) {
	if !r.cluster.awaiting {
		return
	}
	r.cluster.stop()
	r.flush(ctx)
}

// stop ends the wait for the first ClusterCount.
func (c *roomCluster) stop() {
	c.awaiting = false
	if c.wait != nil {
		c.wait.Stop()
		c.wait = nil
	}
}

// nextSeq is the seq of the next flush. One process: one more than the last,
// as it always was. A cluster: also at least the wall clock in microseconds
// and above any seq another process has shown, so that a client whose node
// dies and who reconnects to another node, keeping its last seq, still sees
// the new node's counts as newer (clocks need only agree to within a
// client's reconnect delay, half a second or more).
func (r *Room) nextSeq() uint64 {
	if r.opts.Cluster == nil {
		return r.seq + 1
	}
	return max(r.seq+1, initialSeq(time.Now()), r.cluster.floor+1)
}
