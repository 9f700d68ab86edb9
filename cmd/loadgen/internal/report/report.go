// Package report is 'loadgen report': it reads the result files of a
// benchmark run (bench/run.sh) and writes BENCHMARKS.md, with every figure
// as the median of its repetitions and the ratio ours/baseline, and the
// SVG charts it links.
package report

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"presence/cmd/loadgen/internal/result"
)

// Options are the settings of 'loadgen report', one per flag.
type Options struct {
	Results   string // folder of result JSON files, meta.txt and profile.txt
	Out       string // the Markdown file to write
	Charts    string // the folder to write the SVG charts into
	ChartLink string // how the Markdown links Charts; "" is relative to Out
	Ours      string // the label of our server
	Baselines string // the labels of the baselines, comma-separated, in column order
	Notes     string // a Markdown file appended to the report; "" for none
}

// Register defines o's flags on fs, with their defaults.
func (o *Options) Register(fs *flag.FlagSet) {
	fs.StringVar(&o.Results, "results", "bench/results/latest", "folder of result JSON files (and meta.txt, profile.txt)")
	fs.StringVar(&o.Out, "out", "BENCHMARKS.md", "Markdown file to write")
	fs.StringVar(&o.Charts, "charts", "bench/charts", "folder for the SVG charts")
	fs.StringVar(&o.ChartLink, "chart-link", "", "how the Markdown links the charts folder (default: relative to --out)")
	fs.StringVar(&o.Ours, "ours", "ours", "label of our server")
	fs.StringVar(&o.Baselines, "baselines", "gohub,socketio,centrifugo", "labels of the baselines, in column order")
	fs.StringVar(&o.Notes, "notes", "", "Markdown file appended to the report (the reading of the numbers)")
}

// Write reads the result JSON files in o.Results and writes the Markdown
// report and its charts, naming each file it wrote on stdout.
func Write(o Options, stdout io.Writer) error {
	results, err := loadResults(o.Results)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		return fmt.Errorf("no result files (*.json) in %s", o.Results)
	}
	meta, _ := readMeta(filepath.Join(o.Results, "meta.txt"))
	profile, _ := os.ReadFile(filepath.Join(o.Results, "profile.txt"))
	var notesText []byte
	if o.Notes != "" {
		if notesText, err = os.ReadFile(o.Notes); err != nil {
			return fmt.Errorf("--notes: %w", err)
		}
	}

	rep := &report{results: results, ours: o.Ours, baselines: strings.Split(o.Baselines, ",")}
	rep.labels = rep.labelOrder()
	if err := os.MkdirAll(o.Charts, 0o755); err != nil {
		return err
	}
	link := o.ChartLink
	if link == "" {
		if link, err = filepath.Rel(filepath.Dir(o.Out), o.Charts); err != nil {
			link = o.Charts
		}
	}
	var chartFiles []string
	for _, c := range rep.charts() {
		path := filepath.Join(o.Charts, c.file)
		if err := os.WriteFile(path, []byte(c.svg), 0o644); err != nil {
			return err
		}
		chartFiles = append(chartFiles, c.file)
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	var b strings.Builder
	rep.markdown(&b, meta, string(profile), string(notesText), link, chartFiles)
	if err := os.WriteFile(o.Out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s from %d results\n", o.Out, len(results))
	return nil
}

// loadResults reads every *.json in dir as a run's result.
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

// readMeta reads the run's settings that bench/run.sh wrote to meta.txt.
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
