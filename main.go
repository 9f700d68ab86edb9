// Command presence serves a live presence page: browsers join rooms over
// WebSockets and every member sees, live and exactly, how many people are in
// the room. See README.md and docs/architecture.md.
//
// This file is wiring only: configuration, the actor system, the HTTP
// server, signals and the order of shutdown. The actor tree lives in
// actors/, the network edge in transport/; this is the one place that
// connects them.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.opentelemetry.io/otel/metric"

	"presence/actors"
	"presence/cluster"
	"presence/internal/metrics"
	"presence/internal/wire"
	"presence/internal/workpool"
	"presence/transport"
	"presence/transport/socketio"
)

//go:embed public
var publicFiles embed.FS

func main() {
	if os.Getenv("GOGC") == "" {
		// Most of an idle server's memory is heap the collector has not yet
		// reclaimed or returned (the handshakes' garbage, headroom): at the
		// default of 100 the heap grows to twice what is live before a
		// collection. 50 keeps memory per idle connection near its live size
		// for a little more collection work (docs/architecture.md §7).
		debug.SetGCPercent(50)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stderr))
}

// run is the whole program: it serves until ctx ends (SIGINT/SIGTERM), then
// shuts down in order, and returns the exit code: 0 after a clean shutdown,
// 2 for bad settings, 1 for anything else.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "presence: %v\nRun 'presence --help' for the settings.\n", err)
		return 2
	}
	log := newLogger(cfg, stderr)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		log.Error("cannot listen", "addr", cfg.Addr, "err", err)
		return 1
	}
	a, err := newApp(cfg, log)
	if err != nil {
		ln.Close()
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := a.serve(ctx, ln); err != nil {
		log.Error("stopped with an error", "err", err)
		return 1
	}
	return 0
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	level, _ := cfg.logLevel() // validated
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// app is one running server: the actor tree, the network edge, and the HTTP
// server in front of it.
type app struct {
	cfg    config
	log    *slog.Logger
	system *actor.ActorSystem
	rooms  *actor.PID
	edge   *transport.Server
	sio    *socketio.Server
	http   *http.Server
	node   *cluster.Node // nil: one process
}

func newApp(cfg config, log *slog.Logger) (*app, error) {
	reg := metrics.New()
	var mp metric.MeterProvider
	if cfg.ActorMetrics {
		var err error
		if mp, err = reg.ActorMeterProvider(); err != nil {
			return nil, err
		}
	}
	// One worker pool runs the actors and, in the poll read mode, reads the
	// sockets: one bound on the goroutines doing either.
	pool := workpool.New(cfg.Workers)
	opts := actors.Options{
		FlushInterval: cfg.FlushInterval,
		Frame:         transport.TextFrame,
		Encoders: [wire.NumFormats]actors.Encoder{
			wire.SocketIOFrame:  socketio.FrameEncoder{},
			wire.SocketIOPacket: socketio.PacketEncoder{},
		},
		MaxBadMessages: cfg.MaxBadMessages,
		Observer:       reg,
		Logger:         log,
		Pool:           pool,
	}
	var node *cluster.Node
	if cfg.Cluster.Enabled() {
		cfg.Cluster.FlushInterval = cfg.FlushInterval
		var err error
		if node, err = cluster.New(cfg.Cluster, log, reg.Cluster()); err != nil {
			return nil, err
		}
		opts.Cluster = node
	}
	system := actors.NewSystem(log, mp)
	rooms := system.Root.Spawn(actors.NewRoomsProps(opts))
	if node != nil {
		node.Start(system.Root, rooms)
	}

	public, err := fs.Sub(publicFiles, "public")
	if err != nil {
		return nil, err
	}
	edge, err := transport.NewServer(cfg.Config, reg, log, public, pool)
	if err != nil {
		system.Shutdown()
		return nil, err
	}
	edge.Metrics = reg.Handler()
	edge.OnConnect = func(room string, c *transport.Conn) {
		system.Root.Send(rooms, &actors.Join{Room: room, Socket: c})
	}
	sio, err := socketio.NewServer(edge, log)
	if err != nil {
		system.Shutdown()
		return nil, err
	}
	sio.OnConnect = func(room string, s *socketio.Session) {
		system.Root.Send(rooms, &actors.Join{Room: room, Socket: s})
	}
	edge.SocketIO = sio
	edge.Rooms = func(ctx context.Context) ([]transport.RoomCount, error) {
		counts, err := actors.ListRooms(ctx, system.Root, rooms)
		if err != nil {
			return nil, err
		}
		out := make([]transport.RoomCount, 0, len(counts))
		for _, r := range counts {
			rc := transport.RoomCount{Room: r.Room, CurrentUsers: r.Users}
			if node != nil {
				rc.ThisNode = &r.Local
			}
			out = append(out, rc)
		}
		return out, nil
	}
	if node != nil {
		edge.Cluster = node.Handler()
		edge.Ready = node.Ready
	}

	return &app{
		cfg:    cfg,
		log:    log,
		system: system,
		rooms:  rooms,
		edge:   edge,
		sio:    sio,
		node:   node,
		http: &http.Server{
			Handler:           edge.Handler(),
			ReadHeaderTimeout: cfg.HandshakeTimeout,
			IdleTimeout:       time.Minute,
			MaxHeaderBytes:    32 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		},
	}, nil
}

// serve serves on ln until ctx ends, then shuts down.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	served := make(chan error, 1)
	go func() { served <- a.http.Serve(ln) }()
	a.log.Info("serving", "addr", ln.Addr().String(), "page", "http://"+pageHost(ln.Addr())+"/", "read_mode", a.edge.ReadMode())

	var expelled <-chan struct{}
	var fatal <-chan error
	if a.node != nil {
		expelled, fatal = a.node.Expelled(), a.node.Fatal()
	}
	var serveErr error
	select {
	case <-ctx.Done():
		a.log.Info("shutting down", "cause", context.Cause(ctx))
	case serveErr = <-served:
		serveErr = fmt.Errorf("http: %w", serveErr)
	case <-expelled:
		// The others no longer count this node's members (protoactor never
		// readmits a member id): close every socket so its clients reconnect
		// to a node that counts them, and exit for the supervisor to restart
		// this node with a new id.
		serveErr = fmt.Errorf("removed from the cluster: %s", a.node.ExpelReason())
	case serveErr = <-fatal:
	}
	a.shutdown()
	return serveErr
}

