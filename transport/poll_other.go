//go:build !linux

package transport

import "errors"

// pollAvailable reports whether this platform has the poll read mode: it
// has not, so every socket is read by a goroutine of its own.
const pollAvailable = false

type poller struct{}

func newPoller() *poller { return nil }

var errNoPoller = errors.New("transport: no poller on this platform")

func (*poller) add(*Conn) error { return errNoPoller }
func (*poller) remove(*Conn)    {}

// Run is never called: no socket is registered with a poller here.
func (c *Conn) Run() {}
