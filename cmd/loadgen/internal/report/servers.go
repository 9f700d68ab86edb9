package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// server is what the report says about one label: who it is and, where the
// scenarios measure it differently from ours, how.
type server struct {
	label string
	what  string // one sentence: what the server is
	// idleStep is what one latency step of the idle scenario is for this
	// server, when it is not a single join or leave read as a new count.
	idleStep string
}

// servers are the servers the report can describe, in the order it does.
// A label not listed here is a variant of ours named in the run's settings.
var servers = []server{
	{label: "gohub", what: "`bench/baselines/gohub`, the classic Go chat-hub pattern (gorilla/websocket, a read and a write goroutine per connection, one hub goroutine, `currentUsers` broadcast on every join and leave)"},
	{label: "socketio", what: "`bench/baselines/socketio`, the seed lesson's Socket.IO server (`currentUsers` ++/−− and `io.emit('user count')` on both)"},
	{label: "centrifugo", what: "[Centrifugo](https://github.com/centrifugal/centrifugo) (`bench/baselines/centrifugo`, built with `go install` at the version in the settings above), the Go server teams choose for live presence; it pushes no count, so its clients derive it as a Centrifugo application does: a presence snapshot on subscribe, then join and leave pushes (how each scenario maps is under *Centrifugo: how each scenario maps* below)",
		idleStep: "one publication through its HTTP API (its idle config has no join/leave pushes)"},
}

// describeServers writes the paragraph that names every server in the
// report.
func (r *report) describeServers(w io.Writer) {
	fmt.Fprintf(w, "The servers: **%s** is this repository's server; ", r.ours)
	for _, s := range servers {
		if s.label == r.ours || (!slices.Contains(r.labels, s.label) && !slices.Contains(r.baselines, s.label)) {
			continue
		}
		fmt.Fprintf(w, "**%s** is %s; ", s.label, s.what)
	}
	fmt.Fprintf(w, "any other label is a variant of ours named in the run's settings above. Each server is started fresh for every run.\n\n")
}

// latencySteps says, for the servers whose idle latency step is not a join
// or a leave, what it is instead ("" when every server's is).
func (r *report) latencySteps() string {
	var parts []string
	for _, s := range servers {
		if s.idleStep != "" && slices.Contains(r.labels, s.label) {
			parts = append(parts, s.label+": "+s.idleStep)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " A step is a join or a leave, except for " + strings.Join(parts, "; ") + "."
}
