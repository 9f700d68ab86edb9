package cluster

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/etcd"
	"github.com/asynkron/protoactor-go/remote"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
)

// etcdBaseKey is where the members register: /presence/NAME/NAME/NAME@ID.
// protoactor's provider reads and watches the prefix BASE/NAME with no
// trailing slash (etcd_provider.go:276, :326), so under a shared base key a
// cluster named demo would take in the members of demo2. With the name in
// the base key too, its prefix is /presence/NAME/NAME, which no other
// valid name shares.
const etcdBaseKey = "/presence"

// etcdBase is the base key the etcd provider of cluster name is given.
func etcdBase(name string) string { return etcdBaseKey + "/" + name }

// Keepalive on protoactor's gRPC connections. The pinned remote dials with
// no keepalive at all, so a partition or a frozen peer would leave
// connections that look healthy. With these:
//
//   - gRPC sets TCP_USER_TIMEOUT to keepaliveTimeout on both ends, so a
//     connection whose data stays unacknowledged that long is aborted, and
//     the remote reports the endpoint terminated: the fast path of a killed
//     process. Gossip and our pings put data on every connection several
//     times a second, so a partition is noticed in 2–5 s.
//   - servers ping every keepaliveTime and drop a client that does not
//     answer within keepaliveTimeout. (gRPC-go raises a client's ping
//     interval below 10 s to 10 s, so the client side pings every 10 s.)
//
// A frozen peer's kernel still acknowledges data, so a freeze is noticed by
// its lease instead (3 s with etcd; the static provider's 2 s health check),
// or by the client's 10 s keepalive while etcd is down.
const (
	keepaliveTime    = time.Second
	keepaliveTimeout = 2 * time.Second
)

// staticRefresh is how often the static (automanaged) provider polls every
// peer's health endpoint (protoactor's default is 2 s).
const staticRefresh = 300 * time.Millisecond

// newProvider builds the membership provider: protoactor's etcd provider
// with --etcd, its automanaged provider with --cluster-peers. It returns the
// provider, this node's member id as that provider names it, and the
// provider's name.
//
// The two providers name members differently: etcd as NAME@SYSTEMID
// (etcd_provider.go:71), automanaged by the bare system id.
func newProvider(ctx context.Context, cfg Config, systemID string) (pcluster.ClusterProvider, string, string, error) {
	if len(cfg.Etcd) > 0 {
		p, err := etcd.NewWithConfig(etcdBase(cfg.Name), clientv3.Config{
			Endpoints: cfg.Etcd,
			// Notice a dead etcd connection, and reconnect within about a
			// second once etcd is back (gRPC's own backoff grows to 2 minutes):
			// the provider's lease lives 3 s and must be renewed soon after.
			DialKeepAliveTime:    2 * time.Second,
			DialKeepAliveTimeout: 2 * time.Second,
			DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
				Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
				MinConnectTimeout: 2 * time.Second,
			})},
			Logger:  zap.NewNop(), // its warnings would interleave another format on stderr
			Context: ctx,
		})
		if err != nil {
			return nil, "", "", fmt.Errorf("etcd client for %v: %w", cfg.Etcd, err)
		}
		return p, cfg.Name + "@" + systemID, "etcd", nil
	}
	hosts := make([]string, 0, len(cfg.Peers))
	for _, peer := range cfg.Peers {
		h, port, _ := splitAddr(peer) // validated
		hosts = append(hosts, net.JoinHostPort(h, strconv.Itoa(port+1)))
	}
	_, port, _ := splitAddr(healthAddr(cfg))
	return automanaged.NewWithConfig(staticRefresh, port, hosts...), systemID, "peers", nil
}

// healthAddr is where the automanaged provider serves its health check:
// every interface (it cannot be told otherwise), port = cluster port + 1.
func healthAddr(cfg Config) string {
	_, port, _ := splitAddr(cfg.advertised())
	return net.JoinHostPort("0.0.0.0", strconv.Itoa(port+1))
}

// remoteOptions configures protoactor's remote: the advertised address and
// gRPC keepalive on both ends (see keepaliveTime).
func remoteOptions(cfg Config) []remote.ConfigOption {
	opts := []remote.ConfigOption{
		remote.WithDialOptions(
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: keepaliveTime, Timeout: keepaliveTimeout, PermitWithoutStream: true}),
		),
		remote.WithServerOptions(
			grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveTime / 2, PermitWithoutStream: true}),
			grpc.KeepaliveParams(keepalive.ServerParameters{Time: keepaliveTime, Timeout: keepaliveTimeout}),
		),
	}
	if cfg.Advertise != "" {
		opts = append(opts, remote.WithAdvertisedHost(cfg.Advertise))
	}
	return opts
}
