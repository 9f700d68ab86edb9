package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// pool is the coordinator's side of its worker processes. Each worker is
// this same binary started again with LOADGEN_ROLE=worker; it dies with the
// coordinator (Pdeathsig, and a closed stdin).
//
// Concurrency: call is safe from several goroutines (all sends one request
// per worker at once). Replies are read by one goroutine per worker and
// routed by request id.
type pool struct {
	workers []*workerProc
	nextID  atomic.Int64
	// progress sums the latest progress note of every worker.
	progress []atomic.Int64
}

type workerProc struct {
	index int
	cmd   *exec.Cmd
	stdin io.WriteCloser
	wmu   sync.Mutex

	mu      sync.Mutex
	pending map[int]chan reply
	dead    error // set when its stdout ended
}

// grace is how long past a request's own timeout the coordinator waits for
// the answer before it gives up on the worker.
const grace = 15 * time.Second

// startPool starts one worker per configuration.
func startPool(cfgs []workerConfig) (*pool, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	p := &pool{progress: make([]atomic.Int64, len(cfgs))}
	for _, cfg := range cfgs {
		wp, err := p.start(exe, cfg)
		if err != nil {
			p.close()
			return nil, err
		}
		p.workers = append(p.workers, wp)
	}
	return p, nil
}

func (p *pool) start(exe string, cfg workerConfig) (*workerProc, error) {
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), workerEnv+"=worker")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker %d: %w", cfg.Index, err)
	}
	wp := &workerProc{index: cfg.Index, cmd: cmd, stdin: stdin, pending: make(map[int]chan reply)}
	line, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := stdin.Write(append(line, '\n')); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("configure worker %d: %w", cfg.Index, err)
	}
	go p.readReplies(wp, stdout)
	return wp, nil
}

func (p *pool) readReplies(wp *workerProc, stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var r reply
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: worker %d wrote garbage: %q\n", wp.index, truncate(sc.Bytes(), 200))
			continue
		}
		if r.Progress != nil {
			p.progress[wp.index].Store(int64(*r.Progress))
			continue
		}
		wp.mu.Lock()
		ch := wp.pending[r.ID]
		delete(wp.pending, r.ID)
		wp.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
	err := sc.Err()
	if err == nil {
		err = errors.New("its output ended")
	}
	wp.mu.Lock()
	wp.dead = fmt.Errorf("worker %d: %w", wp.index, err)
	for id, ch := range wp.pending {
		ch <- reply{ID: id, Err: wp.dead.Error()}
		delete(wp.pending, id)
	}
	wp.mu.Unlock()
}

// call sends r to worker i and decodes its result into out (if not nil).
func (p *pool) call(ctx context.Context, i int, r request, out any) error {
	wp := p.workers[i]
	r.ID = int(p.nextID.Add(1))
	ch := make(chan reply, 1)
	wp.mu.Lock()
	if wp.dead != nil {
		wp.mu.Unlock()
		return wp.dead
	}
	wp.pending[r.ID] = ch
	wp.mu.Unlock()

	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	wp.wmu.Lock()
	_, err = wp.stdin.Write(append(line, '\n'))
	wp.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("worker %d: send %s: %w", i, r.Op, err)
	}

	timer := time.NewTimer(r.Timeout + grace)
	defer timer.Stop()
	select {
	case rep := <-ch:
		if rep.Err != "" {
			return fmt.Errorf("worker %d: %s: %s", i, r.Op, rep.Err)
		}
		if out != nil {
			return json.Unmarshal(rep.Result, out)
		}
		return nil
	case <-timer.C:
		return fmt.Errorf("worker %d: no answer to %s within %s", i, r.Op, r.Timeout+grace)
	case <-ctx.Done():
		return fmt.Errorf("worker %d: %s: %w", i, r.Op, context.Cause(ctx))
	}
}

// all calls every worker at once, worker i with req(i), and returns the
// results in worker order. The first error wins.
func all[T any](ctx context.Context, p *pool, req func(i int) request) ([]T, error) {
	out := make([]T, len(p.workers))
	errs := make([]error, len(p.workers))
	var wg sync.WaitGroup
	for i := range p.workers {
		wg.Go(func() { errs[i] = p.call(ctx, i, req(i), &out[i]) })
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// progressTotal is the sum of the workers' latest progress notes.
func (p *pool) progressTotal() int64 {
	var n int64
	for i := range p.progress {
		n += p.progress[i].Load()
	}
	return n
}

func (p *pool) resetProgress() {
	for i := range p.progress {
		p.progress[i].Store(0)
	}
}

// close asks every worker to quit (they reset their sockets) and kills the
// ones that do not exit within a few seconds.
func (p *pool) close() {
	var wg sync.WaitGroup
	for _, wp := range p.workers {
		wg.Go(func() {
			wp.wmu.Lock()
			_, _ = wp.stdin.Write([]byte(`{"op":"quit"}` + "\n"))
			_ = wp.stdin.Close()
			wp.wmu.Unlock()
			exited := make(chan struct{})
			go func() { _ = wp.cmd.Wait(); close(exited) }()
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = wp.cmd.Process.Kill()
				<-exited
			}
		})
	}
	wg.Wait()
}
