//go:build unix

package transport

import (
	"net"
	"syscall"
)

// rawConn returns nc's descriptor for reads and writes that never wait, or
// nil when it has none (net.Pipe in tests).
func rawConn(nc net.Conn) syscall.RawConn {
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			return rc
		}
	}
	return nil
}

// tryWrite is one write(2) that never waits for the socket to be writable.
func (c *Conn) tryWrite(b []byte) (n int, err error) {
	werr := c.rc.Write(func(fd uintptr) bool {
		n, err = syscall.Write(int(fd), b)
		return true // done, whatever happened: never wait in the runtime's poller
	})
	if werr != nil {
		return 0, werr
	}
	return n, err
}

// tryRead is one read(2) that never waits for data.
func (c *Conn) tryRead(b []byte) (n int, err error) {
	rerr := c.rc.Read(func(fd uintptr) bool {
		n, err = syscall.Read(int(fd), b)
		return true // done, whatever happened: never wait in the runtime's poller
	})
	if rerr != nil {
		return 0, rerr
	}
	if n < 0 {
		n = 0
	}
	return n, err
}
