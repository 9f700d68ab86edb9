package socketio

import (
	"encoding/json"

	"presence/transport"
)

// The Socket.IO v5 side of a session: the main namespace "/", the room it
// joins, and what becomes of each packet the client sends.
//
//	CONNECT "/"            → 40{"sid":…} and the session joins its room (Server.OnConnect)
//	CONNECT other          → 44/nsp,{"message":"Invalid namespace"}; the session stays
//	CONNECT, bad room      → 44{"message":"invalid room: …"}; the session stays
//	DISCONNECT "/"         → the member leaves at once; the session ends
//	EVENT on "/"           → to the Member, which answers 42["error",…] (no client event is defined)
//	EVENT before CONNECT   → the session closes (the protocol requires CONNECT first)
//	ACK, CONNECT_ERROR     → the session closes (the server asks for no acks; servers send CONNECT_ERROR)
//	BINARY_EVENT/ACK       → the session closes (binary attachments are not supported)
//	anything malformed     → the session closes
//
// A session that has not joined within the handshake timeout is closed.

// socketIOLocked handles one Socket.IO packet (an Engine.IO message's data).
func (s *Session) socketIOLocked(data []byte) *ending {
	pkt, err := decodeSIO(data)
	if err != nil {
		return protocolError("invalid Socket.IO packet: " + err.Error())
	}
	switch pkt.typ {
	case sioConnect:
		return s.connectLocked(pkt)
	case sioDisconnect:
		if pkt.nsp != mainNamespace {
			return nil // never connected there: nothing to leave
		}
		return clientClosed("the client left the namespace")
	case sioEvent:
		if !s.joined || pkt.nsp != mainNamespace {
			return protocolError("EVENT before CONNECT to its namespace")
		}
		return s.eventLocked(pkt)
	case sioBinaryEvent, sioBinaryAck:
		return binaryRefused()
	case sioAck:
		return protocolError("ACK for an event the server never sent")
	default: // CONNECT_ERROR
		return protocolError("CONNECT_ERROR is the server's to send")
	}
}

// connectLocked answers a CONNECT. The room is CONNECT's auth "room", else
// the handshake's ?room=, else the default; the rules are /ws's.
func (s *Session) connectLocked(pkt sioPacket) *ending {
	if pkt.nsp != mainNamespace {
		s.sendLocked(connectError(pkt.nsp, "Invalid namespace"))
		return nil
	}
	if s.joined {
		return protocolError("a second CONNECT to /")
	}
	room, refusal := s.roomOf(pkt)
	if refusal != "" {
		s.sendLocked(connectError(mainNamespace, refusal))
		return nil // the client may try again
	}
	s.joined = true
	if s.connectTimer != nil {
		s.connectTimer.Stop()
		s.connectTimer = nil // a joined session keeps no timer it no longer needs
	}
	s.sendLocked(connectAck(s.id))
	s.srv.OnConnect(room, s)
	return nil
}

// roomOf is the room a CONNECT asks for, or why it may not have it.
func (s *Session) roomOf(pkt sioPacket) (room, refusal string) {
	room = s.room
	if pkt.data != nil {
		var auth struct {
			Room *string `json:"room"`
		}
		if json.Unmarshal(pkt.data, &auth) != nil {
			return "", `invalid room: "room" must be a string`
		}
		if auth.Room != nil {
			room = *auth.Room
		}
	}
	if room == "" {
		room = transport.DefaultRoom
	}
	if err := transport.ValidateRoom(room); err != nil {
		return "", "invalid room: " + err.Error()
	}
	return room, ""
}

// eventLocked hands a client event to the Member as /ws would carry it,
// {"event":NAME,"data":FIRST_ARG}, so that the same rules answer it (an error
// event, and a close after --max-bad-messages). Until the Member has
// started, a few are kept for it.
func (s *Session) eventLocked(pkt sioPacket) *ending {
	name, first := eventArgs(pkt)
	msg, _ := json.Marshal(struct {
		Event string          `json:"event"`
		Data  json.RawMessage `json:"data,omitempty"`
	}{name, first})
	switch {
	case s.onText != nil:
		s.onText(msg)
	case len(s.early) < maxEarly:
		s.early = append(s.early, msg)
	default:
		return policyError("too many events before the server was ready")
	}
	return nil
}
