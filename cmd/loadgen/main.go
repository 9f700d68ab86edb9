// Command loadgen is the presence server's load generator: it opens real
// WebSocket clients, spread over worker processes (this binary run again)
// and loopback source addresses, against our server or a baseline (the
// Socket.IO lesson server, a classic Go hub, Centrifugo), and measures what a member
// would feel: how fast everyone sees the exact count. See 'loadgen --help'
// and bench/run.sh, which turns its JSON results into BENCHMARKS.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"presence/cmd/loadgen/internal/report"
)

func main() {
	if os.Getenv(workerEnv) == "worker" {
		os.Exit(workerMain(os.Stdin, os.Stdout))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(runCLI(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is a mistake in the command line: it is printed with a hint
// to --help and exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func errUsage(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// scenarios maps each scenario name to its runner.
var scenarios = map[string]func(context.Context, *options) error{
	"ramp":     runRamp,
	"churn":    runChurn,
	"leave":    runLeave,
	"idle":     runIdle,
	"failover": runFailover,
}

// runCLI runs one command and returns the exit status: 0 when it ran and
// its measurements are sound, 3 when it ran but they show a problem (a
// timeout, an inexact count, dropped clients: see the table), 1 when it
// could not run, 2 for a bad command line.
func runCLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	name := args[0]
	var err error
	switch {
	case name == "-h" || name == "--help" || name == "help":
		printUsage(stdout)
		return 0
	case name == "report":
		err = runReport(args[1:], stdout, stderr)
	case scenarios[name] != nil:
		err = runScenario(ctx, name, args[1:], stderr)
	default:
		err = errUsage("unknown command %q", name)
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errNotOK):
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 3
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "loadgen: %v\nRun 'loadgen --help' or 'loadgen %s --help'.\n", err, name)
		return 2
	default:
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 1
	}
}

// runReport is 'loadgen report': its flags, then the report package.
func runReport(args []string, stdout, stderr io.Writer) error {
	var o report.Options
	fs := flag.NewFlagSet("loadgen report", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // mistakes are reported once, by runCLI
	o.Register(fs)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "Usage: loadgen report [flags]\n\nBuilds the benchmark report from the JSON files that 'loadgen SCENARIO --json' wrote.\n\n")
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return errUsage("unexpected argument %q", fs.Arg(0))
	}
	return report.Write(o, stdout)
}

// runScenario is 'loadgen SCENARIO': its flags, then the scenario.
func runScenario(ctx context.Context, name string, args []string, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("loadgen "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // mistakes are reported once, by runCLI
	o.register(fs, name)
	fs.Usage = func() {} // a mistake gets one line (runCLI); --help gets the list
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "Usage: loadgen %s [flags]\n\n", name)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return errUsage("unexpected argument %q (settings are flags)", fs.Arg(0))
	}
	if err := o.validate(); err != nil {
		return usageError{err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, o.Deadline)
	defer cancel()
	return scenarios[name](ctx, &o)
}
