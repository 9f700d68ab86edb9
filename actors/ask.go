package actors

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// askTimeout bounds a request to the tree when the caller's context has no
// earlier deadline: Rooms answers from its own state, so a slower answer
// means the tree is stuck, and the caller should hear so.
const askTimeout = 2 * time.Second

// ListRooms asks the Rooms registry at rooms for every room's last pushed
// count. It returns when Rooms answers, after askTimeout, or as soon as ctx
// ends (an HTTP client that went away), whichever is first.
func ListRooms(ctx context.Context, root *actor.RootContext, rooms *actor.PID) ([]RoomCount, error) {
	res, err := ask(ctx, root, rooms, &RoomsRequest{})
	if err != nil {
		return nil, fmt.Errorf("ask rooms: %w", err)
	}
	return res.(*RoomsResponse).Rooms, nil
}

// ask sends msg to pid and waits for the answer, bounded by ctx and
// askTimeout. protoactor's futures know only a timeout, so ctx ending stops
// the future, which wakes its waiter at once.
func ask(ctx context.Context, root *actor.RootContext, pid *actor.PID, msg any) (any, error) {
	timeout := askTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f := root.RequestFuture(pid, msg, timeout)
	stop := context.AfterFunc(ctx, func() { root.Stop(f.PID()) })
	defer stop()
	res, err := f.Result()
	if ctxErr := ctx.Err(); ctxErr != nil && (err != nil || res == nil) {
		return nil, ctxErr
	}
	return res, err
}
