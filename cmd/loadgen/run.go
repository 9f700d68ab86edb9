package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"presence/cmd/loadgen/internal/result"
)

// run is one scenario in progress: the workers, the result being filled in,
// and the server's state when it began. Scenarios (ramp.go …) are written
// as a sequence of its phases, each bounded by --timeout.
type run struct {
	o       *options
	ctx     context.Context
	pool    *pool
	res     *result.Run
	live    bool // draw progress bars
	started time.Time
	server0 *procSample
	self0   float64 // coordinator CPU at the start

	setupFirst, setupLast int64 // first dial began, last handshake done
	expectedDrops         int64 // clients the scenario expects the server to drop (failover: the failed node's)
}

// newRun starts the workers for N members plus extra and samples the server.
func newRun(ctx context.Context, o *options, scenario string, extra int) (*run, error) {
	cfgs, err := o.workerConfigs(extra)
	if err != nil {
		return nil, err
	}
	r := &run{
		o: o, ctx: ctx, live: progressMode(o.Progress).enabled(os.Stderr), started: time.Now(),
		res: &result.Run{
			Scenario: scenario, Label: o.Label, Proto: string(o.proto), URL: o.URL, N: o.N, Workers: len(cfgs),
			FlushInterval: ms(int64(o.FlushInterval)), TimeoutS: o.Timeout.Seconds(), Started: time.Now().UTC(),
			Loadgen: &result.Usage{},
		},
	}
	r.self0, _, _ = selfUsage()
	if o.ServerPID != 0 {
		s, err := sampleProc(o.ServerPID)
		if err != nil {
			return nil, fmt.Errorf("--server-pid: %w", err)
		}
		r.server0 = &s
	}
	if r.pool, err = startPool(cfgs); err != nil {
		return nil, err
	}
	return r, nil
}

// fill opens n clients over the workers and returns the setup figures.
func (r *run) fill(n int) (*result.Setup, error) {
	w := len(r.pool.workers)
	perWorkerConc := max(1, r.o.Concurrency/w)
	rate := r.o.Rate / float64(w)
	r.pool.resetProgress()
	b := startBar(os.Stderr, r.live, "joining", int64(n), r.pool.progressTotal)
	opened, err := all[openResult](r.ctx, r.pool, func(i int) request {
		return request{Op: opOpen, Timeout: r.o.Timeout, Count: share(n, w, i), Concurrency: perWorkerConc, Rate: rate}
	})
	if err != nil {
		b.stop("failed")
		return nil, err
	}
	s := &result.Setup{}
	var first, last int64
	var hs []float64
	for _, o := range opened {
		s.Opened += o.Opened
		s.Failed += o.Failed
		if first == 0 || o.FirstStart < first {
			first = o.FirstStart
		}
		last = max(last, o.LastDone)
		for _, h := range o.Handshakes {
			hs = append(hs, float64(h)/1000)
		}
		for _, e := range o.Errors {
			if len(s.Errors) < 5 && !slices.Contains(s.Errors, e) {
				s.Errors = append(s.Errors, e)
			}
		}
	}
	b.stopAt(int64(s.Opened+s.Failed), fmt.Sprintf("%d joined, %d failed", s.Opened, s.Failed))
	if s.Failed > 0 {
		r.res.Problem("%d of %d clients could not join: %s", s.Failed, n, joinErrors(s.Errors))
	}
	if s.Opened > 0 && last > first {
		s.HandshakesPerS = float64(s.Opened) / (float64(last-first) / 1e9)
	}
	s.HandshakeP50Ms = finite(percentile(hs, 50))
	s.HandshakeP99Ms = finite(percentile(hs, 99))
	r.res.Setup = s
	r.setupFirst, r.setupLast = first, last
	return s, nil
}

// joinErrors lists a few distinct join errors in one line.
func joinErrors(errs []string) string { return strings.Join(errs, "; ") }

