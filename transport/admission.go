package transport

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/gobwas/ws"
)

// The Server's bookkeeping of sockets, from admission to close, and the
// drain at shutdown. Everything here is guarded by Server.mu.

// admit reserves an upgrade slot for addr, or says which status refuses it.
func (s *Server) admit(addr string) (status int, reason Rejection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return http.StatusServiceUnavailable, RejectDraining
	}
	if limit := s.cfg.MaxConnsPerIP; limit > 0 && s.perAddr[addr] >= limit {
		return http.StatusTooManyRequests, RejectPerIP
	}
	s.perAddr[addr]++
	s.upgrades++
	return 0, ""
}

// upgradeDone ends an admitted upgrade, whether it became a Conn or not.
func (s *Server) upgradeDone() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.upgrades--
	s.upgraded.Broadcast()
	s.checkAllShutLocked()
}

// release gives back the slot of an admitted upgrade that failed.
func (s *Server) release(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked(addr)
}

func (s *Server) releaseLocked(addr string) {
	if s.perAddr[addr]--; s.perAddr[addr] <= 0 {
		delete(s.perAddr, addr)
	}
}

// track adds an upgraded socket to the open set; untrack removes it.
func (s *Server) track(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.srv = s // before the Conn is started, so its reader sees it without the lock
	c.next = s.open
	if s.open != nil {
		s.open.prev = c
	}
	s.open = c
	s.nOpen++
	s.obs.ConnOpened()
}

// untrack runs once per Conn, after its connection is closed, and gives its
// address slot back.
func (s *Server) untrack(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		s.open = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next = nil, nil
	s.nOpen--
	s.releaseLocked(c.remote)
	s.obs.ConnClosed()
	s.checkAllShutLocked()
}

// checkAllShutLocked closes allShut once draining is done with: no upgrade
// under way that could still add a socket, and no socket open. The caller
// holds mu.
func (s *Server) checkAllShutLocked() {
	if s.draining && s.upgrades == 0 && s.nOpen == 0 && s.sessions == 0 && !s.shutDone {
		s.shutDone = true
		close(s.allShut)
	}
}

// Connections is the number of open sockets and admitted sessions.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nOpen + s.sessions
}

func (s *Server) isDraining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

// Drain starts shutdown: /readyz answers 503, new upgrades get 503, and
// Drain returns once the upgrades already admitted have reached OnConnect.
func (s *Server) Drain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draining = true
	for s.upgrades > 0 {
		s.upgraded.Wait()
	}
	s.checkAllShutLocked()
}

// WaitClosed waits, after Drain and after the actors have closed their
// sockets, until every socket is closed. A socket whose reading never
// started (its join was still in flight when the actors stopped) is closed
// with 1001 at once. When ctx ends first, the rest are sent 1001 and closed
// without waiting for their reply, and ctx's error is returned.
func (s *Server) WaitClosed(ctx context.Context) error {
	for _, c := range s.snapshot() {
		if !c.reading.Load() {
			c.Close(uint16(ws.StatusGoingAway), "server shutting down")
		}
	}
	select {
	case <-s.allShut:
		return nil
	case <-ctx.Done():
	}
	var wg sync.WaitGroup
	for _, c := range s.snapshot() {
		wg.Go(func() {
			c.Close(uint16(ws.StatusGoingAway), "server shutting down")
			c.shut()
			c.wakeReader()
		})
	}
	wg.Wait()
	return fmt.Errorf("sockets still open at the shutdown deadline were closed: %w", ctx.Err())
}

func (s *Server) snapshot() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Conn, 0, s.nOpen)
	for c := s.open; c != nil; c = c.next {
		out = append(out, c)
	}
	return out
}
