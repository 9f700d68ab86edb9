package report

import (
	"math"

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