// fillRoom fills the room with N clients and waits until every one has read
// N: the ramp itself, and the set-up of every other scenario. It reports
// false (with the problem noted) when the room of N did not come about.
func (r *run) fillRoom() (awaitAll, bool) {
	s, err := r.fill(r.o.N)
	if err != nil {
		r.res.Problem("filling the room: %v", err)
		return awaitAll{}, false
	}
	if s.Failed > 0 {
		return awaitAll{}, false // not a room of N: "every client read N" did not happen
	}
	if r.o.cfPresenceMode() {
		return r.awaitPresence(s) // nobody is told a count (centrifugo_steps.go)
	}
	a, err := r.await("every client sees N", s.Opened, r.o.Timeout, true, nil)
	if err != nil {
		r.res.Problem("waiting for the count: %v", err)
		return a, false
	}
	s.Done, s.AtTarget = a.Done, a.AtTarget
	if frames, err := r.countFrames(); err == nil {
		s.FramesPerClient = float64(frames) / float64(s.Opened)
	}
	switch {
	case a.GaveUp:
		r.res.Problem("no longer waiting for every client to read %d: the server dropped clients (%s)", s.Opened, a.describeCounts())
		return a, false
	case !a.Done:
		r.res.Problem("not every client read %d within %s: %s", s.Opened, r.o.Timeout, a.describeCounts())
		return a, false
	}
	s.SeenAfterLastMs = ms(a.MaxSeenAt - r.setupLast)
	s.SeenAfterFirstMs = ms(a.MaxSeenAt - r.setupFirst)
	return a, true
}

// countFrames is the number of count frames every worker has read so far.
func (r *run) countFrames() (int64, error) {
	stats, err := all[statsResult](r.ctx, r.pool, func(int) request { return request{Op: opStats, Timeout: 10 * time.Second} })
	var n int64
	for _, s := range stats {
		n += s.CountFrames
	}
	return n, err
}

// awaitAll is the combined answer of every worker to an await.
type awaitAll struct {
	Done      bool
	Live      int
	AtTarget  int
	MaxSeenAt int64
	Dropped   int64
	GaveUp    bool // a member was dropped, so the target could not be reached
	Counts    map[int64]int
}

// await waits until every live member has read target (bounded by timeout).
// The target counts the clients the workers held open when it was computed,
// when worker i's server-dropped count was dropBase[i] (nil: none dropped):
// it cannot be reached once the server drops another, so the wait gives up
// at the first new drop.
func (r *run) await(label string, target int, timeout time.Duration, showBar bool, dropBase []int64) (awaitAll, error) {
	return r.awaitOn(label, target, timeout, showBar, dropBase, false)
}

// awaitOn is await; with pub the target is the step of the last publication
// every member read (Centrifugo's publication steps) instead of the count.
func (r *run) awaitOn(label string, target int, timeout time.Duration, showBar bool, dropBase []int64, pub bool) (awaitAll, error) {
	r.pool.resetProgress()
	var b *bar
	if showBar {
		b = startBar(os.Stderr, r.live, label, int64(target), r.pool.progressTotal)
	}
	answers, err := all[awaitResult](r.ctx, r.pool, func(i int) request {
		var base int64
		if dropBase != nil {
			base = dropBase[i]
		}
		return request{Op: opAwait, Timeout: timeout, Count: target, FailOnDrop: true, DropBase: base, Pub: pub}
	})
	var a awaitAll
	if err != nil {
		if b != nil {
			b.stop("failed")
		}
		return a, err
	}
	a.Done = true
	for _, x := range answers {
		a.Done = a.Done && x.Done
		a.Live += x.Live
		a.AtTarget += x.AtTarget
		a.MaxSeenAt = max(a.MaxSeenAt, x.MaxSeenAt)
		a.Dropped += x.Dropped
		a.GaveUp = a.GaveUp || x.GaveUp
		for k, v := range x.Counts {
			if a.Counts == nil {
				a.Counts = map[int64]int{}
			}
			a.Counts[k] += v
		}
	}
	if b != nil {
		note := yesNo(a.Done, "done", "timed out")
		if a.GaveUp {
			note = "gave up: the server dropped members"
		}
		b.stopAt(int64(a.AtTarget), note)
	}
	return a, nil
}

