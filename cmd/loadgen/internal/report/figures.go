package report

import (
	"math"

	"presence/cmd/loadgen/internal/result"
)

// The figures of each scenario's table, each named so that the headline
// and the charts can say which one they show. A getter returns NaN when the
// run did not measure the figure and +Inf when it ran out of time.

// The resources every scenario's table ends with.
var (
	serverCPU       = figure{name: "server CPU", unit: "s", digits: 2, get: serverGet(func(u *result.Usage) float64 { return u.CPUS })}
	serverCPUShare  = figure{name: "server CPU, share of one core", unit: "%", digits: 0, get: serverGet(func(u *result.Usage) float64 { return u.CPUPercent })}
	serverPeakRSS   = figure{name: "server peak RSS", unit: "MiB", digits: 1, get: serverGet(func(u *result.Usage) float64 { return float64(u.RSSPeak) / (1 << 20) })}
	loadgenCPUShare = figure{name: "load generator CPU, share of one core", unit: "%", digits: 0, get: loadgenGet(func(u *result.Usage) float64 { return u.CPUPercent })}
	loadgenRSS      = figure{name: "load generator RSS (all processes)", unit: "MiB", digits: 0, get: loadgenGet(func(u *result.Usage) float64 { return float64(u.RSSEnd) / (1 << 20) })}
	clientsDropped  = figure{name: "clients dropped by the server", digits: 0, get: func(x *result.Run) float64 { return float64(x.Frames.Dropped) }}
)

var resourceFigures = []figure{serverCPU, serverCPUShare, serverPeakRSS, loadgenCPUShare, loadgenRSS, clientsDropped}

// Ramp: filling the room, then latency steps.
var (
	rampHandshakesPerS = figure{name: "handshakes per second", unit: "/s", digits: 0, get: func(x *result.Run) float64 {
		if x.Setup == nil || x.Setup.HandshakesPerS == 0 {
			return nan()
		}
		return x.Setup.HandshakesPerS
	}}
	rampAllReadNAfterLast = figure{name: "every client read N, after the last handshake", unit: "ms", digits: 0, get: func(x *result.Run) float64 {
		switch {
		case x.Setup == nil:
			return nan()
		case !x.Setup.Done:
			return math.Inf(1)
		}
		return x.Setup.SeenAfterLastMs
	}}
	rampAllReadNFromFirstDial = figure{name: "every client read N, from the first dial", unit: "s", digits: 2, get: func(x *result.Run) float64 {
		switch {
		case x.Setup == nil:
			return nan()
		case !x.Setup.Done:
			return math.Inf(1)
		}
		return x.Setup.SeenAfterFirstMs / 1000
	}}
	rampFramesPerClient = figure{name: "count frames read per client while joining", digits: 1, get: func(x *result.Run) float64 {
		if x.Setup == nil || x.Setup.FramesPerClient == 0 {
			return nan()
		}
		return x.Setup.FramesPerClient
	}}
	rampLatencyP50    = figure{name: "count-propagation latency p50", unit: "ms", digits: 1, get: latencyGet(func(l *result.Latency) float64 { return l.P50Ms })}
	rampLatencyP95    = figure{name: "count-propagation latency p95", unit: "ms", digits: 1, get: latencyGet(func(l *result.Latency) float64 { return l.P95Ms })}
	rampLatencyP99    = figure{name: "count-propagation latency p99", unit: "ms", digits: 1, get: latencyGet(func(l *result.Latency) float64 { return l.P99Ms })}
	rampServerPushP50 = figure{name: "server-side push latency p50 (metric)", unit: "ms", digits: 1, get: latencyGet(func(l *result.Latency) float64 { return l.ServerP50Ms })}
	rampJoined        = figure{name: "clients that joined (of N)", digits: 0, get: func(x *result.Run) float64 {
		if x.Setup == nil {
			return nan()
		}
		return float64(x.Setup.Opened)
	}}
)

