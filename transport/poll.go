package transport

// The service states of a poll-mode Conn (Conn.svc).
const (
	svcOff     int32 = iota // not read by the poller (the goroutine mode, or not started)
	svcIdle                 // registered, nothing to do
	svcQueued               // waiting for a worker
	svcRunning              // a worker reads it
	svcAgain                // a worker reads it, and it was woken meanwhile: read again
	svcDone                 // the read side has ended
)

// wake makes sure a worker reads c soon: it queues c unless a worker is
// already queued for it or reading it (then that worker reads once more).
func (c *Conn) wake() {
	for {
		switch c.svc.Load() {
		case svcIdle:
			if c.svc.CompareAndSwap(svcIdle, svcQueued) {
				c.e.pool.Submit(c)
				return
			}
		case svcRunning:
			if c.svc.CompareAndSwap(svcRunning, svcAgain) {
				return
			}
		default:
			return
		}
	}
}
