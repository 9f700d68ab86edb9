package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

// options are the settings every scenario shares, plus the few that only
// one scenario reads (named after it in their help).
type options struct {
	URL           string
	Proto         string
	Room          string
	N             int
	PerWorker     int
	Src           string
	IPsPerWorker  int
	Concurrency   int
	Rate          float64
	DialTimeout   time.Duration
	Timeout       time.Duration
	Deadline      time.Duration
	FlushInterval time.Duration
	ServerPID     int
	MetricsURL    string
	Label         string
	JSON          string
	Progress      string
	Seed          int64

	Steps    int           // ramp
	StepGap  time.Duration // ramp
	Duration time.Duration // churn
	Rate2    float64       // churn: joins (and leaves) per second
	Settle   time.Duration // idle
	Hold     time.Duration // idle
	Victim   int           // failover: index in --url of the node the event hits
	Event    string        // failover: shell command that makes it fail

	centrifugoOptions // --proto centrifugo

	proto protocol
}

// maxPerWorker keeps a worker process well under the 20,000-file limit.
const maxPerWorker = 18000

func (o *options) register(fs *flag.FlagSet, scenario string) {
	fs.StringVar(&o.URL, "url", "ws://127.0.0.1:8080", "server to load, ws://HOST:PORT (loopback only); several, comma-separated, spread the clients over the nodes of a cluster")
	fs.StringVar(&o.Proto, "proto", "presence", "wire protocol: presence (ours, gohub), socketio (Socket.IO v4) or centrifugo (Centrifugo's JSON protocol)")
	fs.StringVar(&o.Room, "room", "lobby", "room every client joins (presence protocol)")
	fs.IntVar(&o.N, "n", 1000, "members in the room")
	fs.IntVar(&o.PerWorker, "per-worker", 5000, fmt.Sprintf("most clients per worker process (at most %d: one process may hold 20,000 files)", maxPerWorker))
	fs.StringVar(&o.Src, "src", "127.0.0.2", "first loopback source address; worker i uses the --ips-per-worker addresses that follow")
	fs.IntVar(&o.IPsPerWorker, "ips-per-worker", 2, "source addresses per worker (each gives ~28k ports per server)")
	fs.IntVar(&o.Concurrency, "concurrency", 200, "handshakes in flight, all workers together")
	fs.Float64Var(&o.Rate, "rate", 0, "joins per second while filling the room (0 = as fast as --concurrency allows)")
	fs.DurationVar(&o.DialTimeout, "dial-timeout", 10*time.Second, "bound on one client's connect and handshake")
	fs.DurationVar(&o.Timeout, "timeout", 2*time.Minute, "bound on each phase (filling the room, waiting for counts)")
	fs.DurationVar(&o.Deadline, "deadline", 15*time.Minute, "bound on the whole run")
	fs.DurationVar(&o.FlushInterval, "flush-interval", 50*time.Millisecond, "the server's --flush-interval: the churn check allows one count frame per member per interval")
	fs.IntVar(&o.ServerPID, "server-pid", 0, "server process to measure (CPU, RSS from /proc); 0 = do not measure")
	fs.StringVar(&o.MetricsURL, "metrics-url", "", "server's Prometheus /metrics to scrape (ours), e.g. http://127.0.0.1:8080/metrics; several, comma-separated, are summed (a cluster)")
	fs.StringVar(&o.Label, "label", "", "name of the server under test in the results (default: the protocol)")
	fs.StringVar(&o.JSON, "json", "", "write the result as JSON to this file")
	fs.StringVar(&o.Progress, "progress", "auto", "progress bars on stderr: auto (on a terminal), always or never")
	fs.Int64Var(&o.Seed, "seed", 1, "seed for the random choice of leaving members")
	o.centrifugoOptions.register(fs)
	switch scenario {
	case "ramp", "idle":
		def := 40
		if scenario == "idle" {
			def = 0
		}
		fs.IntVar(&o.Steps, "steps", def, "at the end: single joins and leaves, one at a time, to measure count-propagation latency (0 = none)")
		fs.DurationVar(&o.StepGap, "step-gap", 150*time.Millisecond, "pause between two latency steps (above the flush interval, so each step is pushed at once)")
	}
	switch scenario {
	case "churn":
		fs.Float64Var(&o.Rate2, "churn-rate", 100, "joins per second during the churn, and as many leaves")
		fs.DurationVar(&o.Duration, "duration", 10*time.Second, "how long the churn lasts")
	case "failover":
		fs.IntVar(&o.Victim, "victim", 0, "index (from 0) in --url of the node --event makes fail")
		fs.StringVar(&o.Event, "event", "", "shell command run once the room is full, e.g. 'kill -9 1234' (required)")
	case "idle":
		fs.DurationVar(&o.Settle, "settle", 3*time.Second, "wait after every client has seen N before the memory is read")
		fs.DurationVar(&o.Hold, "hold", 10*time.Second, "how long the clients stay idle while the server's CPU is measured")
	}
}

