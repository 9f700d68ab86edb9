package main

import (
	"log"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// The pattern's constants.
const (
	writeWait      = 10 * time.Second    // time allowed to write a message
	pongWait       = 60 * time.Second    // time allowed to read the next pong
	pingPeriod     = (pongWait * 9) / 10 // send pings this often; less than pongWait
	maxMessageSize = 512                 // largest message read from a client
	sendBuffer     = 256                 // queued messages per client
)

var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024}

// client is one member: a connection, its room, and its queue of outgoing
// messages. readPump and writePump are its two goroutines.
type client struct {
	hub  *hub
	room string
	conn *websocket.Conn
	send chan []byte
}

func serveWs(h *hub, room string, w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		log.Printf("gohub: upgrade: %v", err)
		return
	}
	c := &client{hub: h, room: room, conn: conn, send: make(chan []byte, sendBuffer)}
	h.register <- c
	go c.writePump()
	go c.readPump()
}

// readPump reads (and ignores) client messages, so that pongs and close
// frames are handled and a gone peer is noticed; it then unregisters.
func (c *client) readPump() {
	defer func() {
		c.hub.unregister <- c
		c.conn.Close()
	}()
	c.conn.SetReadLimit(maxMessageSize)
	c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error {
		c.conn.SetReadDeadline(time.Now().Add(pongWait))
		return nil
	})
	for {
		if _, _, err := c.conn.ReadMessage(); err != nil {
			return
		}
	}
}

// writePump writes queued messages, one text frame each (the wire format is
// one JSON object per frame), and pings the peer every pingPeriod. It sends a
// close frame when the hub closes the send channel.
func (c *client) writePump() {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case msg, ok := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				c.conn.WriteMessage(websocket.CloseMessage, []byte{})
				return
			}
			if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		case <-ticker.C:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}
