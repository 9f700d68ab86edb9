package report

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
)

// Hand-made SVG line charts: few points, a handful of series, no
// dependency.

// point is one measurement: x is N, y the figure.
type point struct{ x, y float64 }

// series is one line of a chart, drawn in color, with a legend entry.
type series struct {
	name   string
	color  string
	dashed bool
	points []point
}

// chartSpec is everything lineChart draws.
type chartSpec struct {
	title, xLabel, yLabel string
	logY                  bool
	note                  string // a line under the plot, e.g. what is missing and why
	series                []series
	ref                   float64 // a horizontal reference line (a target) at this y; 0 = none
	refLabel              string
}

// lineChart renders spec as a standalone SVG document.
func lineChart(spec chartSpec) string {
	const (
		width, plotHeight = 720, 320
		left, right, top  = 70, 190, 40
	)
	note := wrap(spec.note, 110)
	height := top + plotHeight + 52 + 13*len(note)
	pw, ph := float64(width-left-right), float64(plotHeight)
	var xs, ys []float64
	for _, s := range spec.series {
		for _, p := range s.points {
			xs = append(xs, p.x)
			if !spec.logY || p.y > 0 {
				ys = append(ys, p.y)
			}
		}
	}
	if spec.ref > 0 {
		ys = append(ys, spec.ref)
	}
	if len(xs) == 0 || len(ys) == 0 {
		return `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`
	}
	xmax := niceCeil(slices.Max(xs))
	var ymin, ymax float64
	var yticks []float64
	if spec.logY {
		ymin = math.Pow(10, math.Floor(math.Log10(slices.Min(ys))))
		ymax = math.Pow(10, math.Ceil(math.Log10(slices.Max(ys))))
		if ymax <= ymin {
			ymax = ymin * 10
		}
		for t := ymin; t <= ymax*1.0001; t *= 10 {
			yticks = append(yticks, t)
		}
	} else {
		ymax = niceCeil(slices.Max(ys) * 1.1)
		for i := 0; i <= 5; i++ {
			yticks = append(yticks, ymax*float64(i)/5)
		}
	}
	px := func(x float64) float64 { return float64(left) + pw*x/xmax }
	py := func(y float64) float64 {
		if spec.logY {
			return float64(top) + ph*(1-(math.Log10(y)-math.Log10(ymin))/(math.Log10(ymax)-math.Log10(ymin)))
		}
		return float64(top) + ph*(1-y/ymax)
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", left, esc(spec.title))
	// Grid and y ticks.
	for _, t := range yticks {
		y := py(t)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, y, float64(left)+pw, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y+4, tickText(t))
	}
	// x ticks: the measured Ns.
	var xticks []float64
	for _, x := range xs {
		if !slices.Contains(xticks, x) {
			xticks = append(xticks, x)
		}
	}
	for _, t := range xticks {
		x := px(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", x, top, x, float64(top)+ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, float64(top)+ph+16, tickText(t))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#333"/>`+"\n", left, top, pw, ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", float64(left)+pw/2, float64(top)+ph+36, esc(spec.xLabel))
	fmt.Fprintf(&b, `<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", float64(top)+ph/2, esc(spec.yLabel))
	if spec.ref > 0 {
		y := py(spec.ref)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999" stroke-dasharray="2 3"/>`+"\n", left, y, float64(left)+pw, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="#666">%s</text>`+"\n", float64(left)+pw-4, y-4, esc(spec.refLabel))
	}
	// Series and legend.
	for i, s := range spec.series {
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		var pts []string
		for _, p := range s.points {
			if spec.logY && p.y <= 0 {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p.x), py(p.y)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", s.color, dash, strings.Join(pts, " "))
		for _, p := range pts {
			x, y, _ := strings.Cut(p, ",")
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3.5" fill="%s"/>`+"\n", x, y, s.color)
		}
		ly := top + 10 + i*20
		lx := width - right + 15
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", lx, ly, lx+24, ly, s.color, dash)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", lx+30, ly+4, esc(s.name))
	}
	// The note, wrapped.
	for i, line := range note {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#555">%s</text>`+"\n", 10, top+plotHeight+58+i*13, esc(line))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// niceCeil rounds x up to 1, 2 or 5 times a power of ten.
func niceCeil(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

func tickText(v float64) string {
	switch {
	case v >= 1000 && math.Mod(v, 1000) == 0:
		return fmt.Sprintf("%gk", v/1000)
	case v >= 1:
		return fmt.Sprintf("%g", math.Round(v*10)/10)
	}
	return fmt.Sprintf("%g", v)
}

func esc(s string) string { return html.EscapeString(s) }

func wrap(s string, width int) []string {
	var lines []string
	var cur string
	for _, w := range strings.Fields(s) {
		if len(cur)+len(w)+1 > width && cur != "" {
			lines = append(lines, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}