// validate checks the settings and says what is wrong with each bad one.
func (o *options) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	p, err := parseProtocol(o.Proto)
	if err != nil {
		bad("--proto: %v", err)
	}
	o.proto = p
	urls := strings.Split(o.URL, ",")
	if p == protoCentrifugo && len(urls) > 1 {
		bad("--proto centrifugo takes one --url (a single Centrifugo node), got %d", len(urls))
	}
	o.centrifugoOptions.validate(p, urls[0], bad)
	for _, one := range urls {
		if u, err := url.Parse(one); err != nil || (u.Scheme != "ws" && u.Scheme != "http") || u.Hostname() == "" {
			bad("--url must look like ws://127.0.0.1:8080 (or several, comma-separated), got %q", one)
		} else if ip := net.ParseIP(u.Hostname()); (ip == nil && u.Hostname() != "localhost") || (ip != nil && !ip.IsLoopback()) {
			bad("--url: the load generator only targets loopback (127.0.0.0/8, localhost), got %q", u.Hostname())
		}
	}
	if o.N < 1 {
		bad("--n must be at least 1, got %d", o.N)
	}
	if o.PerWorker < 1 || o.PerWorker > maxPerWorker {
		bad("--per-worker must be 1 to %d, got %d", maxPerWorker, o.PerWorker)
	}
	if ip := net.ParseIP(o.Src).To4(); ip == nil || ip[0] != 127 {
		bad("--src must be an IPv4 loopback address such as 127.0.0.2, got %q", o.Src)
	}
	if o.IPsPerWorker < 1 || o.IPsPerWorker > 16 {
		bad("--ips-per-worker must be 1 to 16, got %d", o.IPsPerWorker)
	}
	if o.Concurrency < 1 || o.Concurrency > 5000 {
		bad("--concurrency must be 1 to 5000, got %d", o.Concurrency)
	}
	if o.Rate < 0 {
		bad("--rate must be 0 (no limit) or more, got %v", o.Rate)
	}
	for name, d := range map[string]time.Duration{"dial-timeout": o.DialTimeout, "timeout": o.Timeout, "deadline": o.Deadline, "flush-interval": o.FlushInterval} {
		if d <= 0 {
			bad("--%s must be above 0, got %s", name, d)
		}
	}
	if o.ServerPID < 0 {
		bad("--server-pid must be a process id, got %d", o.ServerPID)
	}
	if o.MetricsURL != "" {
		for _, one := range strings.Split(o.MetricsURL, ",") {
			if u, err := url.Parse(one); err != nil || u.Scheme != "http" {
				bad("--metrics-url must be an http:// URL (or several, comma-separated), got %q", one)
			}
		}
	}
	switch progressMode(o.Progress) {
	case progressAuto, progressAlways, progressNever:
	default:
		bad("--progress must be auto, always or never, got %q", o.Progress)
	}
	if o.Steps < 0 || o.Steps > 10000 {
		bad("--steps must be 0 to 10000, got %d", o.Steps)
	}
	if o.StepGap < 0 {
		bad("--step-gap must not be negative, got %s", o.StepGap)
	}
	if o.Rate2 < 0 || o.Rate2 > 10000 {
		bad("--churn-rate must be 0 to 10000 per second, got %v", o.Rate2)
	}
	if o.Duration < 0 || o.Duration > time.Hour || o.Settle < 0 || o.Hold < 0 || o.Hold > time.Hour {
		bad("--duration, --settle and --hold must be between 0 and 1h")
	}
	if o.Label == "" {
		o.Label = o.Proto
	}
	return errors.Join(errs...)
}

// workerConfigs splits the clients over workers: as few as --per-worker
// allows for N, each with its own block of source addresses after --src.
// extra is how many more clients the scenario may hold open for a while
// (churn joins before their leaves); it adds a worker only when a worker
// would otherwise go past the hard per-process bound.
func (o *options) workerConfigs(extra int) ([]workerConfig, error) {
	n := (o.N + o.PerWorker - 1) / o.PerWorker
	for (o.N+extra+n-1)/n > maxPerWorker {
		n++
	}
	base := net.ParseIP(o.Src).To4()
	first := int(base[1])<<16 | int(base[2])<<8 | int(base[3])
	if first+n*o.IPsPerWorker > 1<<24-1 {
		return nil, fmt.Errorf("--src %s leaves too few loopback addresses for %d workers", o.Src, n)
	}
	var cfgs []workerConfig
	for i := range n {
		c := workerConfig{
			Index: i, URL: o.URL, Proto: o.proto, Room: o.Room,
			DialTimeout: o.DialTimeout, FlushInterval: o.FlushInterval, Seed: o.Seed,
		}
		if o.proto == protoCentrifugo {
			c.CentrifugoMode = o.CentrifugoMode
		}
		for j := range o.IPsPerWorker {
			a := first + i*o.IPsPerWorker + j
			c.SourceIPs = append(c.SourceIPs, net.IPv4(127, byte(a>>16), byte(a>>8), byte(a)).String())
		}
		cfgs = append(cfgs, c)
	}
	return cfgs, nil
}

// share is worker i's part of n spread over w workers.
func share(n, w, i int) int {
	s := n / w
	if i < n%w {
		s++
	}
	return s
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: loadgen SCENARIO [flags]
       loadgen report [flags]

loadgen opens real WebSocket clients against a presence server (or the
Socket.IO, Go-hub and Centrifugo baselines), spread over worker processes and loopback
source addresses, and measures how fast and how exactly the room count
reaches every member. All timestamps are on one wall clock.

Scenarios:
  ramp    N clients join one room; handshakes/s, the time until every client
          has seen N, then single joins/leaves for count-propagation latency
          (p50/p95/p99 of "membership change -> the last member reads it")
  churn   a room of N; a steady rate of joins and leaves; count frames per
          member per second (at most one per flush interval) and exact final
          counts
  leave   a room of N; a third close cleanly, a third reset (SO_LINGER 0), a
          third stay; the time until the rest see the truth
  idle    N idle members; the server's memory per connection (RSS) and CPU
  failover  a room of N over the nodes of a cluster (several --url); --event
          (e.g. 'kill -9 PID' of one node's process) is run, and the time until
          every member of the other nodes reads the total without --victim's

Other commands:
  report  build BENCHMARKS.md and SVG charts from result JSON files

Run 'loadgen SCENARIO --help' for the flags. Example:
  loadgen ramp --url ws://127.0.0.1:8080 --n 10000 --server-pid $(pidof presence)
`)
}
