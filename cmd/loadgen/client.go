package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"
)

// client is one simulated member: a real TCP connection from a chosen
// loopback source address, a real WebSocket handshake, and one goroutine
// that reads every frame, answers pings, and records the newest count with
// the wall-clock time it was read.
//
// Concurrency: the read goroutine owns br, buf, lastSeq and lastFrameAt.
// count, seenAt, frames and state are atomics, read by the worker while the
// reader runs. Writes (pongs, close frames) go through wmu.
type client struct {
	w     *worker
	nc    net.Conn
	br    *bufio.Reader
	proto protocol
	wmu   sync.Mutex

	server int // which of --url it joined

	count    atomic.Int64 // last count read; -1 before the first
	seenAt   atomic.Int64 // unix nanos when count took its current value
	frames   atomic.Int64 // count frames read
	winFrame atomic.Int64 // count frames read inside the worker's window
	joinedAt int64        // unix nanos when the handshake completed
	leftAt   atomic.Int64 // unix nanos when it left (0 while a member)
	state    atomic.Int32
	done     chan struct{} // closed when the read goroutine has ended

	secMax atomic.Int64 // most count frames read within one second of the window

	pubStep atomic.Int64 // Centrifugo: the step of the last publication read (centrifugo_steps.go)
	pubAt   atomic.Int64 // unix nanos when it was read
	cf      *cfClient    // Centrifugo only: its protocol state (centrifugo.go)

	lastSeq     uint64 // reader only
	lastFrameAt int64  // reader only: arrival of the previous count frame in the window
	sec, secN   int64  // reader only: the window's second being counted, and its frames so far
	buf         []byte // reader only
}

// Client states.
const (
	stAlive   int32 = iota // a member
	stLeaving              // we closed it (cleanly or by reset)
	stDropped              // the server or the network ended it: not our doing
)

// bindNoPort sets Linux's IP_BIND_ADDRESS_NO_PORT on a socket: bind the
// source address but pick the port at connect time, per destination.
// Without it every bind(127.0.0.x:0) takes a port out of the whole ephemeral
// range, and one source address runs out after ~28k sockets in total.
func bindNoPort(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// wsURL is the WebSocket address a client of proto dials on server base.
func wsURL(base string, proto protocol, room string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("server URL: %w", err)
	}
	switch u.Scheme {
	case "ws", "http":
		u.Scheme = "ws"
	default:
		return "", fmt.Errorf("server URL %q: only ws:// (or http://) on loopback is supported", base)
	}
	if u.Host == "" {
		return "", fmt.Errorf("server URL %q has no host", base)
	}
	switch proto {
	case protoSocketIO:
		u.Path = "/socket.io/"
		u.RawQuery = "EIO=4&transport=websocket"
	case protoCentrifugo:
		u.Path = "/connection/websocket" // the room is the channel it subscribes to
	default:
		u.Path = "/ws"
		u.RawQuery = url.Values{"room": {room}}.Encode()
	}
	return u.String(), nil
}

// dialClient connects one client from source address src and completes the
// handshake of its protocol: the WebSocket upgrade, and for Socket.IO the
// Engine.IO open packet and the namespace connect. It returns once the
// client is a member; its reader is running.
func (w *worker) dialClient(ctx context.Context, src net.IP) (*client, error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.DialTimeout)
	defer cancel()
	nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Control: bindNoPort}
	d := ws.Dialer{
		ReadBufferSize: 1024,
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return nd.DialContext(ctx, network, addr)
		},
	}
	server := int((uint64(w.cfg.Index) + w.dials.Add(1) - 1) % uint64(len(w.cfg.wsURLs)))
	nc, br, _, err := d.Dial(ctx, w.cfg.wsURLs[server])
	if err != nil {
		return nil, fmt.Errorf("dial from %s: %w", src, err)
	}
	if br == nil {
		size := 512
		if w.cfg.Proto == protoCentrifugo {
			size = 4096 // it pushes every join and leave: read many per system call
		}
		br = bufio.NewReaderSize(nc, size)
	}
	c := &client{w: w, nc: nc, br: br, proto: w.cfg.Proto, server: server, done: make(chan struct{}), buf: make([]byte, 0, 128)}
	c.count.Store(-1)
	var herr error
	switch c.proto {
	case protoSocketIO:
		herr = c.socketIOHandshake(ctx)
	case protoCentrifugo:
		herr = c.centrifugoHandshake(ctx)
	}
	if herr != nil {
		c.abort()
		return nil, herr
	}
	c.joinedAt = time.Now().UnixNano()
	go c.readLoop()
	return c, nil
}

