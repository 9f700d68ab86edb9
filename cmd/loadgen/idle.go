package main

import (
	"context"
	"math"
	"time"

	"presence/cmd/loadgen/internal/result"
)

// runIdle: N idle members. It reads the server's resident memory before the
// first client and after every client has read N and --settle has passed,
// and its CPU while the clients then sit idle for --hold. With --metrics-url
// (a Go server) it also splits the memory into heap and stacks. With
// --steps it then measures count-propagation latency in the quiet room, as
// ramp does.
func runIdle(ctx context.Context, o *options) (err error) {
	if o.ServerPID == 0 {
		return errUsage("idle measures the server's memory: give --server-pid")
	}
	r, err := newRun(ctx, o, "idle", 0)
	if err != nil {
		return err
	}
	defer func() { err = r.finish(err) }()

	before := *r.server0
	var m0 samples
	if o.MetricsURL != "" {
		m0, _ = scrape(r.ctx, o.MetricsURL)
	}
	a, ok := r.fillRoom()
	if !ok {
		return nil
	}
	select {
	case <-time.After(o.Settle):
	case <-r.ctx.Done():
		return nil
	}
	holdStart, err := sampleProc(o.ServerPID)
	if err != nil {
		r.res.Problem("server: %v", err)
		return nil
	}
	t0 := time.Now()
	select {
	case <-time.After(o.Hold):
	case <-r.ctx.Done():
		return nil
	}
	holdEnd, err := sampleProc(o.ServerPID)
	if err != nil {
		r.res.Problem("server: %v", err)
		return nil
	}
	conns := a.Live
	i := &result.Idle{
		Conns: conns, RSSBefore: before.RSS, RSSAfter: holdEnd.RSS,
		BytesPerConn:   float64(holdEnd.RSS-before.RSS) / float64(conns),
		IdleCPUPercent: 100 * (holdEnd.CPU - holdStart.CPU) / time.Since(t0).Seconds(),
		HoldS:          o.Hold.Seconds(),
	}
	if m0 != nil {
		if m1, err := scrape(r.ctx, o.MetricsURL); err == nil {
			per := func(name string) float64 { return finite((m1.value(name) - m0.value(name)) / float64(conns)) }
			i.HeapPerConn = per("go_memstats_heap_inuse_bytes")
			i.StackPerConn = per("go_memstats_stack_inuse_bytes")
			i.GoroutinesPerConn = per("go_goroutines")
			if math.IsNaN(m1.value("go_goroutines")) {
				r.res.Problem("--metrics-url has no Go runtime metrics")
			}
		}
	}
	r.res.Idle = i
	if o.Steps > 0 {
		r.res.Latency = r.steps(conns)
	}
	return nil
}
