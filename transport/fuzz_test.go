package transport

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"presence/internal/conformance"
	"presence/internal/leave"
	"presence/internal/wstest"
)

// The inbound path under fuzzing: arbitrary bytes from a client, read by
// the real ReadLoop over an in-memory connection. `go test` runs the seeds
// (every conformance row and testdata/fuzz/…); test.sh also fuzzes each
// target for a bounded time.

const fuzzLimit = 256 // MaxMessageSize while fuzzing: small, so limits are reached often

func fuzzConfig() *Config {
	cfg := DefaultConfig()
	cfg.MaxMessageSize = fuzzLimit
	cfg.RateLimit, cfg.RateBurst = 1e9, 1e9
	cfg.PingInterval = time.Hour
	cfg.CloseTimeout = 100 * time.Millisecond
	cfg.WriteTimeout = time.Second
	return &cfg
}

// feed reads what a client sends (stream, then it half-closes) over a
// socket pair the way the server does in mode: with the poller and its
// workers (ReadPoll), or with ReadLoop on this goroutine (ReadGoroutine).
// It returns the messages delivered, how the reading ended, and the bytes
// the process allocated meanwhile.
func feed(t *testing.T, stream []byte, mode string) (msgs [][]byte, le *LeaveError, allocated uint64) {
	server, client := socketPair(t)
	e := newEdge(fuzzConfig(), nil, nil)
	if mode == ReadPoll && pollAvailable {
		e = newEdge(fuzzConfig(), newPoller(), nil)
	}
	c := newConn(server, nil, e, "fuzz")
	drained := make(chan struct{})
	go func() { // what the server writes: pongs, close frames
		_, _ = io.Copy(io.Discard, client)
		close(drained)
	}()
	go func() {
		_, _ = client.Write(stream)
		_ = client.(interface{ CloseWrite() error }).CloseWrite() // and keep reading what the server writes
	}()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ended := make(chan error, 1)
	var mu sync.Mutex
	onText := func(m []byte) {
		mu.Lock()
		defer mu.Unlock()
		msgs = append(msgs, m)
	}
	if mode == ReadPoll {
		c.Start(onText, func(err error) { ended <- err })
	} else {
		go func() { ended <- c.ReadLoop(onText) }()
	}
	var err error
	select {
	case err = <-ended:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the reading did not end after the client hung up (input %q)", mode, stream)
	}
	runtime.ReadMemStats(&after)
	_ = client.Close()
	<-drained
	if !errors.As(err, &le) {
		t.Fatalf("%s: the reading ended with %T %v, want a *LeaveError", mode, err, err)
	}
	mu.Lock()
	defer mu.Unlock()
	return msgs, le, after.TotalAlloc - before.TotalAlloc
}

// socketPair is two connected sockets with descriptors, for the poller.
func socketPair(t *testing.T) (a, b net.Conn) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) net.Conn {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close()
		c, err := net.FileConn(f) // a duplicate, in the runtime's poller
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return conn(fds[0]), conn(fds[1])
}

// FuzzReadLoop feeds arbitrary client bytes to the real read loop and holds
// it to an independent, deliberately plain reading of RFC 6455 (reference):
// it never panics or hangs, allocates in proportion to the input and never
// to a declared length, delivers exactly the complete valid messages that
// come before the first violation, and closes with a code that fits.
func FuzzReadLoop(f *testing.F) {
	for _, c := range conformance.All() {
		var b []byte
		for _, s := range c.Steps {
			b = append(b, s.Send...)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		for _, mode := range ReadModes() {
			fuzzReadLoop(t, stream, mode)
		}
	})
}

