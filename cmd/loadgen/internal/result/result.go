// Package result is the record of one load-generator run: what a scenario
// measured, as the JSON file 'loadgen SCENARIO --json' writes and 'loadgen
// report' reads. Both sides use these types, so the file format has one
// definition.
package result

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Run is everything one scenario run measured. It is written as JSON
// (--json) and read back by 'loadgen report'. Durations are in
// milliseconds, memory in bytes, CPU in seconds (and percent of one core).
type Run struct {
	Scenario      string    `json:"scenario"`
	Label         string    `json:"label"`
	Proto         string    `json:"proto"`
	URL           string    `json:"url"`
	N             int       `json:"n"`
	Workers       int       `json:"workers"`
	FlushInterval float64   `json:"flushIntervalMs"`
	TimeoutS      float64   `json:"timeoutS"`
	Started       time.Time `json:"started"`
	WallS         float64   `json:"wallS"`
	OK            bool      `json:"ok"`                 // every phase finished with exact counts
	Problems      []string  `json:"problems,omitempty"` // why not, in words

	Setup   *Setup   `json:"setup,omitempty"`
	Latency *Latency `json:"latency,omitempty"`
	Churn   *Churn   `json:"churn,omitempty"`
	Leave   *Leave   `json:"leave,omitempty"`
	Idle    *Idle    `json:"idle,omitempty"`

	Failover *Failover `json:"failover,omitempty"`

	Server  *Usage            `json:"server,omitempty"`
	Loadgen *Usage            `json:"loadgen"`
	Frames  Frames            `json:"frames"`
	Metrics map[string]string `json:"metrics,omitempty"` // a few server metrics at the end, as read
}

// Failover is one node of a cluster failing under a full room.
type Failover struct {
	Event         string  `json:"event"`         // the command that made it fail
	Victim        int     `json:"victim"`        // its index in --url
	VictimMembers int     `json:"victimMembers"` // members it had
	Survivors     int     `json:"survivors"`     // members of the other nodes: the corrected total
	Done          bool    `json:"done"`          // every one of them read it
	AtTarget      int     `json:"atTarget"`
	CorrectedMs   float64 `json:"correctedMs"` // the command started → the last of them read it
}

// Setup is the filling of the room: the ramp itself.
type Setup struct {
	Opened           int      `json:"opened"`
	Failed           int      `json:"failed"`
	HandshakesPerS   float64  `json:"handshakesPerS"`
	HandshakeP50Ms   float64  `json:"handshakeP50Ms"`
	HandshakeP99Ms   float64  `json:"handshakeP99Ms"`
	Done             bool     `json:"done"`             // every client read N
	AtTarget         int      `json:"atTarget"`         // how many had, when it ended
	SeenAfterLastMs  float64  `json:"seenAfterLastMs"`  // last handshake → last client read N
	SeenAfterFirstMs float64  `json:"seenAfterFirstMs"` // first dial → last client read N
	FramesPerClient  float64  `json:"framesPerClient"`  // count frames each client read on the way
	Errors           []string `json:"errors,omitempty"`
}

// Latency is count-propagation latency: a membership change (one
// join: its handshake done; one leave: its close begun) → the moment the
// last member read the new count.
type Latency struct {
	Samples     int     `json:"samples"`
	Failed      int     `json:"failed"`
	P50Ms       float64 `json:"p50Ms"`
	P95Ms       float64 `json:"p95Ms"`
	P99Ms       float64 `json:"p99Ms"`
	MaxMs       float64 `json:"maxMs"`
	JoinP50Ms   float64 `json:"joinP50Ms"`
	LeaveP50Ms  float64 `json:"leaveP50Ms"`
	ServerP50Ms float64 `json:"serverP50Ms,omitempty"` // presence_push_latency_seconds, change → last member written
	ServerP99Ms float64 `json:"serverP99Ms,omitempty"`

	// In a cluster (--metrics-url of every node): messages between nodes
	// per step, partials to an aggregator and vectors pushed back
	// (presence_cluster_{partials,vectors}_sent_total{to="other_node"}).
	ClusterMessagesPerChange float64 `json:"clusterMessagesPerChange,omitempty"`
}

