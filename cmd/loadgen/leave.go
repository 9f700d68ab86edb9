package main

import (
	"context"
	"fmt"
	"time"

	"presence/cmd/loadgen/internal/result"
)

// runLeave: a room of N; then at once a third of the members close cleanly
// (close frame), a third reset (SO_LINGER 0: the server reads a TCP reset),
// and a third stay. It measures the time until every stayer reads the true
// count, from the last leave and from the first.
func runLeave(ctx context.Context, o *options) (err error) {
	r, err := newRun(ctx, o, "leave", 0)
	if err != nil {
		return err
	}
	defer func() { err = r.finish(err) }()

	_, ok := r.fillRoom()
	if !ok {
		return nil
	}

	// Each worker closes a third of its own members cleanly and resets a third.
	live, err := all[statsResult](r.ctx, r.pool, func(int) request { return request{Op: opStats, Timeout: 10 * time.Second} })
	if err != nil {
		r.res.Problem("counting members: %v", err)
		return nil
	}
	l := &result.Leave{}
	r.res.Leave = l
	left, err := all[leaveResult](r.ctx, r.pool, func(i int) request {
		n := live[i].Live
		return request{Op: opLeave, Clean: n / 3, Reset: n / 3, Timeout: 30 * time.Second}
	})
	if err != nil {
		r.res.Problem("leaving: %v", err)
		return nil
	}
	var first, last int64
	for i, x := range left {
		l.Clean += live[i].Live / 3
		l.Reset += live[i].Live / 3
		if x.Left > 0 && (first == 0 || x.FirstAt < first) {
			first = x.FirstAt
		}
		last = max(last, x.LastAt)
	}
	l.LeaveSpreadMs = ms(last - first)
	total := 0
	for _, s := range live {
		total += s.Live
	}
	l.Truth = total - l.Clean - l.Reset
	l.Stayed = l.Truth
	dropped := make([]int64, len(live))
	for i, s := range live {
		dropped[i] = s.Dropped
	}
	fa, err := r.await("stayers see the truth", l.Truth, o.Timeout, true, dropped)
	if err != nil {
		r.res.Problem("waiting for the count: %v", err)
		return nil
	}
	l.AtTarget, l.Exact = fa.AtTarget, fa.Done && fa.Live == l.Truth
	if fa.GaveUp {
		r.res.Problem("the server dropped stayers, so the rest could not all read %d: %s", l.Truth, fa.describeCounts())
		return nil
	}
	if !fa.Done {
		r.res.Problem("not every stayer read %d within %s: %s", l.Truth, o.Timeout, fa.describeCounts())
		return nil
	}
	if fa.Live != l.Truth {
		r.res.Problem("%s", fmt.Sprintf("%d stayers were expected but %d are live", l.Truth, fa.Live))
	}
	l.SinceLastMs = max(0, ms(fa.MaxSeenAt-last))
	l.SinceFirstMs = ms(fa.MaxSeenAt - first)
	return nil
}
