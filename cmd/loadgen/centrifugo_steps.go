package main

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"presence/cmd/loadgen/internal/result"
)

// Centrifugo's presence mode (--centrifugo-mode presence): the clients only
// subscribe, as the members of a channel with presence on but no join/leave
// pushes do. Nobody is told a count, so two phases work differently:
//
//   - the room is formed when the server's presence_stats (HTTP API) lists
//     every client that subscribed;
//   - a latency step is one publication through the HTTP API, as an
//     application backend sends it, timed from the API call to the moment
//     the last subscriber read it (the fan-out of one message to N).

// awaitPresence is fillRoom's wait in presence mode. It polls the server's
// presence_stats every 10 ms until it counts every client that subscribed,
// within --timeout; the times it records are those of that poll.
func (r *run) awaitPresence(s *result.Setup) (awaitAll, bool) {
	api := r.o.cfAPI()
	deadline := time.Now().Add(r.o.Timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := api.presenceStats(r.ctx, r.o.Room)
		if err != nil {
			r.res.Problem("waiting for the server's presence: %v", err)
			return awaitAll{}, false
		}
		if n == s.Opened {
			break
		}
		if time.Now().After(deadline) {
			r.res.Problem("the server's presence_stats counted %d of %d subscribed clients after %s", n, s.Opened, r.o.Timeout)
			return awaitAll{}, false
		}
		select {
		case <-r.ctx.Done():
			r.res.Problem("waiting for the server's presence: %v", r.ctx.Err())
			return awaitAll{}, false
		case <-tick.C:
		}
	}
	at := time.Now().UnixNano()
	live, _, err := r.liveMembers()
	if err != nil {
		r.res.Problem("counting members: %v", err)
		return awaitAll{}, false
	}
	if live != s.Opened {
		r.res.Problem("%d of %d subscribed clients are still connected", live, s.Opened)
		return awaitAll{}, false
	}
	s.Done, s.AtTarget = true, live
	s.SeenAfterLastMs = ms(at - r.setupLast)
	s.SeenAfterFirstMs = ms(at - r.setupFirst)
	return awaitAll{Done: true, Live: live, AtTarget: live, MaxSeenAt: at}, true
}

// pubSteps measures publication latency in presence mode: --steps
// publications through the HTTP API, each --step-gap after the last one
// reached everyone, each followed by a wait until every member has read it.
func (r *run) pubSteps() *result.Latency {
	o := r.o
	api := o.cfAPI()
	var lat []float64
	var done atomic.Int64
	b := startBar(os.Stderr, r.live, "publication steps", int64(o.Steps), done.Load)
	res := &result.Latency{}
	for k := 1; k <= o.Steps; k++ {
		if r.ctx.Err() != nil {
			break
		}
		time.Sleep(o.StepGap) // pacing, not synchronisation: the await below is the wait
		sent := time.Now().UnixNano()
		if err := api.publish(r.ctx, o.Room, int64(k)); err != nil {
			res.Failed++
			r.res.Problem("publication step %d: %v", k, err)
			break
		}
		a, err := r.awaitOn("", k, o.Timeout, false, nil, true)
		if err != nil || !a.Done {
			res.Failed++
			r.res.Problem("publication step %d: not every member read it within %s: %s", k, o.Timeout, errText(err, a))
			break
		}
		lat = append(lat, ms(a.MaxSeenAt-sent))
		done.Add(1)
	}
	b.stop("")
	res.Samples = len(lat)
	res.P50Ms = finite(percentile(lat, 50))
	res.P95Ms = finite(percentile(lat, 95))
	res.P99Ms = finite(percentile(lat, 99))
	res.MaxMs = finite(percentile(lat, 100))
	return res
}

// errText says why an await did not finish: its error, or what the members
// that missed the target read instead.
func errText(err error, a awaitAll) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d of %d; %s", a.AtTarget, a.Live, a.describeCounts())
}
