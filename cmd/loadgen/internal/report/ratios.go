package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// sameNFigures are the figures of the "same N" table: the headline figures,
// plus the idle room's filling rate (joins without O(N²) pushes).
var sameNFigures = func() []struct {
	scenario string
	fig      figure
} {
	out := slices.Clone(headlines)
	i := slices.IndexFunc(out, func(h struct {
		scenario string
		fig      figure
	}) bool {
		return h.fig.name == rampHandshakesPerS.name
	})
	return slices.Insert(out, i+1, struct {
		scenario string
		fig      figure
	}{"idle", idleHandshakesPerS})
}()

// sameN writes ours ÷ each baseline for every headline figure, at the
// largest N at which both were measured: the ratios the tables below hold,
// gathered in one place. A cell reads "ratio (N = n: ours vs baseline)".
func (r *report) sameN(w io.Writer) {
	var bases []string
	for _, b := range r.baselines {
		if b != r.ours && slices.Contains(r.labels, b) {
			bases = append(bases, b)
		}
	}
	if len(bases) == 0 || !slices.Contains(r.labels, r.ours) {
		return
	}
	fmt.Fprintf(w, "## %s ÷ each baseline, at the largest N both were measured at\n\n", r.ours)
	fmt.Fprintf(w, "| figure (scenario) | %s |\n|---|%s\n", strings.Join(bases, " | "), strings.Repeat("---|", len(bases)))
	for _, h := range sameNFigures {
		fmt.Fprintf(w, "| %s (%s) |", h.fig.name, h.scenario)
		for _, b := range bases {
			fmt.Fprintf(w, " %s |", r.sameNCell(h.scenario, h.fig, b))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// sameNCell is one cell of the sameN table: the largest N at which ours and
// base both have a value for f.
func (r *report) sameNCell(scenario string, f figure, base string) string {
	sizes := r.sizes(scenario)
	for i := len(sizes) - 1; i >= 0; i-- {
		ours := f.value(r.runs(scenario, sizes[i], r.ours))
		other := f.value(r.runs(scenario, sizes[i], base))
		if math.IsNaN(ours.median) || math.IsNaN(other.median) {
			continue
		}
		if f.runs {
			return fmt.Sprintf("N = %d: %s vs %s", sizes[i], f.format(ours), f.format(other))
		}
		ratio := f.ratio(ours, other)
		if ratio == "" {
			ratio = "—"
		}
		return fmt.Sprintf("**%s** <sub>(N = %d: %s vs %s)</sub>", ratio, sizes[i], stripRange(f.format(ours)), stripRange(f.format(other)))
	}
	return ""
}

// stripRange drops the [min–max] of a formatted value: the table of ratios
// shows medians; the ranges are in the scenario tables.
func stripRange(s string) string {
	if i := strings.Index(s, " <sub>["); i >= 0 {
		return s[:i]
	}
	return s
}

// ratioChart draws ours ÷ each baseline against N from the idle scenario:
// memory per connection (solid) and count-propagation latency p50 (dashed),
// at every N both were measured at. Below the line at 1, ours is better.
func (r *report) ratioChart() (chartFile, bool) {
	var ss []series
	for i, b := range r.labels {
		if b == r.ours || !slices.Contains(r.baselines, b) {
			continue
		}
		for _, f := range []struct {
			fig    figure
			what   string
			dashed bool
		}{{idleMemoryPerConn, "memory", false}, {idleLatencyP50, "latency p50", true}} {
			s := series{name: b + " " + f.what, color: r.color(b, i), dashed: f.dashed}
			for _, n := range r.sizes("idle") {
				o := f.fig.value(r.runs("idle", n, r.ours)).median
				v := f.fig.value(r.runs("idle", n, b)).median
				if math.IsNaN(o) || math.IsNaN(v) || math.IsInf(o, 0) || math.IsInf(v, 0) || v == 0 || o == 0 {
					continue
				}
				s.points = append(s.points, point{float64(n), o / v})
			}
			if len(s.points) > 0 {
				ss = append(ss, s)
			}
		}
	}
	if len(ss) == 0 {
		return chartFile{}, false
	}
	return chartFile{"ratios.svg", lineChart(chartSpec{
		title: r.ours + " ÷ each baseline vs N (idle room)", xLabel: "members in the room (N)", yLabel: "ratio (log scale; below 1: ours is better)",
		logY: true, ref: 1, refLabel: "equal",
		note: "Medians of runs, at every N where both were measured: server memory per idle connection (solid) and count-propagation latency p50 after the idle hold (dashed)." +
			r.latencySteps(),
		series: ss,
	})}, true
}
