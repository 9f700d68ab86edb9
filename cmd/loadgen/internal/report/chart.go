package report

import (
	"fmt"
	"math"
	"strings"
)

// The report's charts: count-propagation latency and memory per connection
// against N for every server, from the idle scenario's results.

// chartFile is one chart: its file name in the charts folder and the SVG.
type chartFile struct{ file, svg string }

// palette gives the usual servers fixed colours; others take a spare one.
var palette = map[string]string{"ours": "#1b7837", "gohub": "#2166ac", "socketio": "#b2182b", "centrifugo": "#c51b7d"}
var spare = []string{"#762a83", "#e08214", "#35978f", "#8c510a"}

// color is the colour of label, the i-th label of the report.
func (r *report) color(label string, i int) string {
	if c, ok := palette[label]; ok {
		return c
	}
	return spare[i%len(spare)]
}

// charts builds the report's charts from the idle scenario's results:
// memory per connection, and the latency steps taken in the same quiet room.
func (r *report) charts() []chartFile {
	var out []chartFile
	var lat []series
	var missing []string
	for i, l := range r.labels {
		p50 := series{name: l + " p50", color: r.color(l, i)}
		p99 := series{name: l + " p99", color: r.color(l, i), dashed: true}
		for _, n := range r.sizes("idle") {
			runs := r.runs("idle", n, l)
			if len(runs) == 0 {
				continue
			}
			v50 := idleLatencyP50.value(runs)
			v99 := idleLatencyP99.value(runs)
			if math.IsNaN(v50.median) || math.IsInf(v50.median, 0) {
				missing = append(missing, fmt.Sprintf("%s at N=%d", l, n))
				continue
			}
			p50.points = append(p50.points, point{float64(n), v50.median})
			p99.points = append(p99.points, point{float64(n), v99.median})
		}
		if len(p50.points) > 0 {
			lat = append(lat, p50, p99)
		}
	}
	if len(lat) > 0 {
		note := "One join or leave in a quiet room of N (the idle scenario's steps) → the last member reads the new count; median of runs." + r.latencySteps()
		if len(missing) > 0 {
			note += " Not measured: " + strings.Join(missing, ", ") + "."
		}
		out = append(out, chartFile{"latency.svg", lineChart(chartSpec{
			title: "Count-propagation latency vs room size", xLabel: "members in the room (N)", yLabel: "latency (ms, log scale)",
			logY: true, note: note + singlePoints(lat), series: lat,
		})})
	}

	var mem []series
	missing = nil
	for i, l := range r.labels {
		s := series{name: l, color: r.color(l, i)}
		for _, n := range r.sizes("idle") {
			runs := r.runs("idle", n, l)
			if len(runs) == 0 {
				continue
			}
			v := idleMemoryPerConn.value(runs)
			if math.IsNaN(v.median) {
				missing = append(missing, fmt.Sprintf("%s at N=%d", l, n))
				continue
			}
			s.points = append(s.points, point{float64(n), v.median})
		}
		if len(s.points) > 0 {
			mem = append(mem, s)
		}
	}
	if len(mem) > 0 {
		note := "Server RSS growth / N, N idle members in one room; median of runs."
		if len(missing) > 0 {
			note += " Not measured: " + strings.Join(missing, ", ") + "."
		}
		out = append(out, chartFile{"memory.svg", lineChart(chartSpec{
			title: "Server memory per idle connection vs N", xLabel: "idle members (N)", yLabel: "KiB per connection (RSS)",
			note: note + singlePoints(mem), series: mem, ref: 8, refLabel: "target: 8 KiB",
		})})
	}
	if c, ok := r.ratioChart(); ok {
		out = append(out, c)
	}
	return out
}

// singlePoints names the series measured at one N only (drawn as dots).
func singlePoints(ss []series) string {
	var names []string
	for _, s := range ss {
		if len(s.points) == 1 && !s.dashed {
			names = append(names, fmt.Sprintf("%s at N = %g", strings.TrimSuffix(s.name, " p50"), s.points[0].x))
		}
	}
	if len(names) == 0 {
		return ""
	}
	return " Measured at one size only (dots): " + strings.Join(names, ", ") + "; at larger N they could not form the room (see the ramp tables)."
}