// describeCounts says what the members that missed the target read instead.
func (a awaitAll) describeCounts() string {
	var keys []int64
	for k := range a.Counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return a.Counts[keys[i]] > a.Counts[keys[j]] })
	var parts []string
	for i, k := range keys {
		if i == 5 {
			parts = append(parts, "…")
			break
		}
		what := fmt.Sprint(k)
		if k < 0 {
			what = "nothing yet"
		}
		parts = append(parts, fmt.Sprintf("%d read %s", a.Counts[k], what))
	}
	return strings.Join(parts, ", ")
}

// errNotOK says a scenario ran and wrote its results, but they show a
// problem (listed in the table and the JSON): exit status 3.
var errNotOK = errors.New("the run finished, but its results show problems (see above)")

// finish collects resource use and counters, prints the table, writes JSON
// and stops the workers. It is called once, whatever happened before, with
// the scenario's own error, and returns the run's outcome.
func (r *run) finish(runErr error) error {
	defer r.pool.close()
	wall := time.Since(r.started).Seconds()
	r.res.WallS = wall
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stats, err := all[statsResult](ctx, r.pool, func(int) request { return request{Op: opStats, Timeout: 10 * time.Second} })
	if err != nil {
		r.res.Problem("worker statistics: %v", err)
	}
	lg := r.res.Loadgen
	lg.Processes = len(stats) + 1
	for _, s := range stats {
		lg.CPUS += s.CPU
		lg.RSSEnd += s.RSS
		lg.RSSPeak += s.MaxRSS
		r.res.Frames.Count += s.CountFrames
		r.res.Frames.Other += s.OtherFrames
		r.res.Frames.Bad += s.BadFrames
		r.res.Frames.ErrorEvents += s.ErrorEvents
		r.res.Frames.StaleSeq += s.StaleSeq
		r.res.Frames.Dropped += s.Dropped
		for _, e := range s.Errors {
			if strings.HasPrefix(e, "bad frame") || strings.HasPrefix(e, "error event") {
				r.res.Problem("%s", e)
			}
		}
	}
	if cpu, maxRSS, err := selfUsage(); err == nil {
		lg.CPUS += cpu - r.self0
		lg.RSSPeak += maxRSS
		if rss, err := readRSS(os.Getpid()); err == nil {
			lg.RSSEnd += rss
		}
	}
	lg.CPUPercent = 100 * lg.CPUS / wall
	if r.res.Frames.Dropped > r.expectedDrops {
		r.res.Problem("the server dropped %d clients (it closed them; we did not)", r.res.Frames.Dropped-r.expectedDrops)
	}
	if r.server0 != nil {
		if s, err := sampleProc(r.o.ServerPID); err == nil {
			cpu := s.CPU - r.server0.CPU
			r.res.Server = &result.Usage{Processes: 1, CPUS: cpu, CPUPercent: 100 * cpu / wall, RSSEnd: s.RSS, RSSPeak: s.HWM}
		} else {
			r.res.Problem("server process: %v", err)
		}
	}
	if r.o.MetricsURL != "" {
		if m, err := scrape(ctx, r.o.MetricsURL); err == nil {
			r.res.Metrics = map[string]string{}
			for _, name := range []string{"presence_connections", "presence_count_frames_sent_total", "presence_count_flushes_total",
				"presence_counts_coalesced_total", "presence_slow_consumer_drops_total", "go_goroutines"} {
				if v := m.value(name); !math.IsNaN(v) {
					r.res.Metrics[name] = fmt.Sprint(v)
				}
			}
		}
	}
	if runErr != nil {
		r.res.Problem("%v", runErr)
	}
	r.res.OK = len(r.res.Problems) == 0
	printTable(os.Stdout, r.res)
	if r.o.JSON != "" {
		if err := r.res.WriteFile(r.o.JSON); err != nil {
			return err
		}
	}
	if runErr != nil {
		return runErr
	}
	if !r.res.OK {
		return errNotOK
	}
	return nil
}
