package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"presence/cmd/loadgen/internal/result"
)

// runRamp: N clients join one room as fast as --concurrency (and --rate)
// allow. It measures handshakes per second and the time until every client
// has read N, then (--steps) count-propagation latency: one join or one
// leave at a time, each followed by a wait until every member has read the
// new count.
func runRamp(ctx context.Context, o *options) (err error) {
	r, err := newRun(ctx, o, "ramp", 1)
	if err != nil {
		return err
	}
	defer func() { err = r.finish(err) }()

	a, ok := r.fillRoom()
	if !ok {
		return nil
	}
	if o.Steps > 0 {
		r.res.Latency = r.steps(a.Live)
	}
	return nil
}

// steps measures count-propagation latency with --steps single changes to a
// room of n: a join (the change is its completed handshake), then a leave
// (the change is the start of its clean close), and so on, each --step-gap
// after the last settled, so that a coalescing server pushes each at once.
func (r *run) steps(n int) *result.Latency {
	o := r.o
	if o.cfPresenceMode() {
		return r.pubSteps() // one publication per step (centrifugo_steps.go)
	}
	var before samples
	if o.MetricsURL != "" {
		before, _ = scrape(r.ctx, o.MetricsURL)
	}
	var joins, leaves, lat []float64
	var done atomic.Int64
	b := startBar(os.Stderr, r.live, "latency steps", int64(o.Steps), done.Load)
	members := n
	res := &result.Latency{}
	w := len(r.pool.workers)
	for k := range o.Steps {
		if r.ctx.Err() != nil {
			break
		}
		time.Sleep(o.StepGap) // pacing, not synchronisation: the await below is the wait
		wi := (k / 2) % w
		var changeAt int64
		if k%2 == 0 {
			var or openResult
			err := r.pool.call(r.ctx, wi, request{Op: opOpen, Count: 1, Concurrency: 1, Timeout: o.DialTimeout + time.Second}, &or)
			if err == nil && or.Opened != 1 {
				err = fmt.Errorf("join failed: %s", joinErrors(or.Errors))
			}
			if err != nil {
				res.Failed++
				r.res.Problem("latency step %d: %v", k, err)
				break
			}
			changeAt = or.LastDone
			members++
		} else {
			var lr leaveResult
			if err := r.pool.call(r.ctx, wi, request{Op: opLeave, Clean: 1, Timeout: 10 * time.Second}, &lr); err != nil {
				res.Failed++
				r.res.Problem("latency step %d: %v", k, err)
				break
			}
			changeAt = lr.FirstAt
			members--
		}
		a, err := r.await("", members, o.Timeout, false, nil)
		if err != nil || !a.Done {
			res.Failed++
			r.res.Problem("latency step %d: not every member read %d within %s: %s %v", k, members, o.Timeout, a.describeCounts(), err)
			break
		}
		d := ms(a.MaxSeenAt - changeAt)
		lat = append(lat, d)
		if k%2 == 0 {
			joins = append(joins, d)
		} else {
			leaves = append(leaves, d)
		}
		done.Add(1)
	}
	b.stop("")
	res.Samples = len(lat)
	res.P50Ms = finite(percentile(lat, 50))
	res.P95Ms = finite(percentile(lat, 95))
	res.P99Ms = finite(percentile(lat, 99))
	res.MaxMs = finite(percentile(lat, 100))
	res.JoinP50Ms = finite(percentile(joins, 50))
	res.LeaveP50Ms = finite(percentile(leaves, 50))
	if before != nil {
		if after, err := scrape(r.ctx, o.MetricsURL); err == nil {
			bounds, cum := after.histogram("presence_push_latency_seconds", before)
			res.ServerP50Ms = finite(1000 * histogramQuantile(0.5, bounds, cum))
			res.ServerP99Ms = finite(1000 * histogramQuantile(0.99, bounds, cum))
			if res.Samples > 0 {
				msgs := after.labelled("presence_cluster_partials_sent_total", "to", "other_node") - before.labelled("presence_cluster_partials_sent_total", "to", "other_node") +
					after.labelled("presence_cluster_vectors_sent_total", "to", "other_node") - before.labelled("presence_cluster_vectors_sent_total", "to", "other_node")
				res.ClusterMessagesPerChange = finite(msgs / float64(res.Samples))
			}
		}
	}
	return res
}