var rampFigures = append([]figure{
	rampHandshakesPerS, rampAllReadNAfterLast, rampAllReadNFromFirstDial, rampFramesPerClient,
	rampLatencyP50, rampLatencyP95, rampLatencyP99, rampServerPushP50, rampJoined,
}, resourceFigures...)

// Churn: frames per member while members come and go, and the final count.
var (
	churnJoinsLeaves       = figure{name: "joins + leaves done", digits: 0, get: churnGet(func(c *result.Churn) float64 { return float64(c.Joins + c.Leaves) })}
	churnFramesPerMemberS  = figure{name: "count frames per member per second", unit: "/s", digits: 2, get: churnGet(func(c *result.Churn) float64 { return c.FramesPerMemberS })}
	churnMostFramesInOneS  = figure{name: "most count frames one member read in one second", unit: "/s", digits: 0, get: churnGet(func(c *result.Churn) float64 { return float64(c.MaxPerMemberS) })}
	churnGapsBelowInterval = figure{name: "frame gaps shorter than the flush interval", unit: "%", digits: 2, get: churnGet(func(c *result.Churn) float64 {
		if c.Gaps == 0 {
			return 0
		}
		return 100 * float64(c.GapsBelowInterval) / float64(c.Gaps)
	})}
	churnGapsBelowHalf = figure{name: "frame gaps shorter than half of it", unit: "%", digits: 2, get: churnGet(func(c *result.Churn) float64 {
		if c.Gaps == 0 {
			return 0
		}
		return 100 * float64(c.GapsBelowHalf) / float64(c.Gaps)
	})}
	churnShortestGap = figure{name: "shortest gap between two frames of a member", unit: "ms", digits: 2, noRatio: true, get: churnGet(func(c *result.Churn) float64 {
		if c.Gaps == 0 {
			return nan()
		}
		return c.MinGapMs
	})}
	churnExact   = figure{name: "final count exact for every member", runs: true, get: churnGet(func(c *result.Churn) float64 { return b2f(c.Exact) })}
	churnSettled = figure{name: "final count settled, after the churn", unit: "ms", digits: 0, get: churnGet(func(c *result.Churn) float64 {
		if !c.Exact {
			return math.Inf(1)
		}
		return c.SettleMs
	})}
)

var churnFigures = append([]figure{
	churnJoinsLeaves, churnFramesPerMemberS, churnMostFramesInOneS, churnGapsBelowInterval,
	churnGapsBelowHalf, churnShortestGap, churnExact, churnSettled,
}, resourceFigures...)

// Leave: how soon the stayers read the truth.
var (
	leaveSinceLast = figure{name: "stayers read the truth, after the last leave", unit: "ms", digits: 0, get: leaveGet(func(l *result.Leave) float64 {
		if !l.Exact {
			return math.Inf(1)
		}
		return l.SinceLastMs
	})}
	leaveSinceFirst = figure{name: "… after the first leave", unit: "ms", digits: 0, get: leaveGet(func(l *result.Leave) float64 {
		if !l.Exact {
			return math.Inf(1)
		}
		return l.SinceFirstMs
	})}
	leaveSpread = figure{name: "time the load generator took to leave", unit: "ms", digits: 0, noRatio: true, get: leaveGet(func(l *result.Leave) float64 { return l.LeaveSpreadMs })}
	leaveExact  = figure{name: "every stayer ended on the exact count", runs: true, get: leaveGet(func(l *result.Leave) float64 { return b2f(l.Exact) })}
)

var leaveFigures = append([]figure{leaveSinceLast, leaveSinceFirst, leaveSpread, leaveExact}, resourceFigures...)