// shutdown stops in this order, all within --shutdown-timeout:
//  1. refuse new upgrades and sessions, /readyz → 503, let admitted upgrades reach the actors;
//  2. in a cluster, leave it: the other nodes drop this node's counts;
//  3. close every Socket.IO session with Engine.IO's close packet (a
//     long-polling one gets it on its pending or next poll, which needs the
//     HTTP server still serving);
//  4. stop the HTTP server: the listener closes, plain requests finish;
//  5. stop the actor tree: every Conn closes its socket with 1001;
//  6. wait for the sockets to finish closing (forcing the stragglers);
//  7. stop the actor system.
func (a *app) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()

	a.edge.Drain()
	if a.node != nil {
		// Before the sockets close: the others drop this node's partials
		// now, so a client that reconnects to another node is counted once.
		a.node.Leave(ctx)
	}
	if err := a.sio.Shutdown(ctx); err != nil {
		a.log.Warn("socket.io sessions still open at the shutdown deadline", "err", err)
	}
	if err := a.http.Shutdown(ctx); err != nil {
		a.log.Warn("http requests still running at the shutdown deadline", "err", err)
	}

	stopped := make(chan error, 1)
	go func() { stopped <- a.system.Root.PoisonFuture(a.rooms).Wait() }()
	select {
	case err := <-stopped:
		if err != nil {
			a.log.Warn("stopping the actors", "err", err)
		}
	case <-ctx.Done():
		a.log.Warn("actors did not stop before the shutdown deadline")
	}

	if werr := a.edge.WaitClosed(ctx); werr != nil {
		a.log.Warn("forced sockets closed", "err", werr)
	}
	a.system.Shutdown()
	a.log.Info("stopped")
}

// pageHost names the listener so that a click on the logged URL works.
func pageHost(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
