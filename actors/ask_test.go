package actors

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// TestListRoomsGivesUpWithItsContext asks an actor that never answers and
// cancels the caller's context once the request has arrived: the request
// must end with the context (an HTTP client that went away), not run on to
// the tree's own timeout.
func TestListRoomsGivesUpWithItsContext(t *testing.T) {
	system := NewSystem(slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	defer system.Shutdown()
	ctx, cancel := context.WithCancel(context.Background())
	silent := system.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if _, ok := c.Message().(*RoomsRequest); ok {
			cancel() // the caller goes away while its request is in flight
		}
	}))
	defer system.Root.Stop(silent)

	done := make(chan error, 1)
	go func() {
		_, err := ListRooms(ctx, system.Root, silent)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("ListRooms returned %v, want context.Canceled", err)
		}
	case <-time.After(askTimeout / 2):
		t.Fatal("ListRooms kept waiting after its context was cancelled")
	}

	if _, err := ListRooms(context.Background(), system.Root, silent); !errors.Is(err, actor.ErrTimeout) {
		t.Fatalf("without a deadline of its own, ListRooms returned %v, want protoactor's timeout", err)
	}
}
