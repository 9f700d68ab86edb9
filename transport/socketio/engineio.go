package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// Engine.IO v4 packets and the long-polling payload, written from the
// protocol's specification (github.com/socketio/engine.io-protocol, v4).
//
// A packet is its type, one ASCII digit, then its data. On a WebSocket each
// text message is one packet; a long-polling body joins packets with the
// record separator 0x1e. Binary packets (a 'b' and base64 when polling, a
// binary message on a WebSocket) are not supported by this server.

// Engine.IO packet types.
const (
	eioOpen    = '0' // server → client, first: the handshake
	eioClose   = '1' // either side: the session is over
	eioPing    = '2' // server → client every ping interval; client → server "2probe" when upgrading
	eioPong    = '3' // client → server, the answer to a ping; server → client "3probe"
	eioMessage = '4' // either side: a Socket.IO packet follows
	eioUpgrade = '5' // client → server on the new WebSocket: the upgrade is complete
	eioNoop    = '6' // server → a pending poll while upgrading: nothing, return
)

// separator joins packets in a long-polling payload.
const separator = 0x1e

// Packets the server sends as they are.
var (
	pktClose = []byte{eioClose}
	pktPing  = []byte{eioPing}
	pktNoop  = []byte{eioNoop}
	pktProbe = []byte("3probe")
)

// errBinary refuses binary packets, which this server does not support.
var errBinary = errors.New("binary packets are not supported")

// decodePayload splits a long-polling request body into its packets. Every
// packet must have a known type and be valid UTF-8; binary packets ('b…')
// are refused with errBinary. The packets are sub-slices of body.
func decodePayload(body []byte) ([][]byte, error) {
	if len(body) == 0 {
		return nil, errors.New("empty payload")
	}
	if !utf8.Valid(body) {
		return nil, errors.New("payload is not UTF-8")
	}
	var packets [][]byte
	for p := range bytes.SplitSeq(body, []byte{separator}) {
		if err := checkPacket(p); err != nil {
			return nil, fmt.Errorf("packet %d: %w", len(packets)+1, err)
		}
		packets = append(packets, p)
	}
	return packets, nil
}

// checkPacket checks that p is one text packet of a known type.
func checkPacket(p []byte) error {
	switch {
	case len(p) == 0:
		return errors.New("empty packet")
	case p[0] == 'b':
		return errBinary
	case p[0] < eioOpen || p[0] > eioNoop:
		return fmt.Errorf("unknown packet type %q", p[0])
	}
	return nil
}

// encodePayload joins packets into one long-polling response body.
func encodePayload(packets [][]byte) []byte {
	return bytes.Join(packets, []byte{separator})
}

// openPacket is the handshake the server sends first on a new session.
func openPacket(sid string, upgrades []string, cfg *config) []byte {
	b, _ := json.Marshal(struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int64    `json:"pingInterval"`
		PingTimeout  int64    `json:"pingTimeout"`
		MaxPayload   int64    `json:"maxPayload"`
	}{sid, upgrades, cfg.pingInterval.Milliseconds(), cfg.pingTimeout.Milliseconds(), cfg.maxPayload})
	return append([]byte{eioOpen}, b...)
}

// Engine.IO's error codes: the JSON body of a refused request, as the
// reference server writes it ({"code":N,"message":"…"}); clients read both.
const (
	errTransportUnknown = 0 // transport missing or not polling/websocket
	errSessionUnknown   = 1 // sid unknown, or the session has ended
	errBadHandshake     = 2 // a handshake that is not a GET
	errBadRequest       = 3 // anything else the protocol does not allow
	errForbidden        = 4 // refused by policy: origin, per-address limit, shutdown
	errUnsupported      = 5 // EIO missing or not 4
)

var errorMessages = map[int]string{
	errTransportUnknown: "Transport unknown",
	errSessionUnknown:   "Session ID unknown",
	errBadHandshake:     "Bad handshake method",
	errBadRequest:       "Bad request",
	errForbidden:        "Forbidden",
	errUnsupported:      "Unsupported protocol version",
}

// writeError answers a refused request with status and Engine.IO's JSON
// error body. message replaces the code's standard text when it says more.
func writeError(w http.ResponseWriter, status, code int, message string) {
	if message == "" {
		message = errorMessages[code]
	}
	body, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, message})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
