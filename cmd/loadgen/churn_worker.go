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
	// A tick does every change that is due by now, so a late tick (a busy
	// machine) catches up instead of lowering the rate.
	ticker := time.NewTicker(time.Duration(float64(time.Second) / r.Rate))
	defer ticker.Stop()
	changes := 0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case now := <-ticker.C:
			if now.After(end) {
				break loop
			}
			due := int(now.Sub(start).Seconds() * r.Rate)
			for ; changes < due; changes++ {
				res.Leaves += w.churnLeave()
				if !w.churnJoin(ctx, &wg, sem, func(err error) {
					failures.Add(1)
					errMu.Lock()
					defer errMu.Unlock()
					if len(res.Errors) < 3 && !slices.Contains(res.Errors, err.Error()) {
						res.Errors = append(res.Errors, err.Error())
					}
				}, func() { joins.Add(1) }) {
					failures.Add(1)
				}
			}
		}
	}
	wg.Wait()
	res.Joins, res.JoinFailures = int(joins.Load()), int(failures.Load())
	res.MaxPerSecond = w.maxPerSecond()

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

// churnLeave closes one random member cleanly; it returns how many left.
func (w *worker) churnLeave() int {
	w.mu.Lock()
	picked := w.pickLocked(1)
	w.mu.Unlock()
	for _, c := range picked {
		c.leaveClean()
	}
	return len(picked)
}

// churnJoin starts one join on its own goroutine, unless sem is full (it
// then reports false: too many joins are already in flight).
func (w *worker) churnJoin(ctx context.Context, wg *sync.WaitGroup, sem chan struct{}, failed func(error), joined func()) bool {
	select {
	case sem <- struct{}{}:
	default:
		return false
	}
	wg.Go(func() {
		defer func() { <-sem }()
		c, err := w.dialClient(ctx, w.pickIP())
		if err != nil {
			failed(err)
			return
		}
		joined()
		w.mu.Lock()
		w.live = append(w.live, c)
		w.all = append(w.all, c)
		w.mu.Unlock()
	})
	return true
}

// maxPerSecond is the most count frames any member read within one second
// of the window (seconds counted from the window's start).
func (w *worker) maxPerSecond() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var m int64
	for _, c := range w.all {
		m = max(m, c.secMax.Load())
	}
	return m
}