// Idle: memory and CPU per connection, then latency steps in the quiet room.
var (
	idleMemoryPerConn     = figure{name: "server memory per idle connection (RSS)", unit: "KiB", digits: 1, get: idleGet(func(i *result.Idle) float64 { return i.BytesPerConn / 1024 })}
	idleHeapPerConn       = figure{name: "… Go heap in use per connection", unit: "KiB", digits: 1, get: idleGet(func(i *result.Idle) float64 { return i.HeapPerConn / 1024 })}
	idleStacksPerConn     = figure{name: "… goroutine stacks per connection", unit: "KiB", digits: 1, get: idleGet(func(i *result.Idle) float64 { return i.StackPerConn / 1024 })}
	idleGoroutinesPerConn = figure{name: "goroutines per connection", digits: 2, get: idleGet(func(i *result.Idle) float64 { return i.GoroutinesPerConn })}
	idleServerRSS         = figure{name: "server RSS with N idle", unit: "MiB", digits: 1, get: idleGet(func(i *result.Idle) float64 { return float64(i.RSSAfter) / (1 << 20) })}
	idleServerCPUShare    = figure{name: "server CPU while idle, share of one core", unit: "%", digits: 2, get: func(x *result.Run) float64 {
		if x.Idle == nil {
			return nan()
		}
		return x.Idle.IdleCPUPercent
	}}
	idleLatencyP50    = figure{name: "then, count-propagation latency p50", unit: "ms", digits: 1, get: latencyGet(func(l *result.Latency) float64 { return l.P50Ms })}
	idleLatencyP95    = figure{name: "then, count-propagation latency p95", unit: "ms", digits: 1, get: latencyGet(func(l *result.Latency) float64 { return l.P95Ms })}
	idleLatencyP99    = figure{name: "then, count-propagation latency p99", unit: "ms", digits: 1, get: latencyGet(func(l *result.Latency) float64 { return l.P99Ms })}
	idleServerPushP50 = figure{name: "then, server-side push latency p50 (metric)", unit: "ms", digits: 1, get: latencyGet(func(l *result.Latency) float64 { return l.ServerP50Ms })}
)

// idleHandshakesPerS is the filling of the idle room: paced where the
// settings say so, else as fast as the server takes joins that nobody is
// pushed (for Centrifugo: presence only, no join/leave pushes).
var idleHandshakesPerS = figure{name: "handshakes per second while filling the room", unit: "/s", digits: 0, get: rampHandshakesPerS.get}

var idleFigures = []figure{
	idleHandshakesPerS, idleMemoryPerConn, idleHeapPerConn, idleStacksPerConn, idleGoroutinesPerConn, idleServerRSS, idleServerCPUShare,
	loadgenRSS, clientsDropped,
	idleLatencyP50, idleLatencyP95, idleLatencyP99, idleServerPushP50,
}

// nan is "not measured".
func nan() float64 { return math.NaN() }

// serverGet reads a figure of the server's resource use.
func serverGet(f func(*result.Usage) float64) func(*result.Run) float64 {
	return func(x *result.Run) float64 {
		if x.Server == nil {
			return nan()
		}
		return f(x.Server)
	}
}

// loadgenGet reads a figure of the load generator's resource use.
func loadgenGet(f func(*result.Usage) float64) func(*result.Run) float64 {
	return func(x *result.Run) float64 {
		if x.Loadgen == nil {
			return nan()
		}
		return f(x.Loadgen)
	}
}

// latencyGet reads a latency figure; zero (no steps, or no server metric) is
// "not measured".
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

// churnGet reads a figure of the churn.
func churnGet(f func(*result.Churn) float64) func(*result.Run) float64 {
	return func(x *result.Run) float64 {
		if x.Churn == nil {
			return nan()
		}
		return f(x.Churn)
	}
}

// leaveGet reads a figure of the leave.
func leaveGet(f func(*result.Leave) float64) func(*result.Run) float64 {
	return func(x *result.Run) float64 {
		if x.Leave == nil {
			return nan()
		}
		return f(x.Leave)
	}
}

// idleGet reads a figure of the idle room; zero is "not measured".
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

// b2f is 1 for true, 0 for false: a yes/no figure.
func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
