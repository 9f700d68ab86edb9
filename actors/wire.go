package actors

import (
	"encoding/json"
	"errors"
	"fmt"
)

// The JSON side of the wire contract (docs/architecture.md §6): every frame is one
// object, {"event": NAME, "data": VALUE}.

// EventUserCount is the server → client event that carries a room's count.
const EventUserCount = "user count"

// Error codes of the "error" event.
const (
	ErrCodeBadJSON      = "bad_json"      // not a JSON object with a string "event"
	ErrCodeUnknownEvent = "unknown_event" // a well-formed event this server does not understand
)

type envelope[T any] struct {
	Event string `json:"event"`
	Data  T      `json:"data"`
}

type countData struct {
	Room         string `json:"room"`
	CurrentUsers int    `json:"currentUsers"`
	Seq          uint64 `json:"seq"`
}

type errorData struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// encodeCount returns the "user count" payload.
func encodeCount(room string, users int, seq uint64) []byte {
	return mustMarshal(envelope[countData]{EventUserCount, countData{room, users, seq}})
}

// jsonEncoder is the Encoder of wire.JSON: the JSON above, framed by
// Options.Frame.
type jsonEncoder struct{ frame func([]byte) []byte }

func (e jsonEncoder) Count(room string, users int, seq uint64) []byte {
	return e.frame(encodeCount(room, users, seq))
}

func (e jsonEncoder) Error(code, message string) []byte {
	return e.frame(encodeError(code, message))
}

// encodeError returns an "error" payload.
func encodeError(code, message string) []byte {
	return mustMarshal(envelope[errorData]{"error", errorData{code, message}})
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only strings and integers go in: a failure is a bug, not input.
		panic(fmt.Sprintf("actors: encode %T: %v", v, err))
	}
	return b
}

// Event is a decoded client → server message.
type Event struct {
	Name string
	Data json.RawMessage // nil when absent
}

// errNotEvent is returned for input that is not {"event": "<string>", …}.
var errNotEvent = errors.New(`want a JSON object with a string "event"`)

// DecodeEvent parses one client text message. It accepts exactly one JSON
// object whose "event" is a non-empty string; "data" may be any JSON value or
// absent. It never panics, whatever the input.
func DecodeEvent(p []byte) (Event, error) {
	var in struct {
		Event *string         `json:"event"`
		Data  json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(p, &in); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	if in.Event == nil || *in.Event == "" {
		return Event{}, errNotEvent
	}
	return Event{Name: *in.Event, Data: in.Data}, nil
}
