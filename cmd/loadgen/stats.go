package main

import (
	"math"
	"slices"
)

// percentile returns the nearest-rank percentile p (0..100] of xs: the
// smallest value such that at least p% of the values are at or below it.
// It returns NaN for no values. xs is not modified.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 || p <= 0 || p > 100 || math.IsNaN(p) {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(rank, 1)-1]
}

// histogramQuantile estimates quantile q (0..1) of a Prometheus histogram
// from its cumulative bucket counts (upper bounds ascending, the last +Inf),
// interpolating linearly inside the bucket as Prometheus does. It returns
// NaN for an empty histogram, and the last finite bound when q falls in +Inf.
func histogramQuantile(q float64, bounds []float64, cumulative []float64) float64 {
	if len(bounds) == 0 || len(bounds) != len(cumulative) {
		return math.NaN()
	}
	total := cumulative[len(cumulative)-1]
	if total <= 0 {
		return math.NaN()
	}
	rank := q * total
	for i, c := range cumulative {
		if c < rank {
			continue
		}
		if math.IsInf(bounds[i], 1) {
			if i == 0 {
				return math.NaN()
			}
			return bounds[i-1]
		}
		lo, prev := 0.0, 0.0
		if i > 0 {
			lo, prev = bounds[i-1], cumulative[i-1]
		}
		if c == prev {
			return bounds[i]
		}
		return lo + (bounds[i]-lo)*(rank-prev)/(c-prev)
	}
	return bounds[len(bounds)-1]
}

// ms converts nanoseconds to milliseconds.
func ms(nanos int64) float64 { return float64(nanos) / 1e6 }

// finite turns NaN and ±Inf into 0, which JSON can hold.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}
