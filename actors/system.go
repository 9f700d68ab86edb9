package actors

import (
	"context"
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
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
	quiet := slog.New(minLevel{logger.Handler(), slog.LevelWarn}).With("lib", "protoactor")
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

// minLevel is a slog.Handler that drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
