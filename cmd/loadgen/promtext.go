package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// samples is one scrape of a Prometheus text endpoint: its metric families
// by name, as parsed by expfmt (the parser Prometheus's own tools use).
type samples map[string]*dto.MetricFamily

// scrape fetches and parses url (several, comma-separated, are merged: see
// scrapeAll). It asks for no particular format, so a Prometheus client
// answers in the text format.
func scrape(ctx context.Context, url string) (samples, error) {
	if urls := strings.Split(url, ","); len(urls) > 1 {
		return scrapeAll(ctx, urls)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("metrics URL: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	return parseProm(io.LimitReader(resp.Body, 64<<20))
}

// scrapeAll scrapes several servers (the nodes of a cluster) and merges
// them: every series of every node, so that value and histogram sum over
// the nodes.
func scrapeAll(ctx context.Context, urls []string) (samples, error) {
	merged := samples{}
	for _, u := range urls {
		s, err := scrape(ctx, u)
		if err != nil {
			return nil, err
		}
		for name, fam := range s {
			if m := merged[name]; m != nil {
				m.Metric = append(m.Metric, fam.Metric...)
			} else {
				merged[name] = fam
			}
		}
	}
	return merged, nil
}

// parseProm reads the Prometheus text exposition format. Names may be any
// UTF-8 (quoted), as current Prometheus clients may write them.
func parseProm(r io.Reader) (samples, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return families, nil
}

// value returns the sum of every series of the counter, gauge or untyped
// metric name (all label sets), or NaN when the scrape has none.
func (s samples) value(name string) float64 {
	var sum float64
	found := false
	for _, m := range s[name].GetMetric() {
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Untyped != nil:
			sum += m.GetUntyped().GetValue()
		default:
			continue
		}
		found = true
	}
	if !found {
		return math.NaN()
	}
	return sum
}

// histogram returns the bucket upper bounds (ascending, the last +Inf) and
// cumulative counts of histogram name, summed over its other labels, minus
// the same from before (may be nil): the observations between two scrapes.
func (s samples) histogram(name string, before samples) (bounds, cumulative []float64) {
	byLE := map[float64]float64{}
	collect := func(src samples, sign float64) {
		for _, m := range src[name].GetMetric() {
			for _, b := range m.GetHistogram().GetBucket() {
				byLE[b.GetUpperBound()] += sign * bucketCount(b)
			}
		}
	}
	collect(s, 1)
	collect(before, -1)
	for le := range byLE {
		bounds = append(bounds, le)
	}
	sort.Float64s(bounds)
	for _, le := range bounds {
		cumulative = append(cumulative, byLE[le])
	}
	return bounds, cumulative
}

// bucketCount is a bucket's cumulative count, which the text parser keeps
// as a float when the exposition wrote one that is not a whole number.
func bucketCount(b *dto.Bucket) float64 {
	if f := b.GetCumulativeCountFloat(); f > 0 {
		return f
	}
	return float64(b.GetCumulativeCount())
}

// labelled is the sum of metric name's series whose label has value, or NaN
// when there is none.
func (s samples) labelled(name, label, value string) float64 {
	var sum float64
	found := false
	for _, m := range s[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label && l.GetValue() == value {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
				found = true
			}
		}
	}
	if !found {
		return math.NaN()
	}
	return sum
}