func fuzzReadLoop(t *testing.T, stream []byte, mode string) {
	{
		msgs, le, allocated := feed(t, stream, mode)
		want := reference(stream, fuzzLimit)

		for _, m := range msgs {
			if !utf8.Valid(m) || len(m) > fuzzLimit {
				t.Fatalf("delivered %q: not UTF-8 or over the limit", m)
			}
		}
		if !slices.EqualFunc(msgs, want.msgs, bytes.Equal) {
			t.Fatalf("delivered %q, want %q (reference ends: %+v)", msgs, want.msgs, want)
		}
		if bound := 1<<20 + 16*uint64(len(stream)); allocated > bound {
			t.Fatalf("allocated %d bytes for a %d-byte input", allocated, len(stream))
		}
		switch {
		case want.closeCode != 0:
			if le.Reason != leave.CloseFrame || le.Code != want.closeCode {
				t.Fatalf("ended %v, want the peer's close %d echoed", le, want.closeCode)
			}
		case want.closeNoCode:
			if le.Reason != leave.CloseFrame || le.Code != 0 {
				t.Fatalf("ended %v, want the peer's close without a code", le)
			}
		case want.violation != 0:
			if !slices.Contains([]ws.StatusCode{1002, 1003, 1007, 1009}, le.Code) {
				t.Fatalf("ended %v, want a close for the violation (reference: %d)", le, want.violation)
			}
		default: // the input just stops: EOF, or a fail-fast 1007 on an unfinished message
			if le.Code != 0 && le.Code != ws.StatusInvalidFramePayloadData {
				t.Fatalf("ended %v, want EOF", le)
			}
		}
	}
}

// FuzzTextRoundTrip sends one text message split into fragments of a fuzzed
// size, with a ping between the first two, then close 1000: a valid message
// within the limits arrives intact, anything else gets 1007 or 1009.
func FuzzTextRoundTrip(f *testing.F) {
	f.Add([]byte("hello"), uint16(0))
	f.Add([]byte(`{"event":"join","data":{"room":"lobby"}}`), uint16(3))
	f.Add([]byte("κόσμε"), uint16(1))
	f.Add([]byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"), uint16(1))
	f.Add(bytes.Repeat([]byte("*"), fuzzLimit), uint16(64))
	f.Add(bytes.Repeat([]byte("*"), fuzzLimit+1), uint16(64))
	f.Fuzz(func(t *testing.T, payload []byte, size uint16) {
		n := max(1, int(size))
		var stream []byte
		frames := 0
		for i := 0; i == 0 || i < len(payload); i += n {
			part := payload[i:min(i+n, len(payload))]
			op := ws.OpContinuation
			if i == 0 {
				op = ws.OpText
			}
			stream = append(stream, wstest.Frame(i+n >= len(payload), 0, op, part)...)
			if i == 0 {
				stream = append(stream, wstest.Frame(true, 0, ws.OpPing, []byte("between"))...)
			}
			frames++
		}
		stream = append(stream, wstest.Frame(true, 0, ws.OpClose, wstest.CloseBody(1000, ""))...)

		for _, mode := range ReadModes() {
			textRoundTrip(t, payload, stream, frames, mode)
		}
	})
}

func textRoundTrip(t *testing.T, payload, stream []byte, frames int, mode string) {
	{
		msgs, le, _ := feed(t, stream, mode)
		// The plain property first, then the exact answer of the reference
		// reading (which of 1007 and 1009 comes first when both apply).
		valid, fits := utf8.Valid(payload), len(payload) <= fuzzLimit
		switch {
		case valid && fits:
			if len(msgs) != 1 || !bytes.Equal(msgs[0], payload) || le.Reason != leave.CloseFrame || le.Code != 1000 {
				t.Fatalf("got %q and %v, want %q and the close echoed", msgs, le, payload)
			}
		case len(msgs) != 0 || le.Code != ws.StatusInvalidFramePayloadData && le.Code != ws.StatusMessageTooBig:
			t.Fatalf("%d bytes (UTF-8: %v) in %d frames: got %q and %v, want 1007 or 1009", len(payload), valid, frames, msgs, le)
		}
		want := reference(stream, fuzzLimit)
		if wantCode := max(want.violation, want.closeCode); le.Code != wantCode {
			t.Fatalf("%s: closed with %d, the reference says %d", mode, le.Code, wantCode)
		}
	}
}
