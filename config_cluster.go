package main

import (
	"flag"
	"strings"

	"presence/cluster"
)

// registerClusterFlags adds the cluster's settings (docs/architecture.md
// §11). With --cluster empty, the server is one process, as without them.
func registerClusterFlags(fs *flag.FlagSet, c *cluster.Config) {
	list := func(dst *[]string) func(string) error {
		return func(v string) error {
			*dst = nil
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					*dst = append(*dst, s)
				}
			}
			return nil
		}
	}
	fs.StringVar(&c.Name, "cluster", "", "cluster name: run as one node of that cluster, every room spanning all its nodes (empty = one process)")
	fs.StringVar(&c.Bind, "cluster-bind", "", "HOST:PORT where this node's protoactor remote listens and the other nodes reach it")
	fs.StringVar(&c.Advertise, "cluster-advertise", "", "HOST:PORT the other nodes reach this node on, when it differs from --cluster-bind")
	fs.Func("etcd", "comma-separated etcd client URLs (http://HOST:PORT): cluster membership through protoactor's etcd provider", list(&c.Etcd))
	fs.Func("cluster-peers", "comma-separated HOST:PORT of every node's --cluster-bind, for a small static cluster without etcd (protoactor's automanaged provider; it also listens on PORT+1)", list(&c.Peers))
	fs.DurationVar(&c.Refresh, "cluster-refresh", cluster.DefaultRefresh, "how often a node re-sends its counts to the aggregators and pings every member")
	fs.DurationVar(&c.HeartbeatExpiration, "cluster-heartbeat-expiration", cluster.DefaultHeartbeatExpiration, "protoactor's gossip heartbeat timeout (its default is 20s)")
}
