package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Socket.IO v5 packets, written from the protocol's specification
// (github.com/socketio/socket.io-protocol, v5). Each is the data of one
// Engine.IO message packet:
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// The namespace is written only when it is not "/".

// Socket.IO packet types.
const (
	sioConnect      = '0'
	sioDisconnect   = '1'
	sioEvent        = '2'
	sioAck          = '3'
	sioConnectError = '4'
	sioBinaryEvent  = '5'
	sioBinaryAck    = '6'
)

// mainNamespace is the only namespace this server serves.
const mainNamespace = "/"

// maxAckID bounds an ack id: the reference parser refuses ids that do not
// fit a JavaScript number exactly.
const maxAckID = 1<<53 - 1

// sioPacket is one decoded Socket.IO packet.
type sioPacket struct {
	typ         byte
	attachments int // binary packets only
	nsp         string
	id          int64 // ack id, -1 when absent
	data        json.RawMessage
}

// decodeSIO parses the data of an Engine.IO message packet as a Socket.IO
// packet and checks its payload against its type, as the protocol requires:
// CONNECT an object or nothing, DISCONNECT nothing, EVENT a non-empty array
// whose first element (the event's name) is a string, ACK an array,
// CONNECT_ERROR an object or a string. It never panics, whatever p holds.
func decodeSIO(p []byte) (sioPacket, error) {
	pkt := sioPacket{nsp: mainNamespace, id: -1}
	if len(p) == 0 {
		return pkt, errors.New("empty Socket.IO packet")
	}
	pkt.typ, p = p[0], p[1:]
	if pkt.typ < sioConnect || pkt.typ > sioBinaryAck {
		return pkt, fmt.Errorf("unknown Socket.IO packet type %q", pkt.typ)
	}
	if pkt.typ == sioBinaryEvent || pkt.typ == sioBinaryAck {
		i := bytes.IndexByte(p, '-')
		if i < 1 {
			return pkt, errors.New("binary packet without its attachment count")
		}
		n, err := strconv.Atoi(string(p[:i]))
		if err != nil || n < 0 || !allDigits(p[:i]) {
			return pkt, fmt.Errorf("bad attachment count %q", p[:i])
		}
		pkt.attachments, p = n, p[i+1:]
	}
	if len(p) > 0 && p[0] == '/' {
		i := bytes.IndexByte(p, ',')
		if i < 0 {
			i = len(p)
		}
		pkt.nsp, p = string(p[:i]), p[min(i+1, len(p)):]
	}
	if n := leadingDigits(p); n > 0 {
		id, err := strconv.ParseInt(string(p[:n]), 10, 64)
		if err != nil || id > maxAckID {
			return pkt, fmt.Errorf("bad ack id %q", p[:n])
		}
		pkt.id, p = id, p[n:]
	}
	if len(p) > 0 {
		if !json.Valid(p) {
			return pkt, errors.New("payload is not JSON")
		}
		pkt.data = p
	}
	if err := checkPayload(pkt); err != nil {
		return pkt, err
	}
	return pkt, nil
}

func checkPayload(pkt sioPacket) error {
	kind := jsonKind(pkt.data)
	switch pkt.typ {
	case sioConnect:
		if kind != 0 && kind != '{' {
			return errors.New("CONNECT payload must be an object")
		}
	case sioDisconnect:
		if kind != 0 {
			return errors.New("DISCONNECT has no payload")
		}
	case sioConnectError:
		if kind != '{' && kind != '"' {
			return errors.New("CONNECT_ERROR payload must be an object or a string")
		}
	case sioEvent, sioBinaryEvent:
		var args []json.RawMessage
		if kind != '[' || json.Unmarshal(pkt.data, &args) != nil || len(args) == 0 || jsonKind(args[0]) != '"' {
			return errors.New("EVENT payload must be an array that starts with the event name")
		}
	case sioAck, sioBinaryAck:
		if kind != '[' {
			return errors.New("ACK payload must be an array")
		}
	}
	return nil
}

// jsonKind is the first byte of a valid JSON value, skipping white space, or
// 0 for none.
func jsonKind(v []byte) byte {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return 0
	}
	return v[0]
}

func leadingDigits(p []byte) int {
	n := 0
	for n < len(p) && p[n] >= '0' && p[n] <= '9' {
		n++
	}
	return n
}

func allDigits(p []byte) bool { return leadingDigits(p) == len(p) }

// encodeSIO writes pkt as the data of an Engine.IO message packet, prefix
// "4" included: the inverse of decodeSIO.
func encodeSIO(pkt sioPacket) []byte {
	b := []byte{eioMessage, pkt.typ}
	if pkt.typ == sioBinaryEvent || pkt.typ == sioBinaryAck {
		b = strconv.AppendInt(b, int64(pkt.attachments), 10)
		b = append(b, '-')
	}
	if pkt.nsp != mainNamespace {
		b = append(b, pkt.nsp...)
		b = append(b, ',')
	}
	if pkt.id >= 0 {
		b = strconv.AppendInt(b, pkt.id, 10)
	}
	return append(b, pkt.data...)
}

// eventArgs splits an EVENT's payload into its name and its first argument
// (nil when there is none). decodeSIO has checked the shape.
func eventArgs(pkt sioPacket) (name string, first json.RawMessage) {
	var args []json.RawMessage
	_ = json.Unmarshal(pkt.data, &args)
	_ = json.Unmarshal(args[0], &name)
	if len(args) > 1 {
		first = args[1]
	}
	return name, first
}

// connectAck accepts a CONNECT to the main namespace: 40{"sid":…}.
func connectAck(sid string) []byte {
	data, _ := json.Marshal(struct {
		SID string `json:"sid"`
	}{sid})
	return encodeSIO(sioPacket{typ: sioConnect, nsp: mainNamespace, id: -1, data: data})
}

// connectError refuses a CONNECT to nsp: 44{"message":…}.
func connectError(nsp, message string) []byte {
	data, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{message})
	return encodeSIO(sioPacket{typ: sioConnectError, nsp: nsp, id: -1, data: data})
}

// pktDisconnect leaves the main namespace: 41.
var pktDisconnect = encodeSIO(sioPacket{typ: sioDisconnect, nsp: mainNamespace, id: -1})

// countPacket is the lesson's event with our extras:
// 42["user count",N,{"room":…,"seq":…}]. A handler that reads its first
// argument gets the number, as the lesson's page expects.
func countPacket(room string, users int, seq uint64) []byte {
	extra, _ := json.Marshal(struct {
		Room string `json:"room"`
		Seq  uint64 `json:"seq"`
	}{room, seq})
	b := append([]byte(nil), `42["user count",`...)
	b = strconv.AppendInt(b, int64(users), 10)
	b = append(b, ',')
	b = append(b, extra...)
	return append(b, ']')
}

// errorPacket answers an unusable client event, like /ws's error event:
// 42["error",{"code":…,"message":…}].
func errorPacket(code, message string) []byte {
	data, _ := json.Marshal([]any{"error", struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code, message}})
	return encodeSIO(sioPacket{typ: sioEvent, nsp: mainNamespace, id: -1, data: data})
}
