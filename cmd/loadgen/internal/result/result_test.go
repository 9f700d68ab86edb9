package result

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRoundTrip reads a file that a ramp run wrote and writes it again: the
// same bytes, so the field names and their order are those of the file
// format that 'loadgen report' and older results use.
func TestRoundTrip(t *testing.T) {
	r, err := ReadFile("testdata/ramp.json")
	if err != nil {
		t.Fatal(err)
	}
	if r.Scenario != "ramp" || r.Setup == nil || r.Latency == nil || r.Loadgen == nil || !r.OK {
		t.Fatalf("read: %+v", r)
	}
	out := filepath.Join(t.TempDir(), "again.json")
	if err := r.WriteFile(out); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile("testdata/ramp.json")
	if !bytes.Equal(got, want) {
		t.Errorf("written again:\n%s\nwant:\n%s", got, want)
	}
}

func TestProblem(t *testing.T) {
	var r Run
	r.Problem("%d of %d", 1, 2)
	if len(r.Problems) != 1 || r.Problems[0] != "1 of 2" {
		t.Errorf("problems: %q", r.Problems)
	}
}

func TestReadFileBadJSON(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(p, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("err = %v, want one naming %s", err, p)
	}
}
