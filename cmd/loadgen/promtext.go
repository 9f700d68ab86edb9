package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// samples is one scrape of a Prometheus text endpoint: "name{labels}" (as
// written by the server) → value.
type samples map[string]float64

// scrape fetches and parses url. It reads only the few lines it needs to,
// but parsing everything is simple and a scrape is small.
func scrape(ctx context.Context, url string) (samples, error) {
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

// parseProm reads the Prometheus text exposition format: comment lines are
// skipped, every other line is "series value [timestamp]".
func parseProm(r io.Reader) (samples, error) {
	out := samples{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		// The series ends at the last space outside the labels' braces.
		end := bytes.LastIndexByte(line, '}')
		rest := line
		if end >= 0 {
			rest = line[end+1:]
		}
		f := strings.Fields(string(rest))
		if end < 0 {
			if len(f) < 2 {
				return nil, fmt.Errorf("metrics: bad line %q", truncate(line, 100))
			}
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return nil, fmt.Errorf("metrics: bad value in %q", truncate(line, 100))
			}
			out[f[0]] = v
			continue
		}
		if len(f) < 1 {
			return nil, fmt.Errorf("metrics: bad line %q", truncate(line, 100))
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: bad value in %q", truncate(line, 100))
		}
		out[string(line[:end+1])] = v
	}
	return out, sc.Err()
}

// value returns the sum of every series of metric name (all label sets).
func (s samples) value(name string) float64 {
	var sum float64
	found := false
	for k, v := range s {
		if k == name || strings.HasPrefix(k, name+"{") {
			sum += v
			found = true
		}
	}
	if !found {
		return math.NaN()
	}
	return sum
}

// histogram returns the bucket bounds and cumulative counts of histogram
// name (summed over other labels), minus the same from before (may be nil).
func (s samples) histogram(name string, before samples) (bounds, cumulative []float64) {
	byLE := map[float64]float64{}
	prefix := name + "_bucket{"
	collect := func(src samples, sign float64) {
		for k, v := range src {
			if !strings.HasPrefix(k, prefix) {
				continue
			}
			i := strings.Index(k, `le="`)
			if i < 0 {
				continue
			}
			j := strings.IndexByte(k[i+4:], '"')
			if j < 0 {
				continue
			}
			le, err := strconv.ParseFloat(k[i+4:i+4+j], 64)
			if err != nil {
				continue
			}
			byLE[le] += sign * v
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
