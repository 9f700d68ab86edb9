package cluster

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"time"
)

// Config is a node's cluster settings; main fills it from the --cluster*
// and --etcd flags. The zero Name means no cluster.
type Config struct {
	Name      string   // cluster name: nodes with the same name (and membership store) form one cluster
	Bind      string   // host:port protoactor's remote listens on
	Advertise string   // host:port the other nodes reach this one on; "" = Bind
	Etcd      []string // etcd client URLs: membership through protoactor's etcd provider
	Peers     []string // the cluster addresses of every node of a static cluster (protoactor's automanaged provider)

	// Refresh is how often a node re-sends all its partials and pings every
	// member; a re-activated aggregator waits at most this long for the
	// partials it needs before it publishes.
	Refresh time.Duration
	// HeartbeatExpiration is protoactor's gossip heartbeat timeout (its
	// default, 20 s, is tuned down). See docs/architecture.md §11 for why it
	// matters less than it seems.
	HeartbeatExpiration time.Duration
	// FlushInterval is the coalescing window of the rooms; an aggregator
	// pushes to each node at most once per interval.
	FlushInterval time.Duration
}

// Defaults of the tunable durations.
const (
	DefaultRefresh             = time.Second
	DefaultHeartbeatExpiration = 10 * time.Second
)

// Enabled reports whether a cluster is configured.
func (c Config) Enabled() bool { return c.Name != "" }

var clusterName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Validate checks the settings and names the flag at fault in each error.
// With no --cluster, any other cluster setting is an error too, so that a
// typo cannot silently start a single process.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !c.Enabled() {
		for flag, set := range map[string]bool{
			"--cluster-bind": c.Bind != "", "--cluster-advertise": c.Advertise != "",
			"--etcd": len(c.Etcd) > 0, "--cluster-peers": len(c.Peers) > 0,
		} {
			if set {
				bad("%s needs --cluster NAME", flag)
			}
		}
		return errors.Join(errs...)
	}
	if !clusterName.MatchString(c.Name) {
		bad("--cluster must be 1 to 64 of A-Z a-z 0-9 _ -, got %q", c.Name)
	}
	bindHost, _, err := splitAddr(c.Bind)
	switch {
	case c.Bind == "":
		bad("--cluster-bind HOST:PORT is required with --cluster (where this node's protoactor remote listens)")
	case err != nil:
		bad("--cluster-bind must be HOST:PORT, got %q: %v", c.Bind, err)
	case c.Advertise == "" && unspecified(bindHost):
		bad("--cluster-bind %s listens on every interface: give --cluster-advertise HOST:PORT, the address the other nodes reach this one on", c.Bind)
	}
	if c.Advertise != "" {
		if h, p, err := splitAddr(c.Advertise); err != nil {
			bad("--cluster-advertise must be HOST:PORT, got %q: %v", c.Advertise, err)
		} else if unspecified(h) || p == 0 {
			bad("--cluster-advertise must name a reachable host and a port, got %q", c.Advertise)
		}
	}
	switch {
	case len(c.Etcd) == 0 && len(c.Peers) == 0:
		bad("--cluster needs a membership store: --etcd URL[,URL…] (etcd) or --cluster-peers HOST:PORT,… (a small static cluster)")
	case len(c.Etcd) > 0 && len(c.Peers) > 0:
		bad("use either --etcd or --cluster-peers, not both")
	}
	for _, e := range c.Etcd {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("--etcd must be a comma-separated list of http://HOST:PORT URLs, got %q", e)
		}
	}
	for _, p := range c.Peers {
		if _, port, err := splitAddr(p); err != nil || port == 0 || port == 65535 {
			bad("--cluster-peers must be a comma-separated list of HOST:PORT (each node's --cluster-bind), got %q", p)
		}
	}
	if _, port, err := splitAddr(c.advertised()); len(c.Peers) > 0 && err == nil && (port == 0 || port == 65535) {
		bad("--cluster-peers needs a fixed cluster port below 65535 (the static provider's health check listens on that port + 1), got %q", c.advertised())
	}
	if c.Refresh <= 0 {
		bad("--cluster-refresh must be above 0, got %s", c.Refresh)
	}
	if c.HeartbeatExpiration < time.Second {
		bad("--cluster-heartbeat-expiration must be at least 1s, got %s", c.HeartbeatExpiration)
	}
	return errors.Join(errs...)
}

// advertised is the address the other nodes reach this one on.
func (c Config) advertised() string {
	if c.Advertise != "" {
		return c.Advertise
	}
	return c.Bind
}

func splitAddr(addr string) (host string, port int, err error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return h, n, nil
}

func unspecified(host string) bool {
	ip := net.ParseIP(host)
	return host == "" || (ip != nil && ip.IsUnspecified())
}
