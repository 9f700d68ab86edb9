package transport

import (
	"fmt"

	"github.com/gobwas/ws"

	"presence/internal/leave"
)

// LeaveError says why a socket ended. It is what ReadLoop returns, and what
// writes return once the socket has ended.
type LeaveError struct {
	Reason leave.Reason  // one of the reasons the network edge reports
	Code   ws.StatusCode // the close code the server sent, 0 if none
	Err    error         // the underlying cause, if any
}

func (e *LeaveError) Error() string {
	s := "websocket ended: " + string(e.Reason)
	if e.Code != 0 {
		s += fmt.Sprintf(" (close %d)", e.Code)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *LeaveError) Unwrap() error { return e.Err }

// LeaveReason makes LeaveError a leave.Error, which the actor tree reads
// without importing this package.
func (e *LeaveError) LeaveReason() leave.Reason { return e.Reason }
