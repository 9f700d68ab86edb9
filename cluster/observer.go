package cluster

import "time"

// Observer receives the cluster's metric events (internal/metrics implements
// it). Its methods may be called from any goroutine at the same time and must
// be cheap: the partial and vector events happen once per room per flush.
type Observer interface {
	MembersLive(n int)         // members this node counts as live, itself included
	PartialSent(remote bool)   // this node sent a partial to an aggregator (remote: on another node)
	PartialReceived()          // an aggregator on this node received a partial
	VectorSent(remote bool)    // an aggregator on this node pushed a vector to a node (remote: another)
	VectorReceived()           // this node's relay received a vector
	AggregatorActivated()      // an aggregator grain started on this node
	AggregatorStopped()        // an aggregator grain on this node stopped
	Corrected(d time.Duration) // a member's loss was noticed → the rooms were given totals without it
	Expelled()                 // this node found itself removed from the cluster
}

type nopObserver struct{}

func (nopObserver) MembersLive(int)         {}
func (nopObserver) PartialSent(bool)        {}
func (nopObserver) PartialReceived()        {}
func (nopObserver) VectorSent(bool)         {}
func (nopObserver) VectorReceived()         {}
func (nopObserver) AggregatorActivated()    {}
func (nopObserver) AggregatorStopped()      {}
func (nopObserver) Corrected(time.Duration) {}
func (nopObserver) Expelled()               {}
