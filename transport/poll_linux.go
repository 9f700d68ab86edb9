//go:build linux

package transport

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"

	gerrors "github.com/panjf2000/gnet/v2/pkg/errors"
	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"github.com/panjf2000/gnet/v2/pkg/queue"
)

// pollAvailable reports whether this platform has the poll read mode.
const pollAvailable = true

// poller watches the sockets of one Server for readability with epoll,
// through gnet's netpoll package (github.com/panjf2000/gnet/v2/pkg/netpoll,
// pinned in go.mod): one goroutine waits in epoll_wait for all of them and
// hands each readable socket to the worker pool (Conn.wake); nothing waits
// on a socket of its own.
//
// Why gnet's netpoll and how it is used:
//   - Its Poller is the epoll instance and the wait loop, nothing more: no
//     goroutines of its own besides the one that calls Polling, and it hands
//     the callback the descriptor, which poller maps to its Conn.
//   - Sockets are registered edge-triggered (EPOLLET|EPOLLRDHUP): one
//     event per arrival, and the reader reads until EAGAIN. Level triggering
//     would report a socket again and again while a worker is still on its
//     way to read it.
//   - The descriptor stays the net.Conn's, registered with the Go runtime's
//     poller too; reads and writes go through its syscall.RawConn with
//     functions that never wait, so the runtime never parks on it, and the
//     RawConn's reference keeps the descriptor from being closed (and its
//     number reused) under a read. The Conn is removed from epoll before
//     net.Conn.Close closes the descriptor, so events never name a stranger.
//   - The epoll instance and its goroutine exist only while sockets are
//     registered: an idle server, or a finished test, holds neither.
type poller struct {
	mu    sync.Mutex
	p     *netpoll.Poller // nil while no socket is registered
	conns []*Conn         // by descriptor
	n     int             // sockets registered
}

func newPoller() *poller { return &poller{} }

// add registers c. It fails if c has been shut already or epoll refuses.
func (pl *poller) add(c *Conn) error {
	var err error
	cerr := c.rc.Control(func(fd uintptr) {
		pl.mu.Lock()
		defer pl.mu.Unlock()
		if c.shutDone.Load() {
			err = net.ErrClosed
			return
		}
		if pl.p == nil {
			if err = pl.start(); err != nil {
				return
			}
		}
		for int(fd) >= len(pl.conns) {
			pl.conns = append(pl.conns, make([]*Conn, max(len(pl.conns), 1024))...)
		}
		pl.conns[fd] = c
		if err = pl.p.AddRead(&netpoll.PollAttachment{FD: int(fd)}, true); err != nil {
			pl.conns[fd] = nil
			pl.stopIfEmpty()
			return
		}
		c.fd, c.polled = int(fd), true
		pl.n++
	})
	if cerr != nil {
		return cerr
	}
	return err
}

// remove unregisters c, before its descriptor is closed (Conn.shut).
func (pl *poller) remove(c *Conn) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if !c.polled {
		return
	}
	_ = pl.p.Delete(c.fd)
	pl.conns[c.fd] = nil
	c.polled = false
	pl.n--
	pl.stopIfEmpty()
}

// start opens an epoll instance and waits on it in a goroutine. The caller
// holds mu.
func (pl *poller) start() error {
	p, err := netpoll.OpenPoller()
	if err != nil {
		return err
	}
	pl.p = p
	go func() {
		_ = p.Polling(func(fd int, _ netpoll.IOEvent, _ netpoll.IOFlags) error {
			if c := pl.lookup(p, fd); c != nil {
				c.wake()
			}
			return nil
		})
		_ = p.Close()
	}()
	return nil
}

// stopIfEmpty ends the epoll instance when no socket is left. The caller
// holds mu.
func (pl *poller) stopIfEmpty() {
	if pl.n > 0 || pl.p == nil {
		return
	}
	_ = pl.p.Trigger(queue.HighPriority, func(any) error { return gerrors.ErrEngineShutdown }, nil)
	pl.p = nil
}

// lookup finds the Conn registered under fd with the instance p.
func (pl *poller) lookup(p *netpoll.Poller, fd int) *Conn {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.p != p || fd >= len(pl.conns) {
		return nil
	}
	return pl.conns[fd]
}

// runBudget is how many bytes a worker reads from one socket before it lets
// the others have a turn.
const runBudget = 64 << 10

// Run is a worker's turn at c (workpool.Task): it reads what the socket
// holds without waiting, parses it and acts on it, until read(2) says
// EAGAIN. It never waits for the peer: a peer that stops mid-frame leaves
// its parse state behind and the worker goes on to another socket.
func (c *Conn) Run() {
	c.svc.Store(svcRunning)
	buf := readBufs.Get().(*[]byte)
	defer readBufs.Put(buf)
	if c.early != nil {
		le := c.feed(c.early)
		c.early = nil
		if le != nil && !c.draining {
			c.endService(le)
			return
		}
	}
	for budget := runBudget; ; {
		n, err := c.tryRead(*buf)
		if n > 0 {
			budget -= n
			if le := c.feed((*buf)[:n]); le != nil && !c.draining {
				c.endService(le)
				return
			}
		}
		switch {
		case n == 0 && err == nil: // EOF
			c.endService(c.readOver(io.EOF))
			return
		case errors.Is(err, syscall.EAGAIN):
			if c.svc.CompareAndSwap(svcRunning, svcIdle) {
				return
			}
			c.svc.Store(svcRunning) // woken meanwhile: read again
		case err != nil:
			c.endService(c.readOver(err))
			return
		case budget <= 0:
			c.svc.Store(svcQueued)
			c.e.pool.Submit(c) // edge-triggered: nobody else would come back for the rest
			return
		}
	}
}

// readOver is the verdict when the peer's bytes end: the one recorded if
// reading had already ended (a drain), else the read error's.
func (c *Conn) readOver(err error) *LeaveError {
	if c.verdict != nil {
		return c.verdict
	}
	return c.endOnReadError(err)
}

// endService ends the read side: the socket is closed and onEnd told, once.
func (c *Conn) endService(le *LeaveError) {
	c.svc.Store(svcDone)
	c.shutWhenFlushed()
	c.releaseParse()
	c.onEnd(le)
}

var readBufs = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}
