package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// announcer works around a hole in the pinned etcd provider: it reads the
// members (fetchNodes) and then starts watching from "now", not from the
// revision it read (etcd_provider.go:277 passes no WithRev), so a member that
// registers in between — nodes starting together — is never seen by it,
// until that member's key changes again. The missed member cannot count for
// that node, and no event will ever tell it.
//
// A node learns it was missed from a Pong (knows_you false) and then
// re-announces itself: it writes its registration again, same value, same
// lease, which every watcher receives as a fresh put. At most once per two
// refresh intervals.
//
// Concurrency: reannounce may be called from any goroutine; the etcd
// round trip runs on its own goroutine.
type announcer struct {
	client *clientv3.Client // nil without etcd: the static provider polls everyone, nothing to miss
	key    string           // this node's registration
	every  time.Duration

	mu   sync.Mutex
	last time.Time
}

func newAnnouncer(ctx context.Context, cfg Config, selfID string) (*announcer, error) {
	a := &announcer{every: 2 * cfg.Refresh}
	if len(cfg.Etcd) == 0 {
		return a, nil
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: cfg.Etcd, Logger: zap.NewNop(), Context: ctx, DialKeepAliveTime: 2 * time.Second, DialKeepAliveTimeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("etcd client for %v: %w", cfg.Etcd, err)
	}
	// The provider's key: BASE/NAME/ID, with BASE = /presence/NAME (provider.go).
	a.client, a.key = c, etcdBase(cfg.Name)+"/"+cfg.Name+"/"+selfID
	return a, nil
}

// reannounce rewrites this node's registration unchanged, so that a member
// whose provider missed it sees it now. It reports whether it started.
func (a *announcer) reannounce(onDone func(error)) bool {
	if a.client == nil {
		return false
	}
	a.mu.Lock()
	if time.Since(a.last) < a.every {
		a.mu.Unlock()
		return false
	}
	a.last = time.Now()
	a.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		onDone(a.rewrite(ctx))
	}()
	return true
}

func (a *announcer) rewrite(ctx context.Context) error {
	res, err := a.client.Get(ctx, a.key)
	if err != nil {
		return fmt.Errorf("read own registration: %w", err)
	}
	if len(res.Kvs) == 0 || res.Kvs[0].Lease == 0 {
		return fmt.Errorf("own registration %s is not there", a.key)
	}
	kv := res.Kvs[0]
	if _, err := a.client.Put(ctx, a.key, string(kv.Value), clientv3.WithLease(clientv3.LeaseID(kv.Lease))); err != nil {
		return fmt.Errorf("rewrite own registration: %w", err)
	}
	return nil
}

func (a *announcer) close() {
	if a.client != nil {
		_ = a.client.Close()
	}
}
