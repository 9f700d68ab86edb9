package main

import (
	"fmt"
	"io"
	"math"
	"strings"

	"presence/cmd/loadgen/internal/result"
)

// The figures of each scenario's table. A getter returns NaN when the run
// did not measure the figure and +Inf when it ran out of time.

func nan() float64 { return math.NaN() }

func serverGet(f func(*result.Usage) float64) func(*result.Run) float64 {
	return func(x *result.Run) float64 {
		if x.Server == nil {
			return nan()
		}
		return f(x.Server)
	}
}

func loadgenGet(f func(*result.Usage) float64) func(*result.Run) float64 {
	return func(x *result.Run) float64 {
		if x.Loadgen == nil {
			return nan()
		}
		return f(x.Loadgen)
	}
}

func latencyGet(f func(*result.Latency) float64) func(*result.Run) float64 {
	return func(x *result.Run) float64 {
		if x.Latency == nil || x.Latency.Samples == 0 {
			return nan()
		}
		if v := f(x.Latency); v > 0 {
			return v
		}
		return nan()
	}
}

var resourceFigures = []figure{
	{name: "server CPU", unit: "s", digits: 2, get: serverGet(func(u *result.Usage) float64 { return u.CPUS })},
	{name: "server CPU, share of one core", unit: "%", digits: 0, get: serverGet(func(u *result.Usage) float64 { return u.CPUPercent })},
	{name: "server peak RSS", unit: "MiB", digits: 1, get: serverGet(func(u *result.Usage) float64 { return float64(u.RSSPeak) / (1 << 20) })},
	{name: "load generator CPU, share of one core", unit: "%", digits: 0, get: loadgenGet(func(u *result.Usage) float64 { return u.CPUPercent })},
	{name: "load generator RSS (all processes)", unit: "MiB", digits: 0, get: loadgenGet(func(u *result.Usage) float64 { return float64(u.RSSEnd) / (1 << 20) })},
	{name: "clients dropped by the server", digits: 0, get: func(x *result.Run) float64 { return float64(x.Frames.Dropped) }},
}

var rampFigures = append([]figure{
	{name: "handshakes per second", unit: "/s", digits: 0, get: func(x *result.Run) float64 {
		if x.Setup == nil || x.Setup.HandshakesPerS == 0 {
			return nan()
		}
		return x.Setup.HandshakesPerS
	}},
	{name: "every client read N, after the last handshake", unit: "ms", digits: 0, get: func(x *result.Run) float64 {
		switch {
		case x.Setup == nil:
			return nan()
		case !x.Setup.Done:
			return math.Inf(1)
		}
		return x.Setup.SeenAfterLastMs
	}},
	{name: "every client read N, from the first dial", unit: "s", digits: 2, get: func(x *result.Run) float64 {
		switch {
		case x.Setup == nil:
			return nan()
		case !x.Setup.Done:
			return math.Inf(1)
		}
		return x.Setup.SeenAfterFirstMs / 1000
	}},
	{name: "count frames read per client while joining", digits: 1, get: func(x *result.Run) float64 {
		if x.Setup == nil || x.Setup.FramesPerClient == 0 {
			return nan()
		}
		return x.Setup.FramesPerClient
	}},
	{name: "count-propagation latency p50", unit: "ms", digits: 1, get: latencyGet(func(l *result.Latency) float64 { return l.P50Ms })},
	{name: "count-propagation latency p95", unit: "ms", digits: 1, get: latencyGet(func(l *result.Latency) float64 { return l.P95Ms })},
	{name: "count-propagation latency p99", unit: "ms", digits: 1, get: latencyGet(func(l *result.Latency) float64 { return l.P99Ms })},
	{name: "server-side push latency p50 (metric)", unit: "ms", digits: 1, get: latencyGet(func(l *result.Latency) float64 { return l.ServerP50Ms })},
	{name: "clients that joined (of N)", digits: 0, get: func(x *result.Run) float64 {
		if x.Setup == nil {
			return nan()
		}
		return float64(x.Setup.Opened)
	}},
}, resourceFigures...)

