package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ClusterMetrics are the presence_cluster_* series, registered only when the
// server runs in a cluster. They implement cluster.Observer; its methods are
// safe for concurrent use and cheap.
type ClusterMetrics struct {
	members        prometheus.Gauge
	partialsSent   *prometheus.CounterVec
	partialsRecv   prometheus.Counter
	vectorsSent    *prometheus.CounterVec
	vectorsRecv    prometheus.Counter
	activations    prometheus.Counter
	aggregators    prometheus.Gauge
	lossCorrection prometheus.Histogram
	expulsions     prometheus.Counter
}

// Cluster registers the cluster series on m's registry and returns them.
// Call it once.
func (m *Metrics) Cluster() *ClusterMetrics {
	f := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: Namespace, Subsystem: "cluster", Name: name, Help: help}
	}
	c := &ClusterMetrics{
		members:      prometheus.NewGauge(prometheus.GaugeOpts(f("members", "Cluster members this node counts as live (in the topology, not blocked, not suspected), itself included."))),
		partialsSent: prometheus.NewCounterVec(prometheus.CounterOpts(f("partials_sent_total", "Partials (this node's absolute count of a room) sent to aggregators, by where the aggregator is: other_node or this_node.")), []string{"to"}),
		partialsRecv: prometheus.NewCounter(prometheus.CounterOpts(f("partials_received_total", "Partials received by the aggregators on this node."))),
		vectorsSent:  prometheus.NewCounterVec(prometheus.CounterOpts(f("vectors_sent_total", "Vectors (a room's partials per node) pushed by the aggregators on this node, one per receiving node: other_node or this_node.")), []string{"to"}),
		vectorsRecv:  prometheus.NewCounter(prometheus.CounterOpts(f("vectors_received_total", "Vectors received by this node's relay."))),
		activations:  prometheus.NewCounter(prometheus.CounterOpts(f("aggregator_activations_total", "Aggregator grains activated on this node."))),
		aggregators:  prometheus.NewGauge(prometheus.GaugeOpts(f("aggregators", "Aggregator grains active on this node."))),
		lossCorrection: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "cluster", Name: "loss_correction_seconds",
			Help:    "Time from noticing a member's loss (its endpoint terminated, or it left) to handing this node's rooms totals without it. bench/cluster.sh measures the whole way, from SIGKILL to the last client.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		expulsions: prometheus.NewCounter(prometheus.CounterOpts(f("expulsions_total", "Times this node found the cluster had removed it (it then shuts down)."))),
	}
	m.reg.MustRegister(c.members, c.partialsSent, c.partialsRecv, c.vectorsSent, c.vectorsRecv,
		c.activations, c.aggregators, c.lossCorrection, c.expulsions)
	for _, to := range []string{"other_node", "this_node"} {
		c.partialsSent.WithLabelValues(to)
		c.vectorsSent.WithLabelValues(to)
	}
	return c
}

func where(remote bool) string {
	if remote {
		return "other_node"
	}
	return "this_node"
}

func (c *ClusterMetrics) MembersLive(n int) { c.members.Set(float64(n)) }
func (c *ClusterMetrics) PartialSent(remote bool) {
	c.partialsSent.WithLabelValues(where(remote)).Inc()
}
func (c *ClusterMetrics) PartialReceived()       { c.partialsRecv.Inc() }
func (c *ClusterMetrics) VectorSent(remote bool) { c.vectorsSent.WithLabelValues(where(remote)).Inc() }
func (c *ClusterMetrics) VectorReceived()        { c.vectorsRecv.Inc() }
func (c *ClusterMetrics) AggregatorStopped()     { c.aggregators.Dec() }
func (c *ClusterMetrics) Expelled()              { c.expulsions.Inc() }
func (c *ClusterMetrics) AggregatorActivated() {
	c.activations.Inc()
	c.aggregators.Inc()
}
func (c *ClusterMetrics) Corrected(d time.Duration) { c.lossCorrection.Observe(d.Seconds()) }
