package report

import (
	"fmt"
	"math"
	"slices"

	"presence/cmd/loadgen/internal/result"
)

// figure is one row of a table: how to read it from a result. get returns
// NaN for "not measured" and +Inf for "did not finish within the timeout".
type figure struct {
	name    string
	unit    string // shown after the number; "s" and "ms" figures show a timeout as "> T s"
	digits  int
	get     func(*result.Run) float64
	runs    bool // a yes/no per run, shown as "yes in k of n runs"
	noRatio bool // a ratio would mean nothing (e.g. a minimum near 0)
}

// value is a figure's median over runs, with its spread.
type value struct {
	median, lo, hi float64
	n, yes         int
	timeout        float64
	infDropped     int // runs that did not finish because the server dropped clients
	inf            int // runs that did not finish
}

func (f figure) value(runs []*result.Run) value {
	v := value{median: math.NaN()}
	var xs []float64
	for _, x := range runs {
		y := f.get(x)
		v.timeout = max(v.timeout, x.TimeoutS)
		if math.IsNaN(y) {
			continue
		}
		v.n++
		if y == 1 {
			v.yes++
		}
		if math.IsInf(y, 1) {
			v.inf++
			if x.Frames.Dropped > 0 {
				v.infDropped++
			}
		}
		xs = append(xs, y)
	}
	if len(xs) == 0 {
		return v
	}
	v.median = median(xs)
	v.lo, v.hi = slices.Min(xs), slices.Max(xs)
	return v
}

func (f figure) format(v value) string {
	if f.runs {
		if v.n == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%d of %d", v.yes, v.n)
	}
	num := func(x float64) string {
		if math.IsInf(x, 1) {
			return "> " + fmt.Sprint(v.timeout) + " s"
		}
		return fmt.Sprintf("%.*f", f.digits, x)
	}
	switch {
	case math.IsNaN(v.median):
		return "n/a"
	case math.IsInf(v.median, 1) && v.infDropped*2 >= v.inf:
		return "never: the server dropped clients"
	case math.IsInf(v.median, 1):
		return fmt.Sprintf("> %g s (timed out)", v.timeout)
	}
	s := num(v.median)
	if f.unit != "" {
		s += " " + f.unit
	}
	if v.n > 1 && v.hi > v.lo {
		s += fmt.Sprintf(" <sub>[%s–%s]</sub>", num(v.lo), num(v.hi))
	}
	return s
}

// ratio is ours / baseline of two medians, in words when one timed out.
func (f figure) ratio(ours, base value) string {
	o, b := ours.median, base.median
	switch {
	case f.runs || f.noRatio || math.IsNaN(o) || math.IsNaN(b):
		return ""
	case math.IsInf(b, 1) && base.infDropped*2 >= base.inf:
		return ""
	case math.IsInf(o, 1):
		return "—"
	case math.IsInf(b, 1):
		t := b
		switch f.unit {
		case "ms":
			t = base.timeout * 1000
		case "s":
			t = base.timeout
		}
		if math.IsInf(t, 1) || t == 0 {
			return ""
		}
		return "< " + ratioText(o/t)
	case b == 0:
		if o == 0 {
			return "1×"
		}
		return ""
	}
	return ratioText(o / b)
}

func ratioText(x float64) string {
	switch {
	case x == 0:
		return "0×"
	case x < 0.01:
		return fmt.Sprintf("%.2g×", x)
	case x < 10:
		return fmt.Sprintf("%.2f×", x)
	}
	return fmt.Sprintf("%.0f×", x)
}

// median returns the middle value of xs (the mean of the two middle ones for
// an even count), ignoring NaNs; NaN when there is none.
func median(xs []float64) float64 {
	s := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			s = append(s, x)
		}
	}
	if len(s) == 0 {
		return math.NaN()
	}
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
