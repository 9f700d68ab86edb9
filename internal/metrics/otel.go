package metrics

import (
	"fmt"

	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// ActorMeterProvider returns an OpenTelemetry meter provider whose
// instruments are exported, through the OpenTelemetry Prometheus exporter,
// on the same registry as the presence metrics: protoactor-go reports its
// actor metrics (protoactor_*) through OpenTelemetry.
//
// The provider leaves out one of protoactor's instruments, its mailbox
// length gauge (see withoutActorCallbacks).
func (m *Metrics) ActorMeterProvider() (metric.MeterProvider, error) {
	exporter, err := otelprom.New(otelprom.WithRegisterer(m.reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, fmt.Errorf("metrics: opentelemetry exporter: %w", err)
	}
	// protoactor records receive durations in seconds, but OpenTelemetry's
	// default buckets (0, 5, 10 … 10000) suit milliseconds: every message
	// would land in the first bucket. Give the histogram seconds buckets.
	seconds := sdkmetric.NewView(
		sdkmetric.Instrument{Name: "protoactor_actor_message_receive_duration_seconds"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{
			Boundaries: []float64{1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, .001, .005, .01, .05, .1, .5, 1, 5},
		}},
	)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithView(seconds))
	return withoutActorCallbacks{mp}, nil
}

// withoutActorCallbacks hides one instrument of protoactor's: its mailbox
// length gauge. The pinned protoactor-go registers an OpenTelemetry callback
// for it on every spawn and never unregisters it, so each connection ever
// made would stay reachable (socket, actor, mailbox) and every scrape would
// walk them all: a leak proportional to total connections, not live ones. The
// other protoactor instruments (spawn, stop, restart, failure counts, receive
// durations, dead letters, futures) are kept.
type withoutActorCallbacks struct{ metric.MeterProvider }

func (p withoutActorCallbacks) Meter(name string, opts ...metric.MeterOption) metric.Meter {
	m := p.MeterProvider.Meter(name, opts...)
	if name == "protoactor" {
		return noCallbackMeter{m}
	}
	return m
}

type noCallbackMeter struct{ metric.Meter }

func (noCallbackMeter) RegisterCallback(metric.Callback, ...metric.Observable) (metric.Registration, error) {
	return noRegistration{}, nil
}

type noRegistration struct{ metric.Registration }

func (noRegistration) Unregister() error { return nil }
