package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from testdata/results")

// TestWriteGolden builds the report from testdata/results (short real runs
// against our server, some relabelled and edited to cover timeouts, dropped
// clients, a variant of ours and a problem with a '|') and compares it byte
// for byte with testdata/golden. BENCHMARKS.md and the charts are
// committed, so a change to them should be deliberate: go test -update.
func TestWriteGolden(t *testing.T) {
	dir := t.TempDir()
	if *update {
		dir = "testdata/golden"
	}
	o := Options{
		Results: "testdata/results", Out: filepath.Join(dir, "BENCHMARKS.md"), Charts: filepath.Join(dir, "charts"),
		ChartLink: "charts", Ours: "ours", Baselines: "gohub,socketio,centrifugo", Notes: "testdata/notes.md",
	}
	var stdout bytes.Buffer
	if err := Write(o, &stdout); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(stdout.String(), "BENCHMARKS.md from 16 results\n") {
		t.Errorf("stdout: %s", stdout.String())
	}
	for _, f := range []string{"BENCHMARKS.md", "charts/latency.svg", "charts/memory.svg"} {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("testdata/golden", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from testdata/golden/%s (go test -update rewrites it):\n%s", f, f, firstDiff(got, want))
		}
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, gl, wl)
		}
	}
	return "(only in length)"
}

func TestWriteNoResults(t *testing.T) {
	dir := t.TempDir()
	err := Write(Options{Results: dir, Out: filepath.Join(dir, "B.md"), Charts: filepath.Join(dir, "charts")}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "no result files") {
		t.Errorf("err = %v, want no result files", err)
	}
}
