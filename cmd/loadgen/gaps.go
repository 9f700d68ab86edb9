package main

import (
	"math"
	"sync/atomic"
	"time"
)

// gapHist is a histogram of the time between two consecutive count frames
// read by the same member, in 0.5 ms buckets up to 2 s (one overflow bucket
// above). Readers add to it concurrently. It is how the churn scenario shows
// that a member gets at most one count frame per flush interval.
type gapHist struct {
	buckets [gapBuckets + 1]atomic.Int64
	min     atomic.Int64 // smallest gap, ns; 0 = none yet
}

const (
	gapBucket  = 500 * time.Microsecond
	gapBuckets = int(2 * time.Second / gapBucket)
)

func (h *gapHist) add(d time.Duration) {
	i := int(d / gapBucket)
	if i > gapBuckets || i < 0 {
		i = gapBuckets
	}
	h.buckets[i].Add(1)
	for {
		m := h.min.Load()
		if (m != 0 && int64(d) >= m) || h.min.CompareAndSwap(m, max(int64(d), 1)) {
			return
		}
	}
}

func (h *gapHist) reset() {
	for i := range h.buckets {
		h.buckets[i].Store(0)
	}
	h.min.Store(0)
}

// snapshot returns the histogram as plain, mergeable numbers.
func (h *gapHist) snapshot() gapStats {
	s := gapStats{Buckets: make([]int64, len(h.buckets)), MinNs: h.min.Load()}
	for i := range h.buckets {
		s.Buckets[i] = h.buckets[i].Load()
	}
	return s
}

// gapStats is a gapHist's content: Buckets[i] counts gaps in
// [i, i+1) × 0.5 ms, the last bucket everything from 2 s on.
type gapStats struct {
	Buckets []int64 `json:"buckets"`
	MinNs   int64   `json:"minNs"`
}

func (s *gapStats) merge(o gapStats) {
	if len(s.Buckets) < len(o.Buckets) {
		s.Buckets = append(s.Buckets, make([]int64, len(o.Buckets)-len(s.Buckets))...)
	}
	for i, v := range o.Buckets {
		s.Buckets[i] += v
	}
	if o.MinNs != 0 && (s.MinNs == 0 || o.MinNs < s.MinNs) {
		s.MinNs = o.MinNs
	}
}

func (s gapStats) total() int64 {
	var n int64
	for _, v := range s.Buckets {
		n += v
	}
	return n
}

// below is the number of gaps shorter than d (to the bucket: a bucket counts
// when it lies wholly below d).
func (s gapStats) below(d time.Duration) int64 {
	var n int64
	for i, v := range s.Buckets {
		if time.Duration(i+1)*gapBucket > d {
			break
		}
		n += v
	}
	return n
}

// quantile returns the gap at quantile q (0..1), to the bucket's upper edge.
func (s gapStats) quantile(q float64) time.Duration {
	total := s.total()
	if total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(total)))
	if rank < 1 {
		rank = 1
	}
	var n int64
	for i, v := range s.Buckets {
		n += v
		if n >= rank {
			return time.Duration(i+1) * gapBucket
		}
	}
	return time.Duration(len(s.Buckets)) * gapBucket
}
