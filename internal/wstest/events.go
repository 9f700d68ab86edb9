package wstest

import (
	"encoding/json"
	"fmt"
)

// The server's events (README, "The wire contract"), decoded with structs of
// the kit's own and never with actors/wire.go: see the package comment.

// Event names the server sends.
const (
	EventCount = "user count"
	EventError = "error"
)

// Count is the data of a "user count" event.
type Count struct {
	Room         string `json:"room"`
	CurrentUsers int    `json:"currentUsers"`
	Seq          uint64 `json:"seq"`
}

// Error is the data of an "error" event.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Event is one decoded server message: Name is EventCount (Count is set) or
// EventError (Error is set).
type Event struct {
	Name  string
	Count Count
	Error Error
}

// DecodeEvent decodes one text message from the server. Anything the wire
// contract does not allow is an error: text that is not a JSON object, an
// event it does not name, or data of the wrong shape.
func DecodeEvent(p []byte) (Event, error) {
	var env struct {
		Event string          `json:"event"`
		Data  json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(p, &env); err != nil {
		return Event{}, fmt.Errorf("text that is not a JSON event: %q: %v", p, err)
	}
	ev := Event{Name: env.Event}
	var err error
	switch env.Event {
	case EventCount:
		err = json.Unmarshal(env.Data, &ev.Count)
	case EventError:
		err = json.Unmarshal(env.Data, &ev.Error)
	default:
		return Event{}, fmt.Errorf("an unexpected event %q", env.Event)
	}
	if err != nil {
		return Event{}, fmt.Errorf("%q event with bad data %s: %v", env.Event, env.Data, err)
	}
	return ev, nil
}