func churnGet(f func(*result.Churn) float64) func(*result.Run) float64 {
	return func(x *result.Run) float64 {
		if x.Churn == nil {
			return nan()
		}
		return f(x.Churn)
	}
}

var churnFigures = append([]figure{
	{name: "joins + leaves done", digits: 0, get: churnGet(func(c *result.Churn) float64 { return float64(c.Joins + c.Leaves) })},
	{name: "count frames per member per second", unit: "/s", digits: 2, get: churnGet(func(c *result.Churn) float64 { return c.FramesPerMemberS })},
	{name: "most count frames one member read in one second", unit: "/s", digits: 0, get: churnGet(func(c *result.Churn) float64 { return float64(c.MaxPerMemberS) })},
	{name: "frame gaps shorter than the flush interval", unit: "%", digits: 2, get: churnGet(func(c *result.Churn) float64 {
		if c.Gaps == 0 {
			return 0
		}
		return 100 * float64(c.GapsBelowInterval) / float64(c.Gaps)
	})},
	{name: "frame gaps shorter than half of it", unit: "%", digits: 2, get: churnGet(func(c *result.Churn) float64 {
		if c.Gaps == 0 {
			return 0
		}
		return 100 * float64(c.GapsBelowHalf) / float64(c.Gaps)
	})},
	{name: "shortest gap between two frames of a member", unit: "ms", digits: 2, noRatio: true, get: churnGet(func(c *result.Churn) float64 {
		if c.Gaps == 0 {
			return nan()
		}
		return c.MinGapMs
	})},
	{name: "final count exact for every member", runs: true, get: churnGet(func(c *result.Churn) float64 { return b2f(c.Exact) })},
	{name: "final count settled, after the churn", unit: "ms", digits: 0, get: churnGet(func(c *result.Churn) float64 {
		if !c.Exact {
			return math.Inf(1)
		}
		return c.SettleMs
	})},
}, resourceFigures...)

func leaveGet(f func(*result.Leave) float64) func(*result.Run) float64 {
	return func(x *result.Run) float64 {
		if x.Leave == nil {
			return nan()
		}
		return f(x.Leave)
	}
}

var leaveFigures = append([]figure{
	{name: "stayers read the truth, after the last leave", unit: "ms", digits: 0, get: leaveGet(func(l *result.Leave) float64 {
		if !l.Exact {
			return math.Inf(1)
		}
		return l.SinceLastMs
	})},
	{name: "… after the first leave", unit: "ms", digits: 0, get: leaveGet(func(l *result.Leave) float64 {
		if !l.Exact {
			return math.Inf(1)
		}
		return l.SinceFirstMs
	})},
	{name: "time the load generator took to leave", unit: "ms", digits: 0, noRatio: true, get: leaveGet(func(l *result.Leave) float64 { return l.LeaveSpreadMs })},
	{name: "every stayer ended on the exact count", runs: true, get: leaveGet(func(l *result.Leave) float64 { return b2f(l.Exact) })},
}, resourceFigures...)

func idleGet(f func(*result.Idle) float64) func(*result.Run) float64 {
	return func(x *result.Run) float64 {
		if x.Idle == nil {
			return nan()
		}
		v := f(x.Idle)
		if v == 0 {
			return nan()
		}
		return v
	}
}

