package main

import (
	"encoding/json"
	"time"
)

// The coordinator and its workers talk JSON lines: the coordinator writes a
// workerConfig and then requests to a worker's stdin; the worker writes
// replies (and progress notes) to its stdout. Every request names its own
// timeout, the worker keeps it, and the coordinator waits a little longer
// before it gives up on the worker and kills it. All timestamps are unix
// nanoseconds of the shared wall clock: every process is on this machine.

// workerEnv marks a process started as a worker (see main).
const workerEnv = "LOADGEN_ROLE"

// workerConfig is the first line a worker reads.
type workerConfig struct {
	Index         int           `json:"index"`
	URL           string        `json:"url"` // one server, or the nodes of a cluster, comma-separated
	Proto         protocol      `json:"proto"`
	Room          string        `json:"room"`
	SourceIPs     []string      `json:"sourceIPs"`
	DialTimeout   time.Duration `json:"dialTimeout"`
	FlushInterval time.Duration `json:"flushInterval"`
	Seed          int64         `json:"seed"`

	CentrifugoMode string `json:"centrifugoMode,omitempty"` // --proto centrifugo: joinleave or presence

	wsURLs []string // the WebSocket address on each server; client k of worker i dials wsURLs[(i+k) % len]
}

// Request operations.
const (
	opOpen  = "open"  // open Count clients
	opAwait = "await" // wait until every member reads Count
	opLeave = "leave" // Clean members close cleanly, Reset members reset
	opChurn = "churn" // joins and leaves at Rate per second for Duration
	opStats = "stats" // resource use and counters
	opQuit  = "quit"  // reset every socket and exit
)

type request struct {
	ID          int           `json:"id"`
	Op          string        `json:"op"`
	Timeout     time.Duration `json:"timeout"`
	Count       int           `json:"count,omitempty"`
	Concurrency int           `json:"concurrency,omitempty"`
	Rate        float64       `json:"rate,omitempty"` // per second; 0 = as fast as Concurrency allows
	Clean       int           `json:"clean,omitempty"`
	Reset       int           `json:"reset,omitempty"`
	Duration    time.Duration `json:"duration,omitempty"`
	FailOnDrop  bool          `json:"failOnDrop,omitempty"` // await: give up once the server has dropped more than DropBase members
	DropBase    int64         `json:"dropBase,omitempty"`
	SkipServer  int           `json:"skipServer,omitempty"` // await: ignore the members of server SkipServer-1 (--url's list); 0: none
	Pub         bool          `json:"pub,omitempty"`        // await: the step of the last publication read (Count), not the count
}

// reply answers one request; Progress lines may come before it.
type reply struct {
	ID       int             `json:"id"`
	Progress *int            `json:"progress,omitempty"` // a progress note, not the answer
	Err      string          `json:"err,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
}

// openResult answers opOpen.
type openResult struct {
	Opened     int      `json:"opened"`
	Failed     int      `json:"failed"`
	FirstStart int64    `json:"firstStart"` // first dial began
	LastDone   int64    `json:"lastDone"`   // last handshake completed
	Handshakes []int64  `json:"handshakes"` // per client, dial → member, in microseconds
	Errors     []string `json:"errors,omitempty"`
}

// awaitResult answers opAwait.
type awaitResult struct {
	Done      bool          `json:"done"`
	Live      int           `json:"live"`      // members we did not close and the server did not drop
	AtTarget  int           `json:"atTarget"`  // of those, how many read the target
	MaxSeenAt int64         `json:"maxSeenAt"` // the last of them to read it
	Dropped   int64         `json:"dropped"`   // ended by the server so far
	GaveUp    bool          `json:"gaveUp"`    // FailOnDrop, and a member was dropped
	Counts    map[int64]int `json:"counts,omitempty"`
}

// leaveResult answers opLeave.
type leaveResult struct {
	Left    int   `json:"left"`
	FirstAt int64 `json:"firstAt"`
	LastAt  int64 `json:"lastAt"`
}

// churnResult answers opChurn.
type churnResult struct {
	Joins         int      `json:"joins"`
	JoinFailures  int      `json:"joinFailures"`
	Leaves        int      `json:"leaves"`
	WindowStart   int64    `json:"windowStart"`
	WindowEnd     int64    `json:"windowEnd"`
	Frames        int64    `json:"frames"`        // count frames read inside the window
	MemberSeconds float64  `json:"memberSeconds"` // time members spent in the window
	Gaps          gapStats `json:"gaps"`
	MaxPerSecond  int64    `json:"maxPerSecond"` // most frames one member read within one second
	Errors        []string `json:"errors,omitempty"`
}

// statsResult answers opStats.
type statsResult struct {
	CPU         float64  `json:"cpu"`    // seconds, user + system
	RSS         int64    `json:"rss"`    // bytes now
	MaxRSS      int64    `json:"maxRSS"` // bytes, peak
	Live        int      `json:"live"`
	CountFrames int64    `json:"countFrames"`
	OtherFrames int64    `json:"otherFrames"`
	BadFrames   int64    `json:"badFrames"`
	ErrorEvents int64    `json:"errorEvents"`
	StaleSeq    int64    `json:"staleSeq"`
	Dropped     int64    `json:"dropped"`
	PerServer   []int    `json:"perServer,omitempty"` // live members on each server of --url
	Errors      []string `json:"errors,omitempty"`
}
