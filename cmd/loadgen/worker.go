package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// worker is one load-generator process: it owns a share of the clients,
// all dialled from its own loopback source addresses, and carries out the
// coordinator's requests one at a time (see ipc.go). It stays well under the
// per-process file limit because the coordinator gives it at most
// --per-worker clients.
//
// Concurrency: requests run one at a time on the main goroutine; the
// clients' readers run on their own goroutines and touch only atomics and
// the counters below. live and all are guarded by mu.
type worker struct {
	cfg   workerConfig
	ips   []net.IP
	next  atomic.Uint64
	dials atomic.Uint64 // clients dialled, for the choice of server

	mu   sync.Mutex
	live []*client // members we have not closed (some may have been dropped)
	all  []*client // every client this worker made, for window statistics
	rng  *rand.Rand

	stats struct {
		countFrames, otherFrames, badFrames, errorEvents, staleSeq, dropped atomic.Int64
	}
	gaps     gapHist
	winStart atomic.Int64
	winEnd   atomic.Int64

	errMu  sync.Mutex
	errors []string // the first few distinct problems, for the report

	outMu sync.Mutex
	out   *json.Encoder
}

// workerMain runs a worker over stdin/stdout and returns its exit code.
func workerMain(stdin io.Reader, stdout io.Writer) int {
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 64<<10), 1<<20)
	if !in.Scan() {
		fmt.Fprintln(os.Stderr, "loadgen worker: no configuration on stdin")
		return 2
	}
	var cfg workerConfig
	if err := json.Unmarshal(in.Bytes(), &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "loadgen worker: bad configuration: %v\n", err)
		return 2
	}
	w, err := newWorker(cfg, stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen worker %d: %v\n", cfg.Index, err)
		return 2
	}
	defer w.closeAll()

	// Requests arrive on a channel so that a closed stdin (the coordinator
	// died) cancels whatever is running.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reqs := make(chan request)
	go func() {
		defer cancel()
		defer close(reqs)
		for in.Scan() {
			var r request
			if err := json.Unmarshal(in.Bytes(), &r); err != nil {
				fmt.Fprintf(os.Stderr, "loadgen worker %d: bad request: %v\n", cfg.Index, err)
				return
			}
			reqs <- r
		}
	}()
	for r := range reqs {
		if r.Op == opQuit {
			w.send(reply{ID: r.ID})
			return 0
		}
		w.handle(ctx, r)
	}
	return 0
}

func newWorker(cfg workerConfig, out io.Writer) (*worker, error) {
	for _, base := range strings.Split(cfg.URL, ",") {
		u, err := wsURL(base, cfg.Proto, cfg.Room)
		if err != nil {
			return nil, err
		}
		cfg.wsURLs = append(cfg.wsURLs, u)
	}
	w := &worker{cfg: cfg, out: json.NewEncoder(out), rng: rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.Index)))}
	for _, s := range cfg.SourceIPs {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, fmt.Errorf("bad source address %q", s)
		}
		w.ips = append(w.ips, ip)
	}
	if len(w.ips) == 0 {
		return nil, errors.New("no source addresses")
	}
	return w, nil
}

func (w *worker) handle(ctx context.Context, r request) {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	var res any
	var err error
	switch r.Op {
	case opOpen:
		res = w.open(ctx, r)
	case opAwait:
		base := int64(-1)
		if r.FailOnDrop {
			base = r.DropBase
		}
		res = w.await(ctx, r.ID, int64(r.Count), base, r.SkipServer-1, r.Pub)
	case opLeave:
		res, err = w.leave(r.Clean, r.Reset)
	case opChurn:
		res = w.churn(ctx, r)
	case opStats:
		res, err = w.usage()
	default:
		err = fmt.Errorf("unknown operation %q", r.Op)
	}
	rep := reply{ID: r.ID}
	if err != nil {
		rep.Err = err.Error()
	} else if rep.Result, err = json.Marshal(res); err != nil {
		rep.Err = err.Error()
	}
	w.send(rep)
}

func (w *worker) send(r reply) {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	if err := w.out.Encode(r); err != nil {
		fmt.Fprintf(os.Stderr, "loadgen worker %d: write reply: %v\n", w.cfg.Index, err)
		os.Exit(1) // the coordinator is gone
	}
}

func (w *worker) pickIP() net.IP {
	return w.ips[int(w.next.Add(1)-1)%len(w.ips)]
}

func (w *worker) noteError(s string) {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	if len(w.errors) < 5 && !slices.Contains(w.errors, s) {
		w.errors = append(w.errors, s)
	}
}

func (w *worker) noted() []string {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return slices.Clone(w.errors)
}

func (w *worker) inWindow(now int64) bool {
	s := w.winStart.Load()
	return s != 0 && now >= s && now <= w.winEnd.Load()
}