// socketIOHandshake reads the Engine.IO open packet, joins the main
// namespace with "40", and waits for the server's "40{…}". A count event
// that follows in the same read is kept in br for the read loop.
func (c *client) socketIOHandshake(ctx context.Context) error {
	deadline, _ := ctx.Deadline()
	_ = c.nc.SetReadDeadline(deadline)
	defer func() { _ = c.nc.SetReadDeadline(time.Time{}) }()
	p, err := c.readMessage()
	if err != nil {
		return fmt.Errorf("Engine.IO open: %w", err)
	}
	m, err := parseSocketIO(p)
	if err != nil {
		return err
	}
	if m.kind != msgEIOOpen {
		return fmt.Errorf("Engine.IO: first packet is not open: %q", truncate(p, 80))
	}
	if err := c.writeText(sioConnect); err != nil {
		return fmt.Errorf("Socket.IO connect: %w", err)
	}
	for {
		p, err := c.readMessage()
		if err != nil {
			return fmt.Errorf("Socket.IO connect: %w", err)
		}
		m, err := parseSocketIO(p)
		if err != nil {
			return err
		}
		switch m.kind {
		case msgSIOConnect:
			return nil
		case msgEIOPing:
			if err := c.writeText(eioPong); err != nil {
				return err
			}
		case msgSIOConnectError:
			return fmt.Errorf("Socket.IO connect refused: %s", m.text)
		case msgEIOClose, msgSIODisconnect:
			return errors.New("Socket.IO: server closed during the handshake")
		}
	}
}

// readMessage returns the next complete data message (fragments joined),
// answering control frames on the way. The slice is reused by the next call.
// A close frame from the server is answered and ends the read with io.EOF.
func (c *client) readMessage() ([]byte, error) {
	if cap(c.buf) > 64<<10 {
		c.buf = make([]byte, 0, 128) // a rare large message (a presence snapshot): do not keep its buffer
	}
	c.buf = c.buf[:0]
	for {
		h, err := ws.ReadHeader(c.br)
		if err != nil {
			return nil, err
		}
		if h.Masked {
			return nil, errors.New("server sent a masked frame")
		}
		if h.Length > c.frameLimit() {
			return nil, fmt.Errorf("server sent a %d-byte frame", h.Length)
		}
		if h.OpCode.IsControl() {
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(c.br, p); err != nil {
				return nil, err
			}
			switch h.OpCode {
			case ws.OpPing:
				_ = c.writeFrame(ws.NewPongFrame(p))
			case ws.OpClose:
				if c.state.Load() != stLeaving { // else it is the reply to ours
					code := p
					if len(code) > 2 {
						code = code[:2]
					}
					_ = c.writeFrame(ws.NewCloseFrame(code))
				}
				if len(p) >= 2 {
					return nil, fmt.Errorf("%w: server closed with %d", io.EOF, binary.BigEndian.Uint16(p))
				}
				return nil, io.EOF
			}
			continue
		}
		n := len(c.buf)
		c.buf = slices.Grow(c.buf, int(h.Length))[:n+int(h.Length)]
		if _, err := io.ReadFull(c.br, c.buf[n:]); err != nil {
			return nil, err
		}
		if h.Fin {
			return c.buf, nil
		}
	}
}

// frameLimit is the largest server frame a client accepts. Centrifugo's
// presence reply lists every member of the room (~80 bytes each).
func (c *client) frameLimit() int64 {
	if c.proto == protoCentrifugo {
		return 64 << 20
	}
	return 1 << 20
}

