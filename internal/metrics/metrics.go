// Package metrics is the presence server's Prometheus registry: every
// presence_* metric is defined in this file (the cluster's, registered only
// in a cluster, in cluster.go), and otel.go bridges
// protoactor's OpenTelemetry instruments onto the same registry. Metrics
// receives events from the actor tree (it is an actors.Observer) and from
// the network edge (a transport.Observer); main wires it to both.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"presence/internal/leave"
	"presence/transport"
)

// Namespace prefixes every presence metric.
const Namespace = "presence"

// Metrics are the presence server's own metrics. Its methods are safe for
// concurrent use and cheap: the actor tree calls FrameWritten once per member
// per flush.
type Metrics struct {
	reg *prometheus.Registry

	connections prometheus.Gauge
	rooms       prometheus.Gauge
	members     prometheus.Gauge
	joins       prometheus.Counter
	leaves      *prometheus.CounterVec
	flushes     prometheus.Counter
	framesSent  prometheus.Counter
	coalesced   prometheus.Counter
	skipped     prometheus.Counter
	slowDrops   prometheus.Counter
	badMessages prometheus.Counter
	rejections  *prometheus.CounterVec
	pushLatency prometheus.Histogram
}

// New registers the presence metrics, and Go runtime and process metrics,
// on a new registry.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	f := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: Namespace, Name: name, Help: help}
	}
	m := &Metrics{
		reg:         reg,
		connections: prometheus.NewGauge(prometheus.GaugeOpts(f("connections", "Open WebSocket connections and Socket.IO sessions."))),
		rooms:       prometheus.NewGauge(prometheus.GaugeOpts(f("rooms", "Rooms with a live Room actor."))),
		members:     prometheus.NewGauge(prometheus.GaugeOpts(f("members", "Members in all rooms, as last pushed to them."))),
		joins:       prometheus.NewCounter(prometheus.CounterOpts(f("joins_total", "Members that went live in a room."))),
		leaves: prometheus.NewCounterVec(prometheus.CounterOpts(f("leaves_total",
			"Members that left a room, by reason.")), []string{"reason"}),
		flushes:     prometheus.NewCounter(prometheus.CounterOpts(f("count_flushes_total", "Count pushes (one per room per flush)."))),
		framesSent:  prometheus.NewCounter(prometheus.CounterOpts(f("count_frames_sent_total", "Count frames written to sockets."))),
		coalesced:   prometheus.NewCounter(prometheus.CounterOpts(f("counts_coalesced_total", "Membership changes folded into a later flush instead of getting a frame of their own."))),
		skipped:     prometheus.NewCounter(prometheus.CounterOpts(f("count_frames_skipped_total", "Count frames a member skipped because it had already written a newer count (latest wins)."))),
		slowDrops:   prometheus.NewCounter(prometheus.CounterOpts(f("slow_consumer_drops_total", "Members dropped because a write missed its deadline."))),
		badMessages: prometheus.NewCounter(prometheus.CounterOpts(f("bad_messages_total", "Client messages answered with an error event."))),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts(f("upgrade_rejections_total",
			"WebSocket upgrades and Socket.IO sessions refused before they began, by reason.")), []string{"reason"}),
		pushLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace,
			Name:      "push_latency_seconds",
			Help:      "Time from a membership change to the moment the last member of the room has been written the count that carries it.",
			Buckets:   []float64{.001, .0025, .005, .01, .025, .05, .075, .1, .15, .2, .25, .3, .4, .5, .75, 1, 1.5, 2.5, 5, 10},
		}),
	}
	reg.MustRegister(m.connections, m.rooms, m.members, m.joins, m.leaves, m.flushes, m.framesSent,
		m.coalesced, m.skipped, m.slowDrops, m.badMessages, m.rejections, m.pushLatency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Show every label value from the start, so dashboards and alerts see 0, not nothing.
	for _, r := range leave.All() {
		m.leaves.WithLabelValues(string(r))
	}
	for _, r := range transport.Rejections() {
		m.rejections.WithLabelValues(string(r))
	}
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// The transport.Observer methods.

func (m *Metrics) ConnOpened() { m.connections.Inc() }
func (m *Metrics) ConnClosed() { m.connections.Dec() }
func (m *Metrics) Rejected(reason transport.Rejection) {
	m.rejections.WithLabelValues(string(reason)).Inc()
}

// The actors.Observer methods.

func (m *Metrics) Joined()                     { m.joins.Inc() }
func (m *Metrics) Left(reason leave.Reason)    { m.leaves.WithLabelValues(string(reason)).Inc() }
func (m *Metrics) FrameWritten()               { m.framesSent.Inc() }
func (m *Metrics) FrameSkipped()               { m.skipped.Inc() }
func (m *Metrics) SlowConsumer()               { m.slowDrops.Inc() }
func (m *Metrics) BadMessage()                 { m.badMessages.Inc() }
func (m *Metrics) PushLatency(d time.Duration) { m.pushLatency.Observe(d.Seconds()) }

func (m *Metrics) Flushed(coalesced int) {
	m.flushes.Inc()
	m.coalesced.Add(float64(coalesced))
}

func (m *Metrics) RoomsChanged(rooms, members int) {
	m.rooms.Set(float64(rooms))
	m.members.Set(float64(members))
}
