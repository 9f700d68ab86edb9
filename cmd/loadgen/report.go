package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"presence/cmd/loadgen/internal/result"
)

// runReport reads the result JSON files of a benchmark run and writes a
// Markdown report (BENCHMARKS.md) with every figure as the median of its
// repetitions, the ratio ours/baseline, and SVG charts.
func runReport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen report", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // mistakes are reported once, by runCLI
	dir := fs.String("results", "bench/results/latest", "folder of result JSON files (and meta.txt, profile.txt)")
	out := fs.String("out", "BENCHMARKS.md", "Markdown file to write")
	charts := fs.String("charts", "bench/charts", "folder for the SVG charts")
	chartLink := fs.String("chart-link", "", "how the Markdown links the charts folder (default: relative to --out)")
	ours := fs.String("ours", "ours", "label of our server")
	baselines := fs.String("baselines", "gohub,socketio", "labels of the baselines, in column order")
	notes := fs.String("notes", "", "Markdown file appended to the report (the reading of the numbers)")
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprintf(stderr, "Usage: loadgen report [flags]\n\nBuilds the benchmark report from the JSON files that 'loadgen SCENARIO --json' wrote.\n\n")
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return errUsage("unexpected argument %q", fs.Arg(0))
	}
	results, err := loadResults(*dir)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		return fmt.Errorf("no result files (*.json) in %s", *dir)
	}
	meta, _ := readMeta(filepath.Join(*dir, "meta.txt"))
	profile, _ := os.ReadFile(filepath.Join(*dir, "profile.txt"))
	var notesText []byte
	if *notes != "" {
		if notesText, err = os.ReadFile(*notes); err != nil {
			return fmt.Errorf("--notes: %w", err)
		}
	}

	rep := &report{results: results, ours: *ours, baselines: strings.Split(*baselines, ",")}
	rep.labels = rep.labelOrder()
	if err := os.MkdirAll(*charts, 0o755); err != nil {
		return err
	}
	link := *chartLink
	if link == "" {
		if link, err = filepath.Rel(filepath.Dir(*out), *charts); err != nil {
			link = *charts
		}
	}
	var chartFiles []string
	for _, c := range rep.charts() {
		path := filepath.Join(*charts, c.file)
		if err := os.WriteFile(path, []byte(c.svg), 0o644); err != nil {
			return err
		}
		chartFiles = append(chartFiles, c.file)
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	var b strings.Builder
	rep.markdown(&b, meta, string(profile), string(notesText), link, chartFiles)
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s from %d results\n", *out, len(results))
	return nil
}

func loadResults(dir string) ([]*result.Run, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []*result.Run
	for _, p := range paths {
		r, err := result.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// metaLine is one "key: value" line of meta.txt, in file order.
type metaLine struct{ key, value string }

func readMeta(path string) ([]metaLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []metaLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok {
			out = append(out, metaLine{strings.TrimSpace(k), strings.TrimSpace(v)})
		}
	}
	return out, sc.Err()
}

// report groups results by scenario and N, and each group by label.
type report struct {
	results   []*result.Run
	ours      string
	baselines []string
	labels    []string
}

// labelOrder is ours, then any other label that is not a baseline, then the
// baselines in their given order.
func (r *report) labelOrder() []string {
	seen := map[string]bool{}
	for _, x := range r.results {
		seen[x.Label] = true
	}
	var out []string
	if seen[r.ours] {
		out = append(out, r.ours)
	}
	var others []string
	for l := range seen {
		if l != r.ours && !slices.Contains(r.baselines, l) {
			others = append(others, l)
		}
	}
	sort.Strings(others)
	out = append(out, others...)
	for _, l := range r.baselines {
		if seen[l] {
			out = append(out, l)
		}
	}
	return out
}

// runs returns the results of one scenario, N and label.
func (r *report) runs(scenario string, n int, label string) []*result.Run {
	var out []*result.Run
	for _, x := range r.results {
		if x.Scenario == scenario && x.N == n && x.Label == label {
			out = append(out, x)
		}
	}
	return out
}

// sizes returns the Ns measured for a scenario, ascending.
func (r *report) sizes(scenario string) []int {
	var out []int
	for _, x := range r.results {
		if x.Scenario == scenario && !slices.Contains(out, x.N) {
			out = append(out, x.N)
		}
	}
	slices.Sort(out)
	return out
}

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
		if f.unit == "ms" {
			t = base.timeout * 1000
		} else if f.unit == "s" {
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

// table writes one Markdown table: figures down, labels across, then a
// ratio column per baseline.
func (r *report) table(w io.Writer, scenario string, n int, figs []figure) {
	fmt.Fprintf(w, "| N = %d | %s |", n, strings.Join(r.labels, " | "))
	var bases []string
	for _, b := range r.baselines {
		if slices.Contains(r.labels, b) && b != r.ours {
			bases = append(bases, b)
			fmt.Fprintf(w, " %s / %s |", r.ours, b)
		}
	}
	fmt.Fprintf(w, "\n|---|%s%s\n", strings.Repeat("---|", len(r.labels)), strings.Repeat("---|", len(bases)))
	fmt.Fprintf(w, "| runs (ok / all) |")
	for _, l := range r.labels {
		runs := r.runs(scenario, n, l)
		ok := 0
		for _, x := range runs {
			if x.OK {
				ok++
			}
		}
		fmt.Fprintf(w, " %d / %d |", ok, len(runs))
	}
	fmt.Fprintf(w, "%s\n", strings.Repeat(" |", len(bases)))
	for _, f := range figs {
		vals := map[string]value{}
		fmt.Fprintf(w, "| %s |", f.name)
		for _, l := range r.labels {
			vals[l] = f.value(r.runs(scenario, n, l))
			fmt.Fprintf(w, " %s |", f.format(vals[l]))
		}
		for _, b := range bases {
			fmt.Fprintf(w, " %s |", f.ratio(vals[r.ours], vals[b]))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// problems lists what went wrong in the runs of a scenario, once each.
func (r *report) problems(w io.Writer, scenario string) {
	seen := map[string]bool{}
	var lines []string
	for _, x := range r.results {
		if x.Scenario != scenario {
			continue
		}
		for _, p := range x.Problems {
			line := fmt.Sprintf("%s, N = %d: %s", x.Label, x.N, p)
			if !seen[line] {
				seen[line] = true
				lines = append(lines, line)
			}
		}
	}
	sort.Strings(lines)
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "<details><summary>What went wrong in these runs (%d distinct notes)</summary>\n\n", len(lines))
	for i, l := range lines {
		if i == 30 {
			fmt.Fprintf(w, "- … and %d more (see the JSON files)\n", len(lines)-30)
			break
		}
		fmt.Fprintf(w, "- %s\n", strings.ReplaceAll(l, "|", "\\|"))
	}
	fmt.Fprintf(w, "\n</details>\n\n")
}
