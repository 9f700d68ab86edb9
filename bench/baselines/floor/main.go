// Command floor is the write floor of the fan-out benchmark (bench/run.sh's
// "floor" label): the least a server must do to tell N sockets a new count.
// One goroutine writes one count-sized frame to every socket in turn, with
// a plain write(2) each (no deadline, no actor, no queue), and the load
// generator times how long until all N readers have it: the same
// count-propagation latency it measures for our server, so the two are
// compared in one table.
//
// It speaks just enough of the presence wire format for the load generator:
// a WebSocket on any path (gobwas/ws's zero-copy upgrade on a raw listener),
// and on every join and leave
//
//	{"event":"user count","data":{"room":"lobby","currentUsers":3,"seq":7}}
//
// to every socket. Changes that arrive while a pass is under way are
// coalesced into the next pass (one pass at a time, never one per change),
// so a ramp to N costs a pass per pass-time, not N passes. Each socket has a
// goroutine that waits for the client to leave; it never writes, so the
// writer is alone on the write side, as a floor must be.
//
// Usage: floor [-addr 127.0.0.1:8083]
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8083", "address to serve on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	h := &hub{dirty: make(chan struct{}, 1), index: map[net.Conn]int{}}
	go h.write()
	for {
		nc, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go h.serve(nc)
	}
}

// hub is the set of sockets and the one writer.
type hub struct {
	mu    sync.Mutex
	conns []net.Conn
	index map[net.Conn]int
	seq   uint64
	dirty chan struct{} // a change waits for the next pass
}

// serve upgrades nc, adds it, and removes it when the client leaves.
func (h *hub) serve(nc net.Conn) {
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := ws.Upgrade(nc); err != nil {
		return
	}
	_ = nc.SetDeadline(time.Time{})
	h.change(func() {
		h.index[nc] = len(h.conns)
		h.conns = append(h.conns, nc)
	})
	defer h.change(func() {
		i := h.index[nc]
		last := len(h.conns) - 1
		h.conns[i] = h.conns[last]
		h.index[h.conns[i]] = i
		h.conns = h.conns[:last]
		delete(h.index, nc)
	})
	for { // discard what the client sends until it closes or goes
		hdr, err := ws.ReadHeader(nc)
		if err != nil {
			return
		}
		if _, err := io.CopyN(io.Discard, nc, hdr.Length); err != nil {
			return
		}
		if hdr.OpCode == ws.OpClose {
			_, _ = nc.Write(ws.CompiledCloseNormalClosure) // one Write: never inside a count frame
			return
		}
	}
}

// change edits the set and asks for a pass.
func (h *hub) change(edit func()) {
	h.mu.Lock()
	edit()
	h.mu.Unlock()
	select {
	case h.dirty <- struct{}{}:
	default: // a pass is already due
	}
}

// write runs a pass per requested change: the current count, encoded once,
// written to every socket from this one goroutine.
func (h *hub) write() {
	var conns []net.Conn
	for range h.dirty {
		h.mu.Lock()
		conns = append(conns[:0], h.conns...)
		h.seq++
		frame := ws.MustCompileFrame(ws.NewTextFrame(fmt.Appendf(nil,
			`{"event":"user count","data":{"room":"lobby","currentUsers":%d,"seq":%d}}`, len(conns), h.seq)))
		h.mu.Unlock()
		for _, c := range conns {
			_, _ = c.Write(frame)
		}
	}
}
