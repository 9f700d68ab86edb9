// Package quietlog gives a library its own logger that passes on only
// warnings and errors: protoactor-go and its cluster log every spawn,
// connection attempt and topology change at info, which would drown the one
// line per event an operator wants (docs/architecture.md §8).
package quietlog

import (
	"context"
	"log/slog"
)

// For returns a logger that writes to base's handler, tagged lib=name, and
// drops every record below warning level.
func For(base *slog.Logger, name string) *slog.Logger {
	return slog.New(minLevel{base.Handler(), slog.LevelWarn}).With("lib", name)
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
