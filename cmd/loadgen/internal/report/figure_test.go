package report

import (
	"math"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{math.NaN(), 7, 1, math.NaN(), 4}, 4},
		{[]float64{1, math.Inf(1), math.Inf(1)}, math.Inf(1)},
	} {
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
	if !math.IsNaN(median([]float64{math.NaN()})) {
		t.Error("median of nothing is not NaN")
	}
}
