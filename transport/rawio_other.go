//go:build !unix

package transport

import (
	"errors"
	"net"
	"syscall"
)

// rawConn returns nil: without unix descriptors every write is a blocking
// one under the write deadline, and sockets are read by goroutines.
func rawConn(net.Conn) syscall.RawConn { return nil }

var errNoRaw = errors.New("transport: no raw descriptor I/O on this platform")

func (c *Conn) tryWrite([]byte) (int, error) { return 0, errNoRaw }

func (c *Conn) tryRead([]byte) (int, error) { return 0, errNoRaw }
