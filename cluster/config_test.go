package cluster

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	ok := Config{Name: "demo", Bind: "127.0.0.1:7001", Etcd: []string{"http://127.0.0.1:2379"}, Refresh: time.Second, HeartbeatExpiration: 10 * time.Second}
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string // "" = valid
	}{
		{"etcd", func(*Config) {}, ""},
		{"no cluster at all", func(c *Config) { *c = Config{} }, ""},
		{"peers", func(c *Config) { c.Etcd, c.Peers = nil, []string{"127.0.0.1:7001", "127.0.0.1:7003"} }, ""},
		{"etcd without cluster", func(c *Config) { c.Name = "" }, "--etcd needs --cluster NAME"},
		{"bind without cluster", func(c *Config) { *c = Config{Bind: "127.0.0.1:1"} }, "--cluster-bind needs --cluster NAME"},
		{"bad name", func(c *Config) { c.Name = "a/b" }, "--cluster must be 1 to 64"},
		{"no bind", func(c *Config) { c.Bind = "" }, "--cluster-bind HOST:PORT is required"},
		{"bind not host:port", func(c *Config) { c.Bind = "7001" }, "--cluster-bind must be HOST:PORT"},
		{"unspecified bind", func(c *Config) { c.Bind = "0.0.0.0:7001" }, "give --cluster-advertise"},
		{"unspecified bind, advertised", func(c *Config) { c.Bind, c.Advertise = "0.0.0.0:7001", "10.0.0.5:7001" }, ""},
		{"advertise without port", func(c *Config) { c.Advertise = "10.0.0.5:0" }, "--cluster-advertise must name"},
		{"no store", func(c *Config) { c.Etcd = nil }, "needs a membership store"},
		{"both stores", func(c *Config) { c.Peers = []string{"127.0.0.1:7003"} }, "either --etcd or --cluster-peers"},
		{"etcd not a URL", func(c *Config) { c.Etcd = []string{"127.0.0.1:2379"} }, "http://HOST:PORT URLs"},
		{"peer not host:port", func(c *Config) { c.Etcd, c.Peers = nil, []string{"x"} }, "--cluster-peers must be"},
		{"peers with a random port", func(c *Config) { c.Etcd, c.Peers, c.Bind = nil, []string{"127.0.0.1:7003"}, "127.0.0.1:0" }, "needs a fixed cluster port"},
		{"refresh", func(c *Config) { c.Refresh = 0 }, "--cluster-refresh must be above 0"},
		{"heartbeat", func(c *Config) { c.HeartbeatExpiration = time.Millisecond }, "--cluster-heartbeat-expiration must be at least 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mutate(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}
