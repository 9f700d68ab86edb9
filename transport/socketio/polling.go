package socketio

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"presence/internal/leave"
	"presence/internal/wire"
)

// Engine.IO's long-polling transport: a GET waits for packets, a POST
// carries the client's. One of each at a time per session: a second
// concurrent GET or POST is answered 400 and ends the session, as the
// protocol says. After the upgrade to a WebSocket both are refused (400)
// and the session carries on over its WebSocket.

// poll answers a GET: the packets queued for the session, joined with
// \x1e, as soon as there are any. A client that goes away before the
// answer ends the session (a page being closed cancels its poll), as the
// reference server does.
func (s *Session) poll(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if refused := s.refuseRequestLocked(w, s.getting, "GET"); refused {
		s.mu.Unlock()
		return
	}
	s.getting = true
	for {
		if body, ok := s.pollBodyLocked(); ok {
			s.getting = false
			closing := s.closeWith != nil && s.state != stEnded
			s.mu.Unlock()
			err := s.srv.writeText(w, r, body)
			s.mu.Lock()
			switch {
			case err != nil:
				s.endLocked(writeFailed(err))
			case closing && s.queue == nil:
				s.endLocked(s.closeWith) // the close packets are out
			}
			s.mu.Unlock()
			return
		}
		wake := make(chan struct{})
		s.wake = wake
		s.mu.Unlock()
		select {
		case <-wake:
			s.mu.Lock()
		case <-r.Context().Done():
			s.mu.Lock()
			if s.wake == wake {
				s.wake = nil
			}
			s.getting = false
			s.endLocked(transportEnded(leave.EOF, errors.New("poll request cancelled by the client")))
			s.mu.Unlock()
			return
		}
	}
}

// pollBodyLocked is what the pending GET answers now, if anything: after
// the session's end its last word; while an upgrade's probe has been
// answered (or once upgraded) a noop, so that the client can pause
// polling; else the queued packets, the newest count last.
func (s *Session) pollBodyLocked() ([]byte, bool) {
	switch {
	case s.state == stEnded:
		if s.end.reply == nil {
			return pktClose, true
		}
		return s.end.reply, true
	case s.state == stWebSocket || s.probed:
		return pktNoop, true
	}
	pkts := s.queue
	s.queue = nil
	if s.latest != nil {
		pkts = append(pkts, s.latest.Encoded(wire.SocketIOPacket))
		s.latest = nil
	}
	if len(pkts) == 0 {
		return nil, false
	}
	return encodePayload(pkts), true
}

// post reads a POST's packets and handles them in order. Its body is read
// within the handshake timeout and may be at most maxPayload bytes (413 and
// the session ends, like /ws's 1009); every packet counts against the rate
// limit; a malformed one is answered 400 and ends the session.
func (s *Session) post(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if refused := s.refuseRequestLocked(w, s.posting, "POST"); refused {
		s.mu.Unlock()
		return
	}
	s.posting = true
	s.mu.Unlock()

	body, readErr := s.srv.readBody(w, r)

	s.mu.Lock()
	s.posting = false
	status, e := s.takePostLocked(body, readErr)
	if e != nil {
		s.endLocked(e)
	}
	s.mu.Unlock()
	switch {
	case status == http.StatusOK:
		_ = s.srv.writeText(w, r, []byte("ok"))
	case e != nil:
		writeError(w, status, errBadRequest, e.text)
	default:
		writeError(w, status, errSessionUnknown, "")
	}
}

// takePostLocked handles a POST's body, and says how to answer it and
// whether the session ends.
func (s *Session) takePostLocked(body []byte, readErr error) (int, *ending) {
	if s.state == stEnded {
		return http.StatusBadRequest, nil
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(readErr, &tooBig):
		return http.StatusRequestEntityTooLarge, policyError("payload over maxPayload (" + strconv.FormatInt(tooBig.Limit, 10) + " bytes)")
	case readErr != nil:
		return http.StatusBadRequest, transportEnded(leave.EOF, readErr)
	}
	pkts, err := decodePayload(body)
	if errors.Is(err, errBinary) {
		return http.StatusBadRequest, binaryRefused()
	}
	if err != nil {
		return http.StatusBadRequest, protocolError(err.Error())
	}
	for _, p := range pkts {
		if !s.limit.Allow() {
			return http.StatusBadRequest, policyError("rate limit exceeded")
		}
		if e := s.packetLocked(p); e != nil {
			if e.reason == leave.CloseFrame {
				return http.StatusOK, e // the client closed: its request was fine
			}
			return http.StatusBadRequest, e
		}
		if s.state == stEnded {
			return http.StatusOK, nil
		}
	}
	return http.StatusOK, nil
}

// refuseRequestLocked answers a GET or POST the session cannot take: after
// the upgrade (400, the session carries on), or while another of its kind
// is pending (400, and the session ends).
func (s *Session) refuseRequestLocked(w http.ResponseWriter, busy bool, method string) bool {
	switch {
	case s.state == stEnded:
		writeError(w, http.StatusBadRequest, errSessionUnknown, "")
	case s.state == stWebSocket:
		writeError(w, http.StatusBadRequest, errBadRequest, "the session has upgraded to a WebSocket")
	case busy:
		e := protocolError("a second " + method + " while one is pending")
		s.endLocked(e)
		writeError(w, http.StatusBadRequest, errBadRequest, e.text)
	default:
		return false
	}
	return true
}

// writeFailed ends a session whose poll response could not be written.
func writeFailed(err error) *ending {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return transportEnded(leave.WriteTimeout, err)
	}
	return transportEnded(leave.EOF, err)
}

// writeText writes a 200 text/plain response within the write timeout.
// The deadline is cleared again after the write: net/http keeps a
// connection's deadline for the requests that follow on it.
func (srv *Server) writeText(w http.ResponseWriter, r *http.Request, body []byte) error {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(srv.cfg.writeTimeout))
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
	srv.cors(w, r)
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(body); err != nil {
		return err
	}
	return rc.Flush()
}

// readBody reads a POST body of at most maxPayload bytes within the
// handshake timeout (a body trickled in slowly is cut off).
func (srv *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(srv.cfg.connectTimeout))
	defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
	return io.ReadAll(http.MaxBytesReader(w, r.Body, srv.cfg.maxPayload))
}
