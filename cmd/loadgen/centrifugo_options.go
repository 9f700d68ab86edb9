package main

import (
	"flag"
	"net"
	"net/url"
)

// centrifugoOptions are the settings only --proto centrifugo reads.
type centrifugoOptions struct {
	CentrifugoMode   string // cfModeJoinLeave or cfModePresence
	CentrifugoAPI    string // the server HTTP API, http://HOST:PORT/api
	CentrifugoAPIKey string
}

func (o *centrifugoOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.CentrifugoMode, "centrifugo-mode", cfModeJoinLeave,
		"--proto centrifugo: joinleave (each client keeps the count from a presence snapshot plus join/leave pushes; "+
			"the channel must have join_leave on) or presence (clients only subscribe; the room is formed when the server's "+
			"presence_stats says N, and latency steps are publications through the HTTP API)")
	fs.StringVar(&o.CentrifugoAPI, "centrifugo-api", "", "--proto centrifugo: the server HTTP API (default: http://HOST:PORT/api of --url)")
	fs.StringVar(&o.CentrifugoAPIKey, "centrifugo-api-key", "", "--proto centrifugo: the HTTP API key (its config's http_api.key)")
}

// validate checks the Centrifugo settings of o (proto is the parsed
// --proto, base the --url) and fills in the default API address.
func (o *centrifugoOptions) validate(proto protocol, base string, bad func(string, ...any)) {
	if proto != protoCentrifugo {
		return
	}
	switch o.CentrifugoMode {
	case cfModeJoinLeave, cfModePresence:
	default:
		bad("--centrifugo-mode must be %s or %s, got %q", cfModeJoinLeave, cfModePresence, o.CentrifugoMode)
	}
	if o.CentrifugoAPI == "" {
		if u, err := url.Parse(base); err == nil && u.Host != "" {
			o.CentrifugoAPI = "http://" + u.Host + "/api"
		}
	}
	u, err := url.Parse(o.CentrifugoAPI)
	if err != nil || u.Scheme != "http" || u.Hostname() == "" {
		bad("--centrifugo-api must look like http://127.0.0.1:8000/api, got %q", o.CentrifugoAPI)
		return
	}
	if ip := net.ParseIP(u.Hostname()); (ip == nil && u.Hostname() != "localhost") || (ip != nil && !ip.IsLoopback()) {
		bad("--centrifugo-api: the load generator only targets loopback, got %q", u.Hostname())
	}
}

// cfPresenceMode reports whether clients are Centrifugo clients that only
// subscribe: the room is then formed when the server's presence says so,
// and latency steps are publications through the HTTP API.
func (o *options) cfPresenceMode() bool {
	return o.proto == protoCentrifugo && o.CentrifugoMode == cfModePresence
}

// cfAPI is the server HTTP API of --proto centrifugo.
func (o *options) cfAPI() cfAPI { return cfAPI{base: o.CentrifugoAPI, key: o.CentrifugoAPIKey} }
