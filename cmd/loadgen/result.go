package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// result is everything one scenario run measured. It is written as JSON
// (--json) and read back by 'loadgen report'. Durations are in
// milliseconds, memory in bytes, CPU in seconds (and percent of one core).
type result struct {
	Scenario      string    `json:"scenario"`
	Label         string    `json:"label"`
	Proto         protocol  `json:"proto"`
	URL           string    `json:"url"`
	N             int       `json:"n"`
	Workers       int       `json:"workers"`
	FlushInterval float64   `json:"flushIntervalMs"`
	TimeoutS      float64   `json:"timeoutS"`
	Started       time.Time `json:"started"`
	WallS         float64   `json:"wallS"`
	OK            bool      `json:"ok"`                 // every phase finished with exact counts
	Problems      []string  `json:"problems,omitempty"` // why not, in words

	Setup   *setupResult   `json:"setup,omitempty"`
	Latency *latencyResult `json:"latency,omitempty"`
	Churn   *churnSummary  `json:"churn,omitempty"`
	Leave   *leaveSummary  `json:"leave,omitempty"`
	Idle    *idleSummary   `json:"idle,omitempty"`

	Server  *usage            `json:"server,omitempty"`
	Loadgen *usage            `json:"loadgen"`
	Frames  frameCounts       `json:"frames"`
	Metrics map[string]string `json:"metrics,omitempty"` // a few server metrics at the end, as read
}

// setupResult is the filling of the room: the ramp itself.
type setupResult struct {
	Opened           int      `json:"opened"`
	Failed           int      `json:"failed"`
	HandshakesPerS   float64  `json:"handshakesPerS"`
	HandshakeP50Ms   float64  `json:"handshakeP50Ms"`
	HandshakeP99Ms   float64  `json:"handshakeP99Ms"`
	Done             bool     `json:"done"`             // every client read N
	AtTarget         int      `json:"atTarget"`         // how many had, when it ended
	SeenAfterLastMs  float64  `json:"seenAfterLastMs"`  // last handshake → last client read N
	SeenAfterFirstMs float64  `json:"seenAfterFirstMs"` // first dial → last client read N
	FramesPerClient  float64  `json:"framesPerClient"`  // count frames each client read on the way
	Errors           []string `json:"errors,omitempty"`
}

// latencyResult is count-propagation latency: a membership change (one
// join: its handshake done; one leave: its close begun) → the moment the
// last member read the new count.
type latencyResult struct {
	Samples     int     `json:"samples"`
	Failed      int     `json:"failed"`
	P50Ms       float64 `json:"p50Ms"`
	P95Ms       float64 `json:"p95Ms"`
	P99Ms       float64 `json:"p99Ms"`
	MaxMs       float64 `json:"maxMs"`
	JoinP50Ms   float64 `json:"joinP50Ms"`
	LeaveP50Ms  float64 `json:"leaveP50Ms"`
	ServerP50Ms float64 `json:"serverP50Ms,omitempty"` // presence_push_latency_seconds, change → last member written
	ServerP99Ms float64 `json:"serverP99Ms,omitempty"`
}

type churnSummary struct {
	RatePerS          float64 `json:"ratePerS"`
	DurationS         float64 `json:"durationS"`
	Joins             int     `json:"joins"`
	Leaves            int     `json:"leaves"`
	JoinFailures      int     `json:"joinFailures"`
	FramesPerMemberS  float64 `json:"framesPerMemberS"`
	CapPerMemberS     float64 `json:"capPerMemberS"` // 1 / flush interval
	MaxPerMemberS     int64   `json:"maxPerMemberS"` // most frames one member read within one second
	Gaps              int64   `json:"gaps"`
	GapsBelowInterval int64   `json:"gapsBelowInterval"`
	GapsBelowHalf     int64   `json:"gapsBelowHalf"`
	MinGapMs          float64 `json:"minGapMs"`
	GapP1Ms           float64 `json:"gapP1Ms"`
	GapP50Ms          float64 `json:"gapP50Ms"`
	Truth             int     `json:"truth"`
	Live              int     `json:"live"`
	AtTarget          int     `json:"atTarget"`
	Exact             bool    `json:"exact"`
	SettleMs          float64 `json:"settleMs"` // churn end → the last member read the final count
}

type leaveSummary struct {
	Clean         int     `json:"clean"`
	Reset         int     `json:"reset"`
	Stayed        int     `json:"stayed"`
	Truth         int     `json:"truth"`
	AtTarget      int     `json:"atTarget"`
	Exact         bool    `json:"exact"`
	SinceLastMs   float64 `json:"sinceLastMs"`  // the last leave → the last stayer read the truth
	SinceFirstMs  float64 `json:"sinceFirstMs"` // the first leave → same
	LeaveSpreadMs float64 `json:"leaveSpreadMs"`
}

type idleSummary struct {
	Conns             int     `json:"conns"`
	RSSBefore         int64   `json:"rssBefore"`
	RSSAfter          int64   `json:"rssAfter"`
	BytesPerConn      float64 `json:"bytesPerConn"`
	HeapPerConn       float64 `json:"heapPerConn,omitempty"`  // go_memstats_heap_inuse_bytes delta / conns
	StackPerConn      float64 `json:"stackPerConn,omitempty"` // go_memstats_stack_inuse_bytes delta / conns
	GoroutinesPerConn float64 `json:"goroutinesPerConn,omitempty"`
	IdleCPUPercent    float64 `json:"idleCPUPercent"` // of one core, while the clients sat idle
	HoldS             float64 `json:"holdS"`
}

