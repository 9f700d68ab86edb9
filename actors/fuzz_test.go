package actors

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"presence/internal/wstest"
)

// FuzzDecodeEvent feeds arbitrary client text to the event decoder and to
// the answer a Member builds from it (Member.answer): decoding never panics, it
// accepts only a JSON object with a non-empty string "event", and the error
// event sent back is always one valid JSON object in valid UTF-8, whatever
// the input (its message may quote the input, cut at a byte limit).
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range []string{
		`{"event":"join","data":{"room":"lobby"}}`,
		`{"event":"hello"}`,
		`{"event":""}`,
		`{"event":null}`,
		`{"event":1}`,
		`{"data":1}`,
		`{"event":"a","event":"b"}`,
		`{"EVENT":"upper"}`,
		`[]`, `{}`, `null`, `"event"`, `{"event":`, ``,
		`{"event":"` + strings.Repeat("é", 100) + `"}`,
		"{\"event\":\"\xff\xfe\"}",
		`{"event":"x","data":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		ev, err := DecodeEvent(p)
		var payload []byte
		if err != nil {
			if ev.Name != "" || ev.Data != nil {
				t.Fatalf("an error with a non-empty event %+v", ev)
			}
			payload = encodeError(ErrCodeBadJSON, truncate(err.Error(), 120))
		} else {
			if ev.Name == "" {
				t.Fatal("accepted an event without a name")
			}
			if !json.Valid(p) || bytes.TrimSpace(p)[0] != '{' {
				t.Fatalf("accepted %q, which is not a JSON object", p)
			}
			if ev.Data != nil && !json.Valid(ev.Data) {
				t.Fatalf("data %q is not JSON", ev.Data)
			}
			payload = encodeError(ErrCodeUnknownEvent, "unknown event "+truncate(ev.Name, 64))
		}
		if !utf8.Valid(payload) || !json.Valid(payload) {
			t.Fatalf("the answer %q is not valid JSON in UTF-8", payload)
		}
		if back, err := wstest.DecodeEvent(payload); err != nil || back.Name != wstest.EventError || back.Error.Code == "" {
			t.Fatalf("the answer %q does not decode as an error event: %v", payload, err)
		}
	})
}
