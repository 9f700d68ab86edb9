package main

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// churn is the worker's side of the churn scenario: for r.Duration, r.Rate
// times a second, one random member leaves (cleanly) and one new client
// joins. The count frames its members read during that window, and the
// gaps between consecutive ones, are the result. Joins run concurrently (at
// most 64 in flight, each bounded by the dial timeout); a tick that finds
// 64 in flight counts as a failed join rather than queueing up.
func (w *worker) churn(ctx context.Context, r request) churnResult {
	w.gaps.reset()
	start := time.Now()
	end := start.Add(r.Duration)
	w.winEnd.Store(end.UnixNano())
	w.winStart.Store(start.UnixNano())
	defer w.winStart.Store(0)

	var (
		res      churnResult
		joins    atomic.Int64
		failures atomic.Int64
		wg       sync.WaitGroup
		sem      = make(chan struct{}, 64)
		errMu    sync.Mutex
	)
	ticker := time.NewTicker(time.Duration(float64(time.Second) / r.Rate))
	defer ticker.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case now := <-ticker.C:
			if now.After(end) {
				break loop
			}
		}
		w.mu.Lock()
		picked := w.pickLocked(1)
		w.mu.Unlock()
		for _, c := range picked {
			c.leaveClean()
			res.Leaves++
		}
		select {
		case sem <- struct{}{}:
		default:
			failures.Add(1)
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := w.dialClient(ctx, w.pickIP())
			if err != nil {
				failures.Add(1)
				errMu.Lock()
				if len(res.Errors) < 3 && !slices.Contains(res.Errors, err.Error()) {
					res.Errors = append(res.Errors, err.Error())
				}
				errMu.Unlock()
				return
			}
			joins.Add(1)
			w.mu.Lock()
			w.live = append(w.live, c)
			w.all = append(w.all, c)
			w.mu.Unlock()
		})
	}
	wg.Wait()
	res.Joins, res.JoinFailures = int(joins.Load()), int(failures.Load())

	ws, we := start.UnixNano(), min(end.UnixNano(), time.Now().UnixNano())
	res.WindowStart, res.WindowEnd = ws, we
	w.mu.Lock()
	for _, c := range w.all {
		res.Frames += c.winFrame.Load()
		from := max(c.joinedAt, ws)
		to := we
		if left := c.leftAt.Load(); left != 0 {
			to = min(to, left)
		}
		if to > from {
			res.MemberSeconds += float64(to-from) / 1e9
		}
	}
	w.mu.Unlock()
	res.Gaps = w.gaps.snapshot()
	return res
}
