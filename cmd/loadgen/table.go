package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"presence/cmd/loadgen/internal/result"
)

// printTable writes the human-readable summary of a run that a scenario
// prints on stdout.
func printTable(w io.Writer, r *result.Run) {
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
		if l.JoinP50Ms == 0 && l.LeaveP50Ms == 0 { // Centrifugo's presence mode: HTTP API publications
			row("publication latency", "p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  max %.1f ms  (%d publications)",
				l.P50Ms, l.P95Ms, l.P99Ms, l.MaxMs, l.Samples)
		} else {
			row("propagation latency", "p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  max %.1f ms  (%d steps; join p50 %.1f, leave p50 %.1f)",
				l.P50Ms, l.P95Ms, l.P99Ms, l.MaxMs, l.Samples, l.JoinP50Ms, l.LeaveP50Ms)
		}
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

// yesNo is yes when b holds, else no.
func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// mib formats a byte count in MiB.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