// readLoop reads until the connection ends, recording every count.
func (c *client) readLoop() {
	defer close(c.done)
	defer c.nc.Close()
	for {
		p, err := c.readMessage()
		if err != nil {
			c.ended(err)
			return
		}
		now := time.Now().UnixNano()
		if c.proto == protoCentrifugo {
			if err := c.cfRead(p, now); err != nil {
				c.ended(err)
				return
			}
			continue
		}
		var m message
		if c.proto == protoSocketIO {
			m, err = parseSocketIO(p)
		} else {
			m, err = parsePresence(p)
		}
		if err != nil {
			c.w.stats.badFrames.Add(1)
			c.w.noteError("bad frame: " + err.Error())
			continue
		}
		switch m.kind {
		case msgCount:
			c.onCount(m, now)
		case msgEIOPing:
			_ = c.writeText(eioPong)
		case msgError:
			c.w.stats.errorEvents.Add(1)
			c.w.noteError("error event: " + m.text)
		case msgEIOClose, msgSIODisconnect:
			c.ended(errors.New("server disconnected the Socket.IO client"))
			return
		default:
			c.w.stats.otherFrames.Add(1)
		}
	}
}

func (c *client) onCount(m message, now int64) {
	if m.seq != 0 {
		if m.seq <= c.lastSeq {
			c.w.stats.staleSeq.Add(1) // a client ignores it (docs/architecture.md §6)
			return
		}
		c.lastSeq = m.seq
	}
	c.noteCountFrame(now)
	c.setCount(int64(m.count), now)
}

// noteCountFrame counts a count frame read at now, and inside the worker's
// window its gap to the member's previous one and its second.
func (c *client) noteCountFrame(now int64) {
	c.frames.Add(1)
	c.w.stats.countFrames.Add(1)
	if c.w.inWindow(now) {
		c.winFrame.Add(1)
		if c.lastFrameAt != 0 {
			c.w.gaps.add(time.Duration(now - c.lastFrameAt))
		}
		c.lastFrameAt = now
		if sec := (now - c.w.winStart.Load()) / int64(time.Second); sec != c.sec || c.secN == 0 {
			c.sec, c.secN = sec, 1
		} else {
			c.secN++
		}
		if c.secN > c.secMax.Load() {
			c.secMax.Store(c.secN)
		}
	}
}

// setCount records n as the count the member knows, read at now.
func (c *client) setCount(n, now int64) {
	if n != c.count.Load() {
		c.seenAt.Store(now) // before count: whoever sees the new count sees its time
		c.count.Store(n)
	}
}

// ended records why the reader stopped. An end we did not cause is a drop.
func (c *client) ended(err error) {
	if c.state.CompareAndSwap(stAlive, stDropped) {
		c.leftAt.Store(time.Now().UnixNano())
		c.w.stats.dropped.Add(1)
		c.w.noteError("dropped by the server: " + err.Error())
	}
}

func (c *client) writeText(p []byte) error { return c.writeFrame(ws.NewTextFrame(p)) }

// writeFrame masks (a client must) and writes one frame with a deadline.
func (c *client) writeFrame(f ws.Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return ws.WriteFrame(c.nc, ws.MaskFrame(f))
}

// leaveClean leaves as a well-behaved client: Socket.IO's disconnect packet
// first, then a WebSocket close frame; the reader then waits (bounded) for
// the server's close frame or EOF and closes the socket. It returns the
// moment the leave began.
func (c *client) leaveClean() int64 {
	t := time.Now().UnixNano()
	if !c.state.CompareAndSwap(stAlive, stLeaving) {
		return t
	}
	c.leftAt.Store(t)
	if c.proto == protoSocketIO {
		_ = c.writeText(sioDisconnect)
	}
	_ = c.writeFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	return t
}

// leaveReset leaves like a crashed peer: SO_LINGER 0 and close, so the
// kernel sends RST and the server reads a reset. It returns the moment.
func (c *client) leaveReset() int64 {
	t := time.Now().UnixNano()
	if !c.state.CompareAndSwap(stAlive, stLeaving) {
		return t
	}
	c.leftAt.Store(t)
	c.abort()
	return t
}

// abort closes the socket at once with a reset (no TIME_WAIT left behind).
func (c *client) abort() {
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.nc.Close()
}
