package wstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The server as a separate process, for the tests that signal or kill it
// (SIGTERM, kill -9, SIGSTOP) and the cluster's nodes: BuildBinary, then
// StartBinary.

// BuildBinary builds the main package in dir (as `go build -o BIN dir`,
// with the go command on PATH) into the test's temporary directory and
// returns the binary's path.
func BuildBinary(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "presence")
	build := exec.Command("go", "build", "-o", bin, dir)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build %s: %v", dir, err)
	}
	return bin
}

// startTimeout bounds how long a binary may take to say it is serving.
const startTimeout = 30 * time.Second

// Process is one run of a binary, for one test. Its methods may be called
// from any goroutine.
type Process struct {
	Addr string // the address it serves on, from its "serving" line

	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited and its stderr is read
	err    error         // cmd.Wait's result, set before exited is closed
	log    *servingWatcher
}

// StartBinary runs bin with args and returns once the process writes, on
// stderr, the JSON log line {"msg":"serving","addr":…} (the server logs it
// with --log-format json once it listens; args must ask for that format). The
// test's cleanup kills the process, if it is still running, and waits for it;
// if the test failed, it logs the last lines the process wrote.
//
// bin may also be a command that execs the server in place, keeping its
// process id (e.g. `ip netns exec NS server …`), so that signals reach it.
func StartBinary(t testing.TB, bin string, args ...string) *Process {
	t.Helper()
	w := &servingWatcher{addr: make(chan string, 1)}
	p := &Process{cmd: exec.Command(bin, args...), exited: make(chan struct{}), log: w}
	p.cmd.Stderr = w // exec copies into w, and Wait waits for the copy to end
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill() // also ends a stopped (SIGSTOP) process
		<-p.exited
		if t.Failed() {
			t.Logf("--- the last lines %s wrote:\n%s", bin, w.tail(tailLines))
		}
	})
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case p.Addr = <-w.addr:
		return p
	case <-p.exited:
		t.Fatalf("%s exited before serving (%v); it wrote:\n%s", bin, p.err, w.before())
	case <-timer.C:
		t.Fatalf("%s did not log its address within %s; it wrote:\n%s", bin, startTimeout, w.before())
	}
	return nil
}

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Done is closed once the process has exited (and its stderr is read).
func (p *Process) Done() <-chan struct{} { return p.exited }

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// LogTail returns the last n lines the process wrote on stderr (of the
// last 64 KiB it wrote after its "serving" line, or of those before it).
func (p *Process) LogTail(n int) string { return p.log.tail(n) }

// Wait waits at most within for the process to exit and returns how it
// exited (an *exec.ExitError for a non-zero status or a signal). A process
// still running at the deadline is killed, and Wait says so.
func (p *Process) Wait(within time.Duration) error {
	select {
	case <-p.exited:
		return p.err // already over: not a race with a zero deadline
	default:
	}
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case <-p.exited:
		return p.err
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("did not exit within %s, so it was killed: %w", within, p.err)
	}
}

// tailLines is how many of a process's last lines a failed test logs.
const tailLines = 60

// keepTail bounds the output kept after the "serving" line (its last bytes).
const keepTail = 64 << 10

// servingWatcher is the process's stderr: it finds the "serving" line and
// keeps what came before it (at most 64 KiB) for a failure message, and the
// last 64 KiB written after it for LogTail. exec calls Write from one
// goroutine; before and tail may be called from another.
type servingWatcher struct {
	addr chan string // receives the address once

	mu      sync.Mutex
	partial []byte       // an unfinished line
	head    bytes.Buffer // the lines before "serving"
	found   bool
	after   []byte // the output after "serving": its last keepTail bytes, at most twice that
}

func (w *servingWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.found {
		w.keep(p)
		return len(p), nil
	}
	w.partial = append(w.partial, p...)
	for {
		line, rest, ok := bytes.Cut(w.partial, []byte("\n"))
		if !ok {
			return len(p), nil
		}
		w.partial = rest
		var entry struct{ Msg, Addr string }
		if json.Unmarshal(line, &entry) == nil && entry.Msg == "serving" {
			w.found = true
			w.addr <- entry.Addr
			w.keep(line)
			w.keep([]byte("\n"))
			w.keep(rest)
			w.partial = nil
			return len(p), nil
		}
		if w.head.Len() < 64<<10 {
			w.head.Write(line)
			w.head.WriteByte('\n')
		}
	}
}

// keep appends p to the output after "serving", dropping the oldest bytes
// past keepTail (in one copy per keepTail bytes written). The lock is held.
func (w *servingWatcher) keep(p []byte) {
	w.after = append(w.after, p...)
	if len(w.after) > 2*keepTail {
		w.after = append(w.after[:0:0], w.after[len(w.after)-keepTail:]...)
	}
}

func (w *servingWatcher) before() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.head.String() + string(w.partial)
}

// tail returns the last n lines written (after "serving" if it came).
func (w *servingWatcher) tail(n int) string {
	w.mu.Lock()
	out := string(w.after)
	if !w.found {
		out = w.head.String() + string(w.partial)
	}
	w.mu.Unlock()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
