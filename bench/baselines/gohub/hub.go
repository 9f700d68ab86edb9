package main

import "encoding/json"

// hub owns every room. Only run touches rooms and seq; everyone else talks to
// it over the register and unregister channels, as in the chat-hub pattern.
type hub struct {
	rooms      map[string]map[*client]bool
	seq        map[string]uint64
	register   chan *client
	unregister chan *client
}

func newHub() *hub {
	return &hub{
		rooms:      make(map[string]map[*client]bool),
		seq:        make(map[string]uint64),
		register:   make(chan *client),
		unregister: make(chan *client),
	}
}

type countMessage struct {
	Event string    `json:"event"`
	Data  countData `json:"data"`
}

type countData struct {
	Room         string `json:"room"`
	CurrentUsers int    `json:"currentUsers"`
	Seq          uint64 `json:"seq"`
}

func (h *hub) run() {
	for {
		select {
		case c := <-h.register:
			members := h.rooms[c.room]
			if members == nil {
				members = make(map[*client]bool)
				h.rooms[c.room] = members
			}
			members[c] = true
			h.broadcastCount(c.room)

		case c := <-h.unregister:
			members := h.rooms[c.room]
			if _, ok := members[c]; ok {
				delete(members, c)
				close(c.send)
				h.broadcastCount(c.room)
			}
			if len(members) == 0 {
				delete(h.rooms, c.room)
				delete(h.seq, c.room)
			}
		}
	}
}

// broadcastCount sends the room's currentUsers to every member: the message
// is encoded once and the same bytes go to every send channel. A member whose
// channel is full is too slow to keep: it is closed and dropped, as the
// pattern does (and, as in the pattern, the others are not told).
func (h *hub) broadcastCount(room string) {
	members := h.rooms[room]
	h.seq[room]++
	msg, err := json.Marshal(countMessage{Event: "user count", Data: countData{
		Room: room, CurrentUsers: len(members), Seq: h.seq[room],
	}})
	if err != nil {
		panic(err) // a string and two integers always encode
	}
	for c := range members {
		select {
		case c.send <- msg:
		default:
			close(c.send)
			delete(members, c)
		}
	}
}
