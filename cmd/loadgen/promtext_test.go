package main

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestParseProm(t *testing.T) {
	text := `# HELP presence_connections Open WebSocket connections.
# TYPE presence_connections gauge
presence_connections 3
go_goroutines 12
# TYPE presence_leaves_total counter
presence_leaves_total{reason="eof"} 2
presence_leaves_total{reason="close_frame"} 5
# TYPE presence_push_latency_seconds histogram
presence_push_latency_seconds_bucket{room="a",le="0.01"} 3
presence_push_latency_seconds_bucket{room="a",le="0.1"} 6
presence_push_latency_seconds_bucket{room="a",le="+Inf"} 7
presence_push_latency_seconds_sum{room="a"} 0.2
presence_push_latency_seconds_count{room="a"} 7
presence_push_latency_seconds_bucket{room="b",le="0.01"} 1
presence_push_latency_seconds_bucket{room="b",le="0.1"} 3
presence_push_latency_seconds_bucket{room="b",le="+Inf"} 3
presence_push_latency_seconds_sum{room="b"} 0.1
presence_push_latency_seconds_count{room="b"} 3
`
	s, err := parseProm(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if s.value("presence_connections") != 3 || s.value("presence_leaves_total") != 7 || s.value("go_goroutines") != 12 {
		t.Errorf("values: %v", s)
	}
	if !math.IsNaN(s.value("missing")) || !math.IsNaN(s.value("presence_push_latency_seconds")) {
		t.Error("a missing metric, or a histogram, has a value")
	}
	before, err := parseProm(strings.NewReader(`# TYPE presence_push_latency_seconds histogram
presence_push_latency_seconds_bucket{room="a",le="0.01"} 1
presence_push_latency_seconds_bucket{room="a",le="0.1"} 1
presence_push_latency_seconds_bucket{room="a",le="+Inf"} 1
presence_push_latency_seconds_sum{room="a"} 0.005
presence_push_latency_seconds_count{room="a"} 1
`))
	if err != nil {
		t.Fatal(err)
	}
	bounds, cum := s.histogram("presence_push_latency_seconds", before)
	if len(bounds) != 3 || bounds[0] != 0.01 || !math.IsInf(bounds[2], 1) || cum[0] != 3 || cum[1] != 8 || cum[2] != 9 {
		t.Errorf("histogram delta: %v %v", bounds, cum)
	}
	if bounds, _ := s.histogram("missing", nil); bounds != nil {
		t.Errorf("missing histogram: %v", bounds)
	}
	if _, err := parseProm(strings.NewReader("metric_without_value\n")); err == nil {
		t.Error("a line without a value was accepted")
	}
}

// TestScrapeSumsTheNodesOfACluster: several --metrics-url are merged, so
// counters and histograms sum over the nodes, and labelled picks a label.
func TestScrapeSumsTheNodesOfACluster(t *testing.T) {
	node := func(sent, other int) string {
		return "# TYPE presence_cluster_vectors_sent_total counter\n" +
			"presence_cluster_vectors_sent_total{to=\"other_node\"} " + strconv.Itoa(other) + "\n" +
			"presence_cluster_vectors_sent_total{to=\"this_node\"} " + strconv.Itoa(sent) + "\n" +
			"# TYPE presence_push_latency_seconds histogram\n" +
			"presence_push_latency_seconds_bucket{le=\"0.1\"} 1\npresence_push_latency_seconds_bucket{le=\"+Inf\"} 2\n" +
			"presence_push_latency_seconds_sum 0.3\npresence_push_latency_seconds_count 2\n"
	}
	var urls []string
	for _, body := range []string{node(1, 4), node(2, 5)} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, body) }))
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	s, err := scrape(context.Background(), strings.Join(urls, ","))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.labelled("presence_cluster_vectors_sent_total", "to", "other_node"); got != 9 {
		t.Errorf("other_node vectors = %v, want 9", got)
	}
	if got := s.value("presence_cluster_vectors_sent_total"); got != 12 {
		t.Errorf("all vectors = %v, want 12", got)
	}
	if _, cum := s.histogram("presence_push_latency_seconds", nil); len(cum) != 2 || cum[1] != 4 {
		t.Errorf("histogram cumulative %v, want [2 4]", cum)
	}
	if !math.IsNaN(s.labelled("presence_cluster_vectors_sent_total", "to", "nowhere")) {
		t.Error("a label value nobody has must read NaN")
	}
}