// Churn is a steady rate of joins and leaves into a room of N, and what
// the members read meanwhile.
type Churn struct {
	RatePerS          float64 `json:"ratePerS"`
	DurationS         float64 `json:"durationS"`
	Joins             int     `json:"joins"`
	Leaves            int     `json:"leaves"`
	JoinFailures      int     `json:"joinFailures"`
	FramesPerMemberS  float64 `json:"framesPerMemberS"`
	CapPerMemberS     float64 `json:"capPerMemberS"` // 1 / flush interval
	MaxPerMemberS     int64   `json:"maxPerMemberS"` // most frames one member read within one second
	Gaps              int64   `json:"gaps"`
	GapsBelowInterval int64   `json:"gapsBelowInterval"`
	GapsBelowHalf     int64   `json:"gapsBelowHalf"`
	MinGapMs          float64 `json:"minGapMs"`
	GapP1Ms           float64 `json:"gapP1Ms"`
	GapP50Ms          float64 `json:"gapP50Ms"`
	Truth             int     `json:"truth"`
	Live              int     `json:"live"`
	AtTarget          int     `json:"atTarget"`
	Exact             bool    `json:"exact"`
	SettleMs          float64 `json:"settleMs"` // churn end → the last member read the final count
}

// Leave is a third of the room closing cleanly, a third resetting, and
// what the rest read afterwards.
type Leave struct {
	Clean         int     `json:"clean"`
	Reset         int     `json:"reset"`
	Stayed        int     `json:"stayed"`
	Truth         int     `json:"truth"`
	AtTarget      int     `json:"atTarget"`
	Exact         bool    `json:"exact"`
	SinceLastMs   float64 `json:"sinceLastMs"`  // the last leave → the last stayer read the truth
	SinceFirstMs  float64 `json:"sinceFirstMs"` // the first leave → same
	LeaveSpreadMs float64 `json:"leaveSpreadMs"`
}

// Idle is the server's memory and CPU per idle connection.
type Idle struct {
	Conns             int     `json:"conns"`
	RSSBefore         int64   `json:"rssBefore"`
	RSSAfter          int64   `json:"rssAfter"`
	BytesPerConn      float64 `json:"bytesPerConn"`
	HeapPerConn       float64 `json:"heapPerConn,omitempty"`  // go_memstats_heap_inuse_bytes delta / conns
	StackPerConn      float64 `json:"stackPerConn,omitempty"` // go_memstats_stack_inuse_bytes delta / conns
	GoroutinesPerConn float64 `json:"goroutinesPerConn,omitempty"`
	IdleCPUPercent    float64 `json:"idleCPUPercent"` // of one core, while the clients sat idle
	HoldS             float64 `json:"holdS"`
}

// Usage is a process's (or the load generator's processes') resource use
// over the run.
type Usage struct {
	Processes  int     `json:"processes"`
	CPUS       float64 `json:"cpuS"`
	CPUPercent float64 `json:"cpuPercent"` // of one core, over the run's wall time
	RSSEnd     int64   `json:"rssEnd"`
	RSSPeak    int64   `json:"rssPeak"`
}

// Frames counts the frames the clients read, and the clients the server
// dropped.
type Frames struct {
	Count       int64 `json:"count"`
	Other       int64 `json:"other"`
	Bad         int64 `json:"bad"`
	ErrorEvents int64 `json:"errorEvents"`
	StaleSeq    int64 `json:"staleSeq"`
	Dropped     int64 `json:"dropped"`
}

// Problem notes why the run is not OK, in words.
func (r *Run) Problem(format string, a ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, a...))
}

// WriteFile writes r as indented JSON to path.
func (r *Run) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// ReadFile reads a run that WriteFile wrote.
func ReadFile(path string) (*Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}
