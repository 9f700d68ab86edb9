package actors

import (
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"presence/internal/quietlog"
)

// NewSystem returns an actor system that logs through logger at warning
// level and up (protoactor reports every supervision decision and dead letter
// at info), and that records protoactor's actor metrics to mp when mp is not
// nil (metrics.ActorMeterProvider makes one).
//
// The pinned protoactor-go creates its instruments from the global
// OpenTelemetry meter provider, so NewSystem installs mp globally as well
// (otel.SetMeterProvider): it is meant to be called once per process, or once
// per test that wants actor metrics.
func NewSystem(logger *slog.Logger, mp metric.MeterProvider) *actor.ActorSystem {
	quiet := quietlog.For(logger, "protoactor")
	opts := []actor.ConfigOption{
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }),
		actor.WithDeadLetterRequestLogging(false),
	}
	if mp != nil {
		otel.SetMeterProvider(mp)
		opts = append(opts, actor.WithMetricProviders(mp))
	}
	return actor.NewActorSystem(opts...)
}
