package wstest

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// DefaultTimeout bounds a handshake and every write when Options.Timeout is
// zero.
const DefaultTimeout = 10 * time.Second

// Options tune one connection. The zero value is a plain client that answers
// pings and close frames and decodes the server's events.
type Options struct {
	// Local is the source IP to dial from (127.0.0.x, for per-address
	// limits); "" lets the kernel choose.
	Local string

	// Header holds extra handshake headers (Origin, Sec-WebSocket-Extensions …).
	Header http.Header

	// ReceiveBuffer, when above 0, sets the socket's SO_RCVBUF before it
	// connects: a small one makes a peer that does not read fill its TCP
	// window soon.
	ReceiveBuffer int

	// Timeout bounds the handshake and each write; 0 means DefaultTimeout.
	Timeout time.Duration

	// Silent starts the client silent: see Client.GoSilent.
	Silent bool

	// RawText records text messages as they are (State.Texts) instead of
	// decoding them as events: for a server that echoes.
	RawText bool

	// NoCleanup: the caller ends the client itself (Kill, Reset,
	// CloseNormally …) before the test ends, instead of a cleanup of t's. For
	// loops that dial thousands of short-lived clients (the soak), which would
	// otherwise pile up one cleanup each until the test ends.
	NoCleanup bool

	// Name prefixes the client's reports; default the URL.
	Name string
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

// DialRaw opens a WebSocket to url (ws://host:port/path?query) and returns
// the connection after the handshake, with the reader holding any bytes the
// server sent right after it. Nothing reads: it is for tests that must not
// (a peer that never reads) and for Dial. A refusal before the upgrade is a
// ws.StatusError carrying the HTTP status.
func DialRaw(url string, o Options) (net.Conn, *bufio.Reader, error) {
	var nd net.Dialer
	if o.Local != "" {
		ip := net.ParseIP(o.Local)
		if ip == nil {
			return nil, nil, errors.New("wstest: Options.Local is not an IP: " + o.Local)
		}
		nd.LocalAddr = &net.TCPAddr{IP: ip}
	}
	if size := o.ReceiveBuffer; size > 0 {
		nd.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, size)
			})
			return errors.Join(err, serr)
		}
	}
	d := ws.Dialer{
		Timeout: o.timeout(),
		Header:  ws.HandshakeHeaderHTTP(o.Header),
		NetDial: nd.DialContext,
	}
	nc, br, _, err := d.Dial(context.Background(), url)
	if err != nil {
		return nil, nil, err
	}
	if br == nil {
		br = bufio.NewReader(nc)
	}
	return nc, br, nil
}
