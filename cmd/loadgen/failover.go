package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"presence/cmd/loadgen/internal/result"
)

// runFailover: a room of N over the nodes of a cluster (several --url), then
// one node fails: --event is a shell command run once every client has read
// N (`kill -9 PID`, `kill -STOP PID`, an nft rule that cuts the node off).
// It measures the time from just before the command starts until every
// member of the other nodes has read the total without the failed node's
// members: the cluster's failure detection plus one push. The failed
// node's own members are not waited for (they lose their connection, or are
// cut off with it).
func runFailover(ctx context.Context, o *options) (err error) {
	urls := strings.Split(o.URL, ",")
	switch {
	case len(urls) < 2:
		return errUsage("failover needs the nodes of a cluster: give several --url")
	case o.Event == "":
		return errUsage("failover needs --event, the command that makes a node fail (e.g. 'kill -9 PID')")
	case o.Victim < 0 || o.Victim >= len(urls):
		return errUsage("--victim must be 0 to %d (an index in --url), got %d", len(urls)-1, o.Victim)
	}
	r, err := newRun(ctx, o, "failover", 0)
	if err != nil {
		return err
	}
	defer func() { err = r.finish(err) }()

	a, ok := r.fillRoom()
	if !ok {
		return nil
	}
	stats, err := all[statsResult](r.ctx, r.pool, func(int) request { return request{Op: opStats, Timeout: 10 * time.Second} })
	if err != nil {
		return err
	}
	victims := 0
	for _, s := range stats {
		if o.Victim < len(s.PerServer) {
			victims += s.PerServer[o.Victim]
		}
	}
	want := a.Live - victims
	f := &result.Failover{Event: o.Event, Victim: o.Victim, VictimMembers: victims, Survivors: want}
	r.res.Failover = f
	r.expectedDrops = int64(victims) // killed with their node, or closed by it when it rejoins

	start := time.Now()
	out, cmdErr := exec.CommandContext(r.ctx, "sh", "-c", o.Event).CombinedOutput()
	if cmdErr != nil {
		return fmt.Errorf("--event %q: %v: %s", o.Event, cmdErr, out)
	}
	answers, err := all[awaitResult](r.ctx, r.pool, func(int) request {
		return request{Op: opAwait, Timeout: o.Timeout, Count: want, SkipServer: o.Victim + 1}
	})
	if err != nil {
		return err
	}
	f.Done = true
	var last int64
	for _, x := range answers {
		f.Done = f.Done && x.Done
		f.AtTarget += x.AtTarget
		last = max(last, x.MaxSeenAt)
	}
	if !f.Done {
		r.res.Problem("not every member of the other nodes read %d within %s (%d did)", want, o.Timeout, f.AtTarget)
		return nil
	}
	f.CorrectedMs = ms(last - start.UnixNano())
	return nil
}
