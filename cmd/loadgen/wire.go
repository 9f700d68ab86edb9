package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// The two wire formats the load generator speaks, as pure functions over one
// text message each, so that they are unit-tested without a network.
//
// presence (ours, and the gohub baseline):
//
//	{"event":"user count","data":{"room":"lobby","currentUsers":3,"seq":42}}
//
// Socket.IO v4 over Engine.IO v4, WebSocket transport only: every WebSocket
// text message is one Engine.IO packet, whose first byte is its type:
//
//	0{"sid":…,"pingInterval":25000,…}   open (server → client, first)
//	2 / 3                              ping (server → client) / pong (client → server)
//	1                                  close
//	4…                                 message: a Socket.IO packet follows
//
// and a Socket.IO packet on the main namespace is "0" connect, "1"
// disconnect, "2" event (a JSON array), "4" connect error:
//
//	40 (client → server), 40{"sid":"…"} (server → client), 42["user count",3]

// protocol names the wire format a client speaks.
type protocol string

const (
	protoPresence protocol = "presence"
	protoSocketIO protocol = "socketio"
	// protoCentrifugo is Centrifugo's JSON client protocol (centrifugo_wire.go).
	protoCentrifugo protocol = "centrifugo"
)

func parseProtocol(s string) (protocol, error) {
	switch protocol(s) {
	case protoPresence, protoSocketIO, protoCentrifugo:
		return protocol(s), nil
	}
	return "", fmt.Errorf("unknown protocol %q (want presence, socketio or centrifugo)", s)
}

// msgKind is what one server message means to a simulated client.
type msgKind int

const (
	msgOther           msgKind = iota // anything else: ignored, but counted
	msgCount                          // a user count
	msgError                          // presence "error" event
	msgEIOOpen                        // Engine.IO open packet
	msgEIOPing                        // Engine.IO ping: answer with pong
	msgEIOClose                       // Engine.IO close
	msgSIOConnect                     // Socket.IO connect ack (40{…})
	msgSIODisconnect                  // Socket.IO disconnect (41)
	msgSIOConnectError                // Socket.IO connect error (44{…})
)

// message is one decoded server message.
type message struct {
	kind  msgKind
	count int    // msgCount
	seq   uint64 // msgCount, presence only (0 when the server sends none)
	text  string // msgError: code and message; msgOther: the event name if any
	open  eioOpen
}

// eioOpen is the Engine.IO open packet's payload.
type eioOpen struct {
	SID          string `json:"sid"`
	PingInterval int    `json:"pingInterval"` // ms
	PingTimeout  int    `json:"pingTimeout"`  // ms
	MaxPayload   int    `json:"maxPayload"`
}

var (
	presenceCountPrefix = []byte(`{"event":"user count","data":{`)
	keyCurrentUsers     = []byte(`"currentUsers":`)
	keySeq              = []byte(`"seq":`)
	sioCountPrefix      = []byte(`42["user count",`)
)

