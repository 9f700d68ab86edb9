package actors

import (
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// benchSocket counts writes and signals when a target is reached; it costs
// next to nothing, so the benchmark measures the actors, not the socket.
type benchSocket struct {
	writes  *atomic.Int64
	target  *atomic.Int64
	reached chan struct{}
	ended   chan struct{}
}

func (s *benchSocket) WriteFrame([]byte) error {
	if s.writes.Add(1) == s.target.Load() {
		s.reached <- struct{}{}
	}
	return nil
}

func (s *benchSocket) Close(uint16, string) {
	select {
	case <-s.ended:
	default:
		close(s.ended)
	}
}

func (s *benchSocket) Start(_ func([]byte), onEnd func(error)) {
	go func() { <-s.ended; onEnd(nil) }()
}

// BenchmarkFanOut measures one count push to every member of a room: a
// membership change, the flush, and one write per member. It runs with
// protoactor's actor metrics on (a receive-duration histogram observation
// per message) and off, which is what --actor-metrics switches.
//
//	go test -run '^$' -bench FanOut -benchtime 200x ./actors
func BenchmarkFanOut(b *testing.B) {
	for _, members := range []int{2000, 10000} {
		for _, metrics := range []bool{false, true} {
			b.Run(fmt.Sprintf("members=%d/actor-metrics=%v", members, metrics), func(b *testing.B) {
				benchFanOut(b, members, metrics)
			})
		}
	}
}

func benchFanOut(b *testing.B, members int, metrics bool) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var system *actor.ActorSystem
	if metrics {
		system = NewSystem(log, sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())))
	} else {
		system = NewSystem(log, nil)
	}
	defer system.Shutdown()
	// A 1 ms interval keeps the seating of thousands of members cheap. A
	// fan-out to 2,000 members or more takes several times that, so neither
	// the Room's coalescing nor a Member's pacing (one count per interval per
	// member) makes an iteration wait: it measures the push itself.
	rooms := system.Root.Spawn(NewRoomsProps(Options{FlushInterval: time.Millisecond, Logger: log}))
	defer func() { _ = system.Root.PoisonFuture(rooms).Wait() }()

	var writes, target atomic.Int64
	reached := make(chan struct{}, 1)
	newSocket := func() *benchSocket {
		return &benchSocket{writes: &writes, target: &target, reached: reached, ended: make(chan struct{})}
	}
	// Seat the members and wait until the last of them has had a count.
	target.Store(-1)
	for range members {
		system.Root.Send(rooms, &Join{Room: "bench", Socket: newSocket()})
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		res, err := system.Root.RequestFuture(rooms, &CountRequest{Room: "bench"}, time.Minute).Result()
		if err != nil {
			b.Fatal(err)
		}
		if res.(*CountResponse).Users == members {
			break
		}
		<-tick.C
	}
	var extra *benchSocket

	b.ResetTimer()
	for range b.N {
		// Each change goes to every member (members, or members+1 after a join).
		writes.Store(0)
		if extra == nil {
			extra = newSocket()
			target.Store(int64(members + 1))
			system.Root.Send(rooms, &Join{Room: "bench", Socket: extra})
		} else {
			target.Store(int64(members))
			extra.Close(0, "")
			extra = nil
		}
		<-reached
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(members), "ns/member")
}