var idleFigures = []figure{
	{name: "server memory per idle connection (RSS)", unit: "KiB", digits: 1, get: idleGet(func(i *result.Idle) float64 { return i.BytesPerConn / 1024 })},
	{name: "… Go heap in use per connection", unit: "KiB", digits: 1, get: idleGet(func(i *result.Idle) float64 { return i.HeapPerConn / 1024 })},
	{name: "… goroutine stacks per connection", unit: "KiB", digits: 1, get: idleGet(func(i *result.Idle) float64 { return i.StackPerConn / 1024 })},
	{name: "goroutines per connection", digits: 2, get: idleGet(func(i *result.Idle) float64 { return i.GoroutinesPerConn })},
	{name: "server RSS with N idle", unit: "MiB", digits: 1, get: idleGet(func(i *result.Idle) float64 { return float64(i.RSSAfter) / (1 << 20) })},
	{name: "server CPU while idle, share of one core", unit: "%", digits: 2, get: func(x *result.Run) float64 {
		if x.Idle == nil {
			return nan()
		}
		return x.Idle.IdleCPUPercent
	}},
	{name: "load generator RSS (all processes)", unit: "MiB", digits: 0, get: loadgenGet(func(u *result.Usage) float64 { return float64(u.RSSEnd) / (1 << 20) })},
	{name: "clients dropped by the server", digits: 0, get: func(x *result.Run) float64 { return float64(x.Frames.Dropped) }},
	{name: "then, count-propagation latency p50", unit: "ms", digits: 1, get: latencyGet(func(l *result.Latency) float64 { return l.P50Ms })},
	{name: "then, count-propagation latency p95", unit: "ms", digits: 1, get: latencyGet(func(l *result.Latency) float64 { return l.P95Ms })},
	{name: "then, count-propagation latency p99", unit: "ms", digits: 1, get: latencyGet(func(l *result.Latency) float64 { return l.P99Ms })},
	{name: "then, server-side push latency p50 (metric)", unit: "ms", digits: 1, get: latencyGet(func(l *result.Latency) float64 { return l.ServerP50Ms })},
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

var scenarioText = []struct {
	name, title, what string
	figs              []figure
}{
	{"ramp", "Ramp: N clients join one room", "All N clients dial at once (`--concurrency` handshakes in flight). *Every client read N* is the moment the last client read the count N. Then `--steps` single changes, one at a time (a join, then a leave, …, each `--step-gap` after the previous settled): **count-propagation latency** is the time from the change (the joiner's handshake done; the leaver's close begun) to the moment the **last** member read the new count, on the one wall clock all processes share.", rampFigures},
	{"churn", "Churn: a steady rate of joins and leaves into a room of N", "After the room of N settled, every worker joins a new client and closes a random member (clean close) at the churn rate, for the churn duration. *Count frames per member per second* is the frames read inside that window divided by the member-seconds in it; a coalescing server sends at most one per member per flush interval. *Frame gaps* are the times between two consecutive count frames of the same member, read on the client (so delivery jitter can make a gap slightly shorter than the server's spacing). Then every remaining member must read the exact number of members the load generator holds open.", churnFigures},
	{"leave", "Leave: a third close cleanly, a third reset, a third stay", "After the room of N settled, each worker closes a third of its members with a close frame and resets a third (SO_LINGER 0, so the server reads a TCP reset), interleaved, as fast as it can; the last third stays and must read the true count.", leaveFigures},
	{"idle", "Idle: memory and CPU per connection", "Server RSS (from /proc/PID/status) before the first client, and again after every client read N, the settle time and the idle hold. Per connection = the difference / N; it includes everything the server keeps for a member (for ours: the socket, its reader goroutine, the Conn actor and its mailbox). For the Go servers that export runtime metrics the heap and stack parts come from `/metrics`. The kernel's own socket memory is not in RSS. Then, in the same quiet room, the latency steps of the ramp scenario: this is where every server is compared at the same N, since the room was filled at a pace each of them could take.", idleFigures},
}

// headline is one figure at the largest N each server was measured at.
func (r *report) headline(w io.Writer, scenario string, f figure) {
	var parts []string
	for _, l := range r.labels {
		sizes := r.sizes(scenario)
		for i := len(sizes) - 1; i >= 0; i-- {
			runs := r.runs(scenario, sizes[i], l)
			if len(runs) == 0 {
				continue
			}
			v := f.value(runs)
			if math.IsNaN(v.median) && !f.runs {
				continue
			}
			parts = append(parts, fmt.Sprintf("**%s** %s (N = %d)", l, f.format(v), sizes[i]))
			break
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "- %s: %s\n", f.name, strings.Join(parts, "; "))
	}
}

func (r *report) markdown(w io.Writer, meta []metaLine, profile, notes, chartLink string, charts []string) {
	fmt.Fprintf(w, "# Benchmarks\n\n")
	fmt.Fprintf(w, "Generated by `loadgen report` from the results of one run of `bench/run.sh`; do not edit by hand.\n")
	fmt.Fprintf(w, "Every figure is the **median** of the repetitions, with the range [min–max] when they differ; the\n")
	fmt.Fprintf(w, "ratio columns are ours ÷ baseline of the medians (below 1 is better for times, CPU and memory; above 1 for rates).\n\n")
	var cmd string
	for _, m := range meta {
		if m.key == "command" {
			cmd = m.value
		}
	}
	if cmd != "" {
		fmt.Fprintf(w, "Reproduce with:\n\n```sh\n%s\n```\n\n", cmd)
	}
	if len(meta) > 0 {
		fmt.Fprintf(w, "## The machine and the versions\n\n| | |\n|---|---|\n")
		for _, m := range meta {
			if m.key != "command" {
				fmt.Fprintf(w, "| %s | %s |\n", m.key, strings.ReplaceAll(m.value, "|", "\\|"))
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "The servers: **%s** is this repository's server; ", r.ours)
	fmt.Fprintf(w, "**gohub** is `bench/baselines/gohub`, the classic Go chat-hub pattern (gorilla/websocket, a read and a write goroutine per connection, one hub goroutine, `currentUsers` broadcast on every join and leave); ")
	fmt.Fprintf(w, "**socketio** is `bench/baselines/socketio`, the seed lesson's Socket.IO server (`currentUsers` ++/−− and `io.emit('user count')` on both). ")
	fmt.Fprintf(w, "Any other label is a variant of ours named in the run's settings above. Each server is started fresh for every run.\n\n")

	fmt.Fprintf(w, "## Headline (each server at the largest N it was run at)\n\n")
	r.headline(w, "ramp", rampFigures[1])
	r.headline(w, "ramp", rampFigures[2])
	r.headline(w, "ramp", rampFigures[0])
	r.headline(w, "idle", idleFigures[8])
	r.headline(w, "idle", idleFigures[10])
	r.headline(w, "churn", churnFigures[1])
	r.headline(w, "churn", churnFigures[2])
	r.headline(w, "churn", churnFigures[6])
	r.headline(w, "leave", leaveFigures[0])
	r.headline(w, "idle", idleFigures[0])
	fmt.Fprintln(w)

	if len(charts) > 0 {
		fmt.Fprintf(w, "## Charts\n\n")
		for _, c := range charts {
			fmt.Fprintf(w, "![%s](%s/%s)\n\n", strings.TrimSuffix(c, ".svg"), chartLink, c)
		}
	}
	for _, s := range scenarioText {
		sizes := r.sizes(s.name)
		if len(sizes) == 0 {
			continue
		}
		fmt.Fprintf(w, "## %s\n\n%s\n\n", s.title, s.what)
		for _, n := range sizes {
			r.table(w, s.name, n, s.figs)
		}
		r.problems(w, s.name)
	}
	if strings.TrimSpace(profile) != "" {
		fmt.Fprintf(w, "## Where our idle memory goes (profile)\n\n```\n%s\n```\n\n", strings.TrimSpace(profile))
	}
	if strings.TrimSpace(notes) != "" {
		fmt.Fprintf(w, "%s\n", strings.TrimSpace(notes))
	}
}
