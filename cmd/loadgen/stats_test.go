package main

import (
	"math"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, tt := range []struct{ p, want float64 }{{50, 5}, {90, 9}, {95, 10}, {99, 10}, {100, 10}, {10, 1}, {1, 1}} {
		if got := percentile(xs, tt.p); got != tt.want {
			t.Errorf("p%v = %v, want %v", tt.p, got, tt.want)
		}
	}
	if xs[0] != 5 {
		t.Error("percentile sorted its input")
	}
	if !math.IsNaN(percentile(nil, 50)) || !math.IsNaN(percentile(xs, 0)) || !math.IsNaN(percentile(xs, 101)) {
		t.Error("want NaN for no values or a bad p")
	}
	if got := percentile([]float64{42}, 99); got != 42 {
		t.Errorf("one value: %v", got)
	}
}

func TestHistogramQuantile(t *testing.T) {
	bounds := []float64{0.01, 0.1, 1, math.Inf(1)}
	cum := []float64{10, 60, 100, 100}
	if got := histogramQuantile(0.5, bounds, cum); math.Abs(got-0.082) > 1e-9 {
		t.Errorf("p50 = %v, want 0.082 (interpolated in (0.01, 0.1])", got)
	}
	if got := histogramQuantile(0.05, bounds, cum); math.Abs(got-0.005) > 1e-9 {
		t.Errorf("p5 = %v, want 0.005", got)
	}
	if got := histogramQuantile(0.99, bounds, []float64{0, 0, 50, 100}); got != 1 {
		t.Errorf("in +Inf: %v, want the last finite bound 1", got)
	}
	if !math.IsNaN(histogramQuantile(0.5, bounds, []float64{0, 0, 0, 0})) {
		t.Error("empty histogram is not NaN")
	}
}

func TestGapStats(t *testing.T) {
	var h gapHist
	for _, d := range []time.Duration{0, 300 * time.Microsecond, 20 * time.Millisecond, 50 * time.Millisecond, 51 * time.Millisecond, 3 * time.Second} {
		h.add(d)
	}
	s := h.snapshot()
	if s.total() != 6 {
		t.Fatalf("total %d", s.total())
	}
	if got := s.below(50 * time.Millisecond); got != 3 {
		t.Errorf("below 50ms = %d, want 3", got)
	}
	if got := s.below(25 * time.Millisecond); got != 3 {
		t.Errorf("below 25ms = %d, want 3", got)
	}
	if s.MinNs != 1 {
		t.Errorf("min %d, want 1 (a zero gap is kept as 1 ns)", s.MinNs)
	}
	if got := s.quantile(0.5); got != 20500*time.Microsecond {
		t.Errorf("p50 = %v", got)
	}
	var m gapStats
	m.merge(s)
	m.merge(s)
	if m.total() != 12 || m.MinNs != 1 {
		t.Errorf("merged: total %d min %d", m.total(), m.MinNs)
	}
	h.reset()
	if h.snapshot().total() != 0 {
		t.Error("reset left gaps")
	}
}
