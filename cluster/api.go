package cluster

import (
	"encoding/json"
	"net/http"
)

// Handler serves GET /api/cluster: the members as this node sees them.
//
//	{"cluster":"demo","self":"demo@k3…","address":"127.0.0.1:7001","membership":"etcd",
//	 "joined":true,"members":[{"id":"demo@k3…","address":"127.0.0.1:7001","self":true,
//	 "status":"alive","lastHeard":"…"}, …]}
//
// status is alive, suspect (its endpoint failed and it has not answered a
// ping since: its partials do not count), blocked (protoactor removed it) or
// left (it left the topology; the sixteen most recent are listed).
func (n *Node) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		addr := n.cfg.advertised()
		if n.joined.Load() {
			addr = n.sys.Address() // the remote's: the advertised address, or the port it got for port 0
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(struct {
			Cluster    string         `json:"cluster"`
			Self       string         `json:"self"`
			Address    string         `json:"address"`
			Membership string         `json:"membership"`
			Joined     bool           `json:"joined"`
			Members    []MemberStatus `json:"members"`
		}{n.cfg.Name, n.selfID, addr, n.provider, n.Ready(), n.view.statuses()})
	})
}