// parsePresence decodes one text message of the presence protocol. The
// server's own encoding is read by a fast path (a client reads N frames per
// flush, and the baselines send N per join); anything else goes through
// encoding/json, so a differently ordered but valid frame still counts.
func parsePresence(p []byte) (message, error) {
	if bytes.HasPrefix(p, presenceCountPrefix) {
		if m, ok := fastPresenceCount(p[len(presenceCountPrefix):]); ok {
			return m, nil
		}
	}
	var ev struct {
		Event string          `json:"event"`
		Data  json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(p, &ev); err != nil {
		return message{}, fmt.Errorf("presence frame is not a JSON event: %w", err)
	}
	switch ev.Event {
	case "user count":
		var d struct {
			CurrentUsers *int   `json:"currentUsers"`
			Seq          uint64 `json:"seq"`
		}
		if err := json.Unmarshal(ev.Data, &d); err != nil || d.CurrentUsers == nil {
			return message{}, fmt.Errorf("user count without a numeric currentUsers: %s", truncate(ev.Data, 80))
		}
		return message{kind: msgCount, count: *d.CurrentUsers, seq: d.Seq}, nil
	case "error":
		var d struct{ Code, Message string }
		_ = json.Unmarshal(ev.Data, &d)
		return message{kind: msgError, text: d.Code + ": " + d.Message}, nil
	}
	return message{kind: msgOther, text: ev.Event}, nil
}

// fastPresenceCount reads currentUsers and seq from the rest of a count frame
// (after `"data":{`). It gives up (ok false) on anything unexpected.
func fastPresenceCount(p []byte) (message, bool) {
	i := bytes.Index(p, keyCurrentUsers)
	if i < 0 {
		return message{}, false
	}
	n, rest, ok := leadingUint(p[i+len(keyCurrentUsers):])
	if !ok || len(rest) == 0 || (rest[0] != ',' && rest[0] != '}') {
		return message{}, false
	}
	m := message{kind: msgCount, count: int(n)}
	if j := bytes.Index(p, keySeq); j >= 0 {
		s, rest, ok := leadingUint(p[j+len(keySeq):])
		if !ok || len(rest) == 0 || (rest[0] != ',' && rest[0] != '}') {
			return message{}, false
		}
		m.seq = s
	}
	return m, true
}

// leadingUint parses the decimal digits at the start of p.
func leadingUint(p []byte) (uint64, []byte, bool) {
	i := 0
	for i < len(p) && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	if i == 0 || i > 19 {
		return 0, p, false
	}
	n, err := strconv.ParseUint(string(p[:i]), 10, 64)
	return n, p[i:], err == nil
}

var errEmptyPacket = errors.New("empty Engine.IO packet")

// parseSocketIO decodes one text message of Socket.IO v4 over Engine.IO v4.
func parseSocketIO(p []byte) (message, error) {
	if len(p) == 0 {
		return message{}, errEmptyPacket
	}
	switch p[0] {
	case '0':
		var o eioOpen
		if err := json.Unmarshal(p[1:], &o); err != nil {
			return message{}, fmt.Errorf("Engine.IO open packet: %w", err)
		}
		if o.SID == "" || o.PingInterval <= 0 {
			return message{}, fmt.Errorf("Engine.IO open packet without sid or pingInterval: %s", truncate(p, 120))
		}
		return message{kind: msgEIOOpen, open: o}, nil
	case '1':
		return message{kind: msgEIOClose}, nil
	case '2':
		return message{kind: msgEIOPing}, nil
	case '3', '5', '6':
		return message{kind: msgOther}, nil
	case '4':
		return parseSIOPacket(p[1:])
	}
	return message{}, fmt.Errorf("unknown Engine.IO packet type %q", p[0])
}

// parseSIOPacket decodes a Socket.IO packet (the payload of an Engine.IO
// message packet) on the main namespace.
func parseSIOPacket(p []byte) (message, error) {
	if len(p) == 0 {
		return message{}, errors.New("empty Socket.IO packet")
	}
	switch p[0] {
	case '0':
		return message{kind: msgSIOConnect}, nil
	case '1':
		return message{kind: msgSIODisconnect}, nil
	case '4':
		return message{kind: msgSIOConnectError, text: string(truncate(p[1:], 120))}, nil
	case '2':
		if bytes.HasPrefix(p, sioCountPrefix[1:]) {
			n, rest, ok := leadingUint(p[len(sioCountPrefix)-1:])
			if ok && len(rest) == 1 && rest[0] == ']' {
				return message{kind: msgCount, count: int(n)}, nil
			}
		}
		var args []json.RawMessage
		if err := json.Unmarshal(p[1:], &args); err != nil || len(args) == 0 {
			return message{}, fmt.Errorf("Socket.IO event is not a JSON array: %s", truncate(p, 80))
		}
		var name string
		if err := json.Unmarshal(args[0], &name); err != nil {
			return message{}, fmt.Errorf("Socket.IO event without a name: %s", truncate(p, 80))
		}
		if name != "user count" {
			return message{kind: msgOther, text: name}, nil
		}
		var n int
		if len(args) < 2 || json.Unmarshal(args[1], &n) != nil {
			return message{}, fmt.Errorf("user count event without a number: %s", truncate(p, 80))
		}
		return message{kind: msgCount, count: n}, nil
	}
	return message{kind: msgOther}, nil
}

// The client → server Socket.IO messages.
var (
	sioConnect    = []byte("40") // join the main namespace
	sioDisconnect = []byte("41") // leave it, before closing
	eioPong       = []byte("3")  // answer to the server's ping
)

func truncate(p []byte, n int) []byte {
	if len(p) <= n {
		return p
	}
	return p[:n]
}
