package main

import (
	"context"
	"os"
	"time"

	"presence/cmd/loadgen/internal/result"
)

// runChurn: a room of N, then --churn-rate joins and as many leaves per
// second for --duration. It measures the count frames each member reads per
// second (a coalescing server sends at most one per flush interval, whatever
// the churn), the gaps between a member's consecutive frames, and whether
// every remaining member ends on the exact count.
func runChurn(ctx context.Context, o *options) (err error) {
	extra := int(o.Rate2*o.Duration.Seconds()) / 4 // joins outpacing leaves, briefly
	r, err := newRun(ctx, o, "churn", extra)
	if err != nil {
		return err
	}
	defer func() { err = r.finish(err) }()

	_, ok := r.fillRoom()
	if !ok {
		return nil
	}

	w := len(r.pool.workers)
	c := &result.Churn{RatePerS: o.Rate2, DurationS: o.Duration.Seconds(), CapPerMemberS: 1 / o.FlushInterval.Seconds()}
	r.res.Churn = c
	start := time.Now()
	b := startBar(os.Stderr, r.live, "churning (seconds)", int64(o.Duration/time.Second), func() int64 {
		return int64(time.Since(start) / time.Second)
	})
	results, err := all[churnResult](r.ctx, r.pool, func(int) request {
		return request{Op: opChurn, Rate: o.Rate2 / float64(w), Duration: o.Duration, Timeout: o.Duration + o.DialTimeout + 5*time.Second}
	})
	b.stop("")
	if err != nil {
		r.res.Problem("churn: %v", err)
		return nil
	}
	var gaps gapStats
	var frames int64
	var memberS float64
	var end int64
	for _, cr := range results {
		c.Joins += cr.Joins
		c.Leaves += cr.Leaves
		c.JoinFailures += cr.JoinFailures
		frames += cr.Frames
		memberS += cr.MemberSeconds
		gaps.merge(cr.Gaps)
		end = max(end, cr.WindowEnd)
		c.MaxPerMemberS = max(c.MaxPerMemberS, cr.MaxPerSecond)
		for _, e := range cr.Errors {
			r.res.Problem("churn join: %s", e)
		}
	}
	if memberS > 0 {
		c.FramesPerMemberS = float64(frames) / memberS
	}
	c.Gaps = gaps.total()
	c.GapsBelowInterval = gaps.below(o.FlushInterval)
	c.GapsBelowHalf = gaps.below(o.FlushInterval / 2)
	c.MinGapMs = ms(gaps.MinNs)
	c.GapP1Ms = ms(int64(gaps.quantile(0.01)))
	c.GapP50Ms = ms(int64(gaps.quantile(0.5)))
	if c.JoinFailures > 0 {
		r.res.Problem("%d churn joins failed", c.JoinFailures)
	}

	// The truth is the members we hold open; every one must read it.
	truth, dropped, err := r.liveMembers()
	if err != nil {
		r.res.Problem("counting members: %v", err)
		return nil
	}
	c.Truth = truth
	fa, err := r.await("final count", truth, o.Timeout, true, dropped)
	if err != nil {
		r.res.Problem("waiting for the final count: %v", err)
		return nil
	}
	c.Live, c.AtTarget, c.Exact = fa.Live, fa.AtTarget, fa.Done
	if fa.Done {
		c.SettleMs = max(0, ms(fa.MaxSeenAt-end))
	} else if fa.GaveUp {
		r.res.Problem("final count NOT exact: the server dropped members after the churn; %d of %d read %d (%s)", fa.AtTarget, fa.Live, truth, fa.describeCounts())
	} else {
		r.res.Problem("final count NOT exact: %d of %d members read %d within %s; %s", fa.AtTarget, fa.Live, truth, o.Timeout, fa.describeCounts())
	}
	return nil
}

// liveMembers is the number of members the workers hold open, and how many
// of each worker's clients the server has dropped so far.
func (r *run) liveMembers() (int, []int64, error) {
	stats, err := all[statsResult](r.ctx, r.pool, func(int) request { return request{Op: opStats, Timeout: 10 * time.Second} })
	n := 0
	dropped := make([]int64, len(stats))
	for i, s := range stats {
		n += s.Live
		dropped[i] = s.Dropped
	}
	return n, dropped, err
}