// usage is a process's (or the load generator's processes') resource use
// over the run.
type usage struct {
	Processes  int     `json:"processes"`
	CPUS       float64 `json:"cpuS"`
	CPUPercent float64 `json:"cpuPercent"` // of one core, over the run's wall time
	RSSEnd     int64   `json:"rssEnd"`
	RSSPeak    int64   `json:"rssPeak"`
}

type frameCounts struct {
	Count       int64 `json:"count"`
	Other       int64 `json:"other"`
	Bad         int64 `json:"bad"`
	ErrorEvents int64 `json:"errorEvents"`
	StaleSeq    int64 `json:"staleSeq"`
	Dropped     int64 `json:"dropped"`
}

func (r *result) problem(format string, a ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, a...))
}

func (r *result) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// printTable writes the human-readable summary.
func (r *result) printTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "  %s\t%s\n", k, fmt.Sprintf(format, a...)) }
	status := "ok"
	if !r.OK {
		status = "NOT OK"
	}
	fmt.Fprintf(tw, "%s against %s (%s, %s): N=%d, %d worker(s), %.1fs — %s\n", r.Scenario, r.Label, r.Proto, r.URL, r.N, r.Workers, r.WallS, status)
	if s := r.Setup; s != nil {
		row("joined", "%d (failed %d)", s.Opened, s.Failed)
		row("handshakes/s", "%.0f (handshake p50 %.1f ms, p99 %.1f ms)", s.HandshakesPerS, s.HandshakeP50Ms, s.HandshakeP99Ms)
		if s.Done {
			row("all saw N", "%.0f ms after the last handshake (%.0f ms after the first dial)", s.SeenAfterLastMs, s.SeenAfterFirstMs)
		} else {
			row("all saw N", "NO: %d of %d read %d (see the problems below)", s.AtTarget, s.Opened+s.Failed, s.Opened+s.Failed)
		}
		row("count frames/client", "%.1f while filling the room", s.FramesPerClient)
	}
	if l := r.Latency; l != nil && l.Samples > 0 {
		row("propagation latency", "p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  max %.1f ms  (%d steps; join p50 %.1f, leave p50 %.1f)",
			l.P50Ms, l.P95Ms, l.P99Ms, l.MaxMs, l.Samples, l.JoinP50Ms, l.LeaveP50Ms)
		if l.ServerP50Ms > 0 {
			row("server push latency", "p50 %.1f ms  p99 %.1f ms (presence_push_latency_seconds)", l.ServerP50Ms, l.ServerP99Ms)
		}
	}
	if c := r.Churn; c != nil {
		row("churn", "%.0f joins/s + %.0f leaves/s for %.0f s: %d joins, %d leaves, %d failed joins", c.RatePerS, c.RatePerS, c.DurationS, c.Joins, c.Leaves, c.JoinFailures)
		row("frames/member/s", "%.2f on average, at most %d in one second (cap %.0f = one per flush interval)", c.FramesPerMemberS, c.MaxPerMemberS, c.CapPerMemberS)
		row("gaps < interval", "%d of %d (< half: %d); min gap %.2f ms, p1 %.1f ms, p50 %.1f ms", c.GapsBelowInterval, c.Gaps, c.GapsBelowHalf, c.MinGapMs, c.GapP1Ms, c.GapP50Ms)
		row("final counts", "%s: %d of %d live members read %d; settled %.0f ms after the churn", yesNo(c.Exact, "exact", "NOT exact"), c.AtTarget, c.Live, c.Truth, c.SettleMs)
	}
	if l := r.Leave; l != nil {
		row("leave", "%d closed cleanly, %d reset, %d stayed", l.Clean, l.Reset, l.Stayed)
		row("rest saw the truth", "%s: %d of %d read %d; %.0f ms after the last leave (%.0f ms after the first)", yesNo(l.Exact, "yes", "NO"), l.AtTarget, l.Stayed, l.Truth, l.SinceLastMs, l.SinceFirstMs)
	}
	if i := r.Idle; i != nil {
		row("server memory", "%.0f B/conn (RSS %s → %s for %d conns)", i.BytesPerConn, mib(i.RSSBefore), mib(i.RSSAfter), i.Conns)
		if i.HeapPerConn > 0 {
			row("  of which Go", "heap in use %.0f B/conn, stacks %.0f B/conn, %.2f goroutines/conn", i.HeapPerConn, i.StackPerConn, i.GoroutinesPerConn)
		}
		row("server idle CPU", "%.2f%% of a core over %.0f s", i.IdleCPUPercent, i.HoldS)
	}
	if s := r.Server; s != nil {
		row("server", "CPU %.2f s (%.0f%% of a core), RSS %s (peak %s)", s.CPUS, s.CPUPercent, mib(s.RSSEnd), mib(s.RSSPeak))
	}
	if s := r.Loadgen; s != nil {
		row("load generator", "CPU %.2f s (%.0f%% of a core), RSS %s in %d processes (peaks %s)", s.CPUS, s.CPUPercent, mib(s.RSSEnd), s.Processes, mib(s.RSSPeak))
	}
	row("frames read", "%d counts, %d other, %d bad, %d error events, %d stale seq; %d clients dropped by the server",
		r.Frames.Count, r.Frames.Other, r.Frames.Bad, r.Frames.ErrorEvents, r.Frames.StaleSeq, r.Frames.Dropped)
	for _, p := range r.Problems {
		row("problem", "%s", p)
	}
	tw.Flush()
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func ms(nanos int64) float64 { return float64(nanos) / 1e6 }

// finite turns NaN and ±Inf into 0, which JSON can hold.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

func joinErrors(errs []string) string { return strings.Join(errs, "; ") }
