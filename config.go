package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"presence/actors"
	"presence/cluster"
	"presence/transport"
)

// config is every setting of the server. Each is a flag with an environment
// twin: --flush-interval and PRESENCE_FLUSH_INTERVAL. A flag on the command
// line wins over its environment variable, which wins over the default.
type config struct {
	transport.Config // the network edge's limits and timeouts, handed to it as they are

	Addr            string
	FlushInterval   time.Duration
	ShutdownTimeout time.Duration
	MaxBadMessages  int
	ActorMetrics    bool
	Workers         int
	LogLevel        string
	LogFormat       string

	Cluster cluster.Config // empty Name: one process
}

const envPrefix = "PRESENCE_"

// envName is the environment twin of a flag: "flush-interval" → PRESENCE_FLUSH_INTERVAL.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseConfig reads flags from args and their twins from getenv. It returns
// flag.ErrHelp after printing usage for -h/--help, and otherwise an error
// that names the setting and says what is wrong with it.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	d := transport.DefaultConfig()
	var c config
	fs := flag.NewFlagSet("presence", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.Addr, "addr", ":8080", "address to serve HTTP and WebSockets on")
	fs.DurationVar(&c.FlushInterval, "flush-interval", actors.DefaultFlushInterval, "coalescing window: each member gets at most one count frame per interval")
	fs.DurationVar(&c.PingInterval, "ping-interval", d.PingInterval, "how often the server pings each socket")
	fs.DurationVar(&c.PongTimeout, "pong-timeout", d.PongTimeout, "a socket silent for ping-interval + pong-timeout is dropped")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", d.WriteTimeout, "deadline of every socket write; a client that reads slower is dropped")
	fs.DurationVar(&c.HandshakeTimeout, "handshake-timeout", d.HandshakeTimeout, "time allowed for request headers and the WebSocket handshake")
	fs.DurationVar(&c.CloseTimeout, "close-timeout", d.CloseTimeout, "how long a closing socket waits for the client's close frame")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGINT/SIGTERM, how long to wait for sockets to close before forcing them")
	fs.Int64Var(&c.MaxMessageSize, "max-message-size", d.MaxMessageSize, "largest client message in bytes; larger ones are closed with 1009")
	fs.Float64Var(&c.RateLimit, "rate-limit", d.RateLimit, "client messages per second per socket, sustained; faster ones are closed with 1008")
	fs.IntVar(&c.RateBurst, "rate-burst", d.RateBurst, "client messages per socket allowed in a burst")
	fs.IntVar(&c.MaxConnsPerIP, "max-conns-per-ip", d.MaxConnsPerIP, "open sockets per client IP address; more get 429 (0 = no limit)")
	fs.IntVar(&c.MaxBadMessages, "max-bad-messages", actors.DefaultMaxBadMessages, "unusable client messages answered with an error event before the socket is closed with 1008")
	fs.Func("allowed-origins", "comma-separated browser origins allowed besides the server's own (e.g. https://app.example.com); * allows any", func(v string) error {
		c.AllowedOrigins = nil
		if v != "" {
			c.AllowedOrigins = strings.Split(v, ",")
		}
		return nil
	})
	fs.StringVar(&c.ReadMode, "read-mode", transport.ReadPoll, "how sockets are read: poll (an epoll poller and a pool of workers; no goroutine per idle socket) or goroutine (the portable fallback: one per socket)")
	fs.IntVar(&c.Workers, "workers", 0, "most goroutines that read sockets and run actors at once (0 = 4 per CPU the runtime uses)")
	fs.BoolVar(&c.ActorMetrics, "actor-metrics", true, "export protoactor's actor metrics on /metrics (a histogram observation per actor message: false makes the fan-out to every member faster, BENCHMARKS.md ours-noam)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")
	registerClusterFlags(fs, &c.Cluster)

	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: presence [flags]\n\n"+
			"Serves a live presence page on / and WebSockets on /ws?room=NAME.\n"+
			"Every flag can also be set by the environment variable in brackets;\n"+
			"a flag given on the command line wins.\n\n")
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(out, "  --%s (%s)\n    \t%s (default %q)\n", f.Name, envName(f.Name), f.Usage, f.DefValue)
		})
	}

	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %v", envName(f.Name), v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (settings are flags: see --help)", fs.Arg(0))
	}
	return c, c.validate()
}

func (c config) validate() error {
	var errs []error
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("--%s must be above 0, got %s", name, d))
		}
	}
	positive("flush-interval", c.FlushInterval)
	positive("ping-interval", c.PingInterval)
	positive("pong-timeout", c.PongTimeout)
	positive("write-timeout", c.WriteTimeout)
	positive("handshake-timeout", c.HandshakeTimeout)
	positive("close-timeout", c.CloseTimeout)
	positive("shutdown-timeout", c.ShutdownTimeout)
	if c.MaxMessageSize < 1 || c.MaxMessageSize > 1<<20 {
		errs = append(errs, fmt.Errorf("--max-message-size must be 1 to 1048576 bytes, got %d", c.MaxMessageSize))
	}
	if c.RateLimit <= 0 {
		errs = append(errs, fmt.Errorf("--rate-limit must be above 0, got %v", c.RateLimit))
	}
	if c.RateBurst < 1 {
		errs = append(errs, fmt.Errorf("--rate-burst must be at least 1, got %d", c.RateBurst))
	}
	if c.MaxConnsPerIP < 0 {
		errs = append(errs, fmt.Errorf("--max-conns-per-ip must be 0 (no limit) or more, got %d", c.MaxConnsPerIP))
	}
	if c.MaxBadMessages < 1 {
		errs = append(errs, fmt.Errorf("--max-bad-messages must be at least 1, got %d", c.MaxBadMessages))
	}
	if !slices.Contains(transport.ReadModes(), c.ReadMode) {
		errs = append(errs, fmt.Errorf("--read-mode must be one of %s, got %q", strings.Join(transport.ReadModes(), ", "), c.ReadMode))
	}
	if c.Workers < 0 {
		errs = append(errs, fmt.Errorf("--workers must be 0 (the default) or more, got %d", c.Workers))
	}
	if _, err := c.logLevel(); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format must be text or json, got %q", c.LogFormat))
	}
	if err := c.Cluster.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c config) logLevel() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("--log-level must be debug, info, warn or error, got %q", c.LogLevel)
	}
	return l, nil
}