// open dials r.Count clients, at most r.Concurrency at a time and at most
// r.Rate per second (0: no rate limit), and notes progress every 200 ms.
func (w *worker) open(ctx context.Context, r request) openResult {
	conc := max(r.Concurrency, 1)
	sem := make(chan struct{}, conc)
	var (
		mu     sync.Mutex
		res    = openResult{Handshakes: make([]int64, 0, r.Count)}
		done   atomic.Int64
		wg     sync.WaitGroup
		ticker *time.Ticker
	)
	if r.Rate > 0 {
		ticker = time.NewTicker(time.Duration(float64(time.Second) / r.Rate))
		defer ticker.Stop()
	}
	stopProgress := w.progress(r.ID, done.Load)
	defer stopProgress()

	res.FirstStart = time.Now().UnixNano()
dialing:
	for range r.Count {
		if ticker != nil {
			select {
			case <-ticker.C:
			case <-ctx.Done():
				break dialing
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break dialing
		}
		wg.Go(func() {
			defer func() { <-sem }()
			start := time.Now()
			c, err := w.dialClient(ctx, w.pickIP())
			done.Add(1)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Failed++
				if len(res.Errors) < 3 && !slices.Contains(res.Errors, err.Error()) {
					res.Errors = append(res.Errors, err.Error())
				}
				return
			}
			res.Opened++
			res.Handshakes = append(res.Handshakes, time.Since(start).Microseconds())
			res.LastDone = max(res.LastDone, c.joinedAt)
			w.mu.Lock()
			w.live = append(w.live, c)
			w.all = append(w.all, c)
			w.mu.Unlock()
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if missing := r.Count - res.Opened - res.Failed; missing > 0 {
		res.Failed += missing
		res.Errors = append(res.Errors, fmt.Sprintf("%d not started: %v", missing, context.Cause(ctx)))
	}
	return res
}

// progress writes a progress note for request id every 200 ms until stopped.
func (w *worker) progress(id int, value func() int64) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				v := int(value())
				w.send(reply{ID: id, Progress: &v})
			}
		}
	})
	return func() { close(quit); wg.Wait() }
}

// await polls the members until every live one has read target, or ctx
// ends, noting how many have as progress. The times it reports were taken by
// the readers as they read, so the polling period does not enter them.
// With dropBase ≥ 0 it gives up as soon as the server has dropped more
// than dropBase of this worker's clients: the target then cannot be reached.
// With skip ≥ 0 the members of server skip (an index in --url) are left out.
// With pub the target is the step of the last publication read instead of
// the count (Centrifugo's publication steps).
func (w *worker) await(ctx context.Context, id int, target, dropBase int64, skip int, pub bool) awaitResult {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	var atTarget atomic.Int64
	stopProgress := w.progress(id, atTarget.Load)
	defer stopProgress()
	for {
		res := w.check(target, skip, pub)
		atTarget.Store(int64(res.AtTarget))
		if res.Done {
			return res
		}
		if dropBase >= 0 && res.Dropped > dropBase {
			res.GaveUp = true
			return res
		}
		select {
		case <-ctx.Done():
			return res
		case <-t.C:
		}
	}
}

func (w *worker) check(target int64, skip int, pub bool) awaitResult {
	w.mu.Lock()
	defer w.mu.Unlock()
	res := awaitResult{Dropped: w.stats.dropped.Load()}
	var wrong map[int64]int
	for _, c := range w.live {
		if c.state.Load() != stAlive || c.server == skip {
			continue
		}
		res.Live++
		n, at := c.count.Load(), &c.seenAt
		if pub {
			n, at = c.pubStep.Load(), &c.pubAt
		}
		if n != target {
			if wrong == nil {
				wrong = make(map[int64]int)
			}
			if len(wrong) < 8 || wrong[n] > 0 {
				wrong[n]++
			}
			continue
		}
		res.AtTarget++
		res.MaxSeenAt = max(res.MaxSeenAt, at.Load())
	}
	res.Done = res.AtTarget == res.Live
	res.Counts = wrong
	return res
}

// leave picks clean+reset random members; clean ones close cleanly and the
// others reset, interleaved, as fast as the loop goes.
func (w *worker) leave(clean, reset int) (leaveResult, error) {
	w.mu.Lock()
	picked := w.pickLocked(clean + reset)
	w.mu.Unlock()
	if len(picked) < clean+reset {
		return leaveResult{}, fmt.Errorf("asked to close %d members, only %d are live", clean+reset, len(picked))
	}
	var res leaveResult
	for i, c := range picked {
		var t int64
		if i%2 == 0 && clean > 0 || reset == 0 {
			t = c.leaveClean()
			clean--
		} else {
			t = c.leaveReset()
			reset--
		}
		if res.FirstAt == 0 {
			res.FirstAt = t
		}
		res.LastAt = t
		res.Left++
	}
	return res, nil
}

// pickLocked removes up to n random live members from live and returns
// them. The caller holds mu.
func (w *worker) pickLocked(n int) []*client {
	var out []*client
	for len(out) < n && len(w.live) > 0 {
		i := w.rng.IntN(len(w.live))
		c := w.live[i]
		w.live[i] = w.live[len(w.live)-1]
		w.live = w.live[:len(w.live)-1]
		if c.state.Load() == stAlive {
			out = append(out, c)
		}
	}
	return out
}

// usage reports this process's resource use and the counters.
func (w *worker) usage() (statsResult, error) {
	cpu, maxRSS, err := selfUsage()
	if err != nil {
		return statsResult{}, err
	}
	rss, _ := readRSS(os.Getpid())
	w.mu.Lock()
	live := 0
	perServer := make([]int, len(w.cfg.wsURLs))
	for _, c := range w.live {
		if c.state.Load() == stAlive {
			live++
			perServer[c.server]++
		}
	}
	w.mu.Unlock()
	return statsResult{
		CPU: cpu, RSS: rss, MaxRSS: maxRSS, Live: live, PerServer: perServer,
		CountFrames: w.stats.countFrames.Load(), OtherFrames: w.stats.otherFrames.Load(),
		BadFrames: w.stats.badFrames.Load(), ErrorEvents: w.stats.errorEvents.Load(),
		StaleSeq: w.stats.staleSeq.Load(), Dropped: w.stats.dropped.Load(),
		Errors: w.noted(),
	}, nil
}

// closeAll resets every socket: quick, and leaves no TIME_WAIT behind.
func (w *worker) closeAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.all {
		c.abort()
	}
}
