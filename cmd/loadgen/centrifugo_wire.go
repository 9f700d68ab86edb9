package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// Centrifugo's client protocol, JSON flavour, over a bidirectional WebSocket
// on /connection/websocket (the protocol's own definition: client.proto in
// github.com/centrifugal/protocol). Every WebSocket text message holds one
// or more JSON objects separated by '\n': the client sends Commands, the
// server sends Replies.
//
//	{"id":1,"connect":{}}                                  client → server
//	{"id":1,"connect":{"client":"…","version":"…","ping":25,"pong":true}}
//	{"id":2,"subscribe":{"channel":"lobby","join_leave":true}}
//	{"id":2,"subscribe":{}}
//	{"id":3,"presence":{"channel":"lobby"}}
//	{"id":3,"presence":{"presence":{"<client>":{"user":"","client":"<client>"},…}}}
//	{"id":4,"presence_stats":{"channel":"lobby"}}
//	{"id":4,"presence_stats":{"num_clients":3,"num_users":1}}
//	{"id":2,"error":{"code":103,"message":"permission denied"}}
//	{"push":{"channel":"lobby","join":{"info":{"user":"","client":"<client>"}}}}
//	{"push":{"channel":"lobby","leave":{"info":{"user":"","client":"<client>"}}}}
//	{"push":{"channel":"lobby","pub":{"data":{"step":7},"offset":…}}}
//	{}                                                     server ping; the client answers {} when connect said "pong":true
//
// A reply has an id above 0; a push has none. The functions here are pure,
// over one WebSocket message each, so they are unit-tested without a network.

// cfKind is what one Centrifugo reply or push means to a simulated client.
type cfKind int

const (
	cfOther         cfKind = iota // acted on by nobody: counted as "other"
	cfPing                        // the server's ping ({}): answer with {} if connect said pong
	cfReply                       // a reply to command id: connect, subscribe, presence_stats, or an error
	cfPresence                    // a reply carrying the presence snapshot (ids)
	cfJoin                        // a join push (client)
	cfLeave                       // a leave push (client)
	cfPub                         // a publication push (step, if its data carries one)
	cfUnsubscribed                // the server unsubscribed us from a channel
	cfDisconnected                // the server's disconnect push
	cfMalformed                   // a line that is not a reply (err says why)
	cfUnknownReply                // a reply with an id and nothing the client knows in it
	cfConnectResult               // reply to connect: pong says whether pings want answers
)

// cfMessage is one decoded reply or push.
type cfMessage struct {
	kind       cfKind
	id         uint32   // replies
	err        string   // a reply's error ("103: permission denied"); unsubscribe/disconnect reason
	client     uint64   // join, leave: clientID of who came or went
	clients    []uint64 // presence: every client in the snapshot
	numClients int      // presence_stats
	step       int64    // pub: data.step, 0 when absent
	pong       bool     // connect: the server wants pongs
}

// clientID turns a Centrifugo client id (a UUID string) into the key the
// count derivation uses. A 64-bit FNV-1a hash keeps a member set of 10,000
// at 80 KB instead of ~1 MB of strings; two distinct ids of one room
// colliding has a probability near n²/2⁶⁵ (10⁻¹¹ for n = 10,000).
func clientID(s []byte) uint64 {
	const offset64, prime64 = 14695981039346656037, 1099511628211
	h := uint64(offset64)
	for _, b := range s {
		h ^= uint64(b)
		h *= prime64
	}
	return h
}

// parseCentrifugo calls fn with every reply and push in one WebSocket
// message, in order. A line that cannot be read is passed as cfMalformed,
// so one bad line does not hide the rest.
func parseCentrifugo(p []byte, fn func(cfMessage)) {
	for len(p) > 0 {
		line := p
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			line, p = p[:i], p[i+1:]
		} else {
			p = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		m, err := parseCentrifugoLine(line)
		if err != nil {
			m = cfMessage{kind: cfMalformed, err: err.Error()}
		}
		fn(m)
	}
}

var (
	cfPushPrefix  = []byte(`{"push":{"channel":"`)
	cfJoinKey     = []byte(`,"join":{"info":{`)
	cfLeaveKey    = []byte(`,"leave":{"info":{`)
	cfClientKey   = []byte(`"client":"`)
	cfPresenceKey = []byte(`"presence":{"presence":`)
)

// parseCentrifugoLine decodes one JSON object of the server. Join and leave
// pushes (a ramp to N sends N²/2 of them) take a fast path for the server's
// own encoding; presence snapshots are walked token by token (10,000 ids in
// one reply); the rest goes through encoding/json.
func parseCentrifugoLine(line []byte) (cfMessage, error) {
	if bytes.Equal(line, []byte("{}")) {
		return cfMessage{kind: cfPing}, nil
	}
	if m, ok := fastJoinLeave(line); ok {
		return m, nil
	}
	if bytes.Contains(line, cfPresenceKey) {
		return parsePresenceReply(line)
	}
	var r struct {
		ID    uint32 `json:"id"`
		Error *struct {
			Code    uint32 `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Push    *cfPush `json:"push"`
		Connect *struct {
			Client string `json:"client"`
			Pong   bool   `json:"pong"`
		} `json:"connect"`
		Subscribe     json.RawMessage `json:"subscribe"`
		PresenceStats *struct {
			NumClients *int `json:"num_clients"`
		} `json:"presence_stats"`
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return cfMessage{}, fmt.Errorf("centrifugo reply is not JSON: %w", err)
	}
	switch {
	case r.Error != nil:
		return cfMessage{kind: cfReply, id: r.ID, err: fmt.Sprintf("%d: %s", r.Error.Code, r.Error.Message)}, nil
	case r.Push != nil:
		return r.Push.message()
	case r.ID == 0:
		return cfMessage{}, fmt.Errorf("centrifugo reply with neither id nor push: %s", truncate(line, 80))
	case r.Connect != nil:
		if r.Connect.Client == "" {
			return cfMessage{}, fmt.Errorf("connect result without a client id: %s", truncate(line, 120))
		}
		return cfMessage{kind: cfConnectResult, id: r.ID, pong: r.Connect.Pong}, nil
	case r.PresenceStats != nil:
		if r.PresenceStats.NumClients == nil {
			// num_clients 0 may be left out by the server's encoder.
			return cfMessage{kind: cfReply, id: r.ID}, nil
		}
		return cfMessage{kind: cfReply, id: r.ID, numClients: *r.PresenceStats.NumClients}, nil
	case r.Subscribe != nil:
		return cfMessage{kind: cfReply, id: r.ID}, nil
	}
	return cfMessage{kind: cfUnknownReply, id: r.ID}, nil
}

// cfInfo is a ClientInfo: who joined or left.
type cfInfo struct {
	User   string `json:"user"`
	Client string `json:"client"`
}

// cfReason is the body of an unsubscribe or disconnect push.
type cfReason struct {
	Code   uint32 `json:"code"`
	Reason string `json:"reason"`
}

// cfPush is a push: exactly one of its fields is set.
type cfPush struct {
	Channel string `json:"channel"`
	Pub     *struct {
		Data json.RawMessage `json:"data"`
	} `json:"pub"`
	Join        *cfJoinLeave `json:"join"`
	Leave       *cfJoinLeave `json:"leave"`
	Unsubscribe *cfReason    `json:"unsubscribe"`
	Disconnect  *cfReason    `json:"disconnect"`
}

// cfJoinLeave is the body of a join or leave push.
type cfJoinLeave struct {
	Info cfInfo `json:"info"`
}

// message is what the push means to a client.
func (p *cfPush) message() (cfMessage, error) {
	switch {
	case p.Pub != nil:
		var d struct {
			Step int64 `json:"step"`
		}
		_ = json.Unmarshal(p.Pub.Data, &d) // a publication without a step is still one
		return cfMessage{kind: cfPub, step: d.Step}, nil
	case p.Join != nil:
		if p.Join.Info.Client == "" {
			return cfMessage{}, errors.New("join push without a client id")
		}
		return cfMessage{kind: cfJoin, client: clientID([]byte(p.Join.Info.Client))}, nil
	case p.Leave != nil:
		if p.Leave.Info.Client == "" {
			return cfMessage{}, errors.New("leave push without a client id")
		}
		return cfMessage{kind: cfLeave, client: clientID([]byte(p.Leave.Info.Client))}, nil
	case p.Unsubscribe != nil:
		return cfMessage{kind: cfUnsubscribed, err: strconv.Itoa(int(p.Unsubscribe.Code)) + ": " + p.Unsubscribe.Reason}, nil
	case p.Disconnect != nil:
		return cfMessage{kind: cfDisconnected, err: strconv.Itoa(int(p.Disconnect.Code)) + ": " + p.Disconnect.Reason}, nil
	}
	return cfMessage{kind: cfOther}, nil
}

// fastJoinLeave reads the server's own encoding of a join or leave push,
// {"push":{"channel":"C","join":{"info":{"user":"U","client":"ID"…}}}}, and
// gives up (ok false) on anything else, including escapes in the id.
func fastJoinLeave(line []byte) (cfMessage, bool) {
	if !bytes.HasPrefix(line, cfPushPrefix) {
		return cfMessage{}, false
	}
	rest := line[len(cfPushPrefix):]
	i := bytes.IndexByte(rest, '"') // the end of the channel's name
	if i < 0 || bytes.IndexByte(rest[:i], '\\') >= 0 {
		return cfMessage{}, false
	}
	rest = rest[i+1:]
	var kind cfKind
	switch {
	case bytes.HasPrefix(rest, cfJoinKey):
		kind = cfJoin
	case bytes.HasPrefix(rest, cfLeaveKey):
		kind = cfLeave
	default:
		return cfMessage{}, false
	}
	k := bytes.Index(rest, cfClientKey)
	if k < 0 {
		return cfMessage{}, false
	}
	id := rest[k+len(cfClientKey):]
	end := bytes.IndexByte(id, '"')
	if end <= 0 || bytes.IndexByte(id[:end], '\\') >= 0 || !bytes.HasSuffix(line, []byte("}}}}")) {
		return cfMessage{}, false
	}
	return cfMessage{kind: kind, client: clientID(id[:end])}, true
}

// parsePresenceReply walks {"id":N,"presence":{"presence":{ID:{…},…}}} token
// by token and keeps only the ids: a snapshot of 10,000 clients is read
// without building 10,000 structs.
func parsePresenceReply(line []byte) (cfMessage, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(line))
	m := cfMessage{kind: cfPresence}
	found := false
	err := walkObject(dec, func(key string) error {
		switch key {
		case "id":
			v, err := dec.ReadValue()
			if err != nil {
				return err
			}
			id, err := strconv.ParseUint(string(v), 10, 32)
			if err != nil {
				return fmt.Errorf("presence reply id: %w", err)
			}
			m.id = uint32(id)
			return nil
		case "presence":
			return walkObject(dec, func(key string) error {
				if key != "presence" {
					return dec.SkipValue()
				}
				found = true
				return walkObject(dec, func(client string) error {
					m.clients = append(m.clients, clientID([]byte(client)))
					return dec.SkipValue()
				})
			})
		}
		return dec.SkipValue()
	})
	if err != nil {
		return cfMessage{}, fmt.Errorf("centrifugo presence reply: %w", err)
	}
	if !found || m.id == 0 {
		return cfMessage{}, fmt.Errorf("centrifugo presence reply without id or presence: %s", truncate(line, 120))
	}
	return m, nil
}

// walkObject reads one JSON object from dec and calls fn for every key,
// with the decoder just before that key's value; fn must consume the value.
func walkObject(dec *jsontext.Decoder, fn func(key string) error) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != '{' {
		return fmt.Errorf("want an object, got %v", tok.Kind())
	}
	for dec.PeekKind() != '}' {
		k, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if err := fn(k.String()); err != nil {
			return err
		}
	}
	_, err = dec.ReadToken()
	return err
}

// The client → server commands. The ids are fixed: a client sends each
// command once, in this order.
const (
	cfConnectID       = 1
	cfSubscribeID     = 2
	cfPresenceID      = 3
	cfPresenceStatsID = 4
)

// cfConnectCmd is the connect command: anonymous, no token (the server's
// config allows it). name is what the server logs for the client.
func cfConnectCmd() []byte {
	return []byte(`{"id":1,"connect":{"name":"loadgen"}}`)
}

// cfSubscribeCmd subscribes to channel; joinLeave asks for join and leave
// pushes (the server sends them only if the channel's namespace enables
// join_leave and the client may see presence).
func cfSubscribeCmd(channel string, joinLeave bool) []byte {
	b, _ := json.Marshal(struct {
		ID        int `json:"id"`
		Subscribe struct {
			Channel   string `json:"channel"`
			JoinLeave bool   `json:"join_leave,omitempty"`
		} `json:"subscribe"`
	}{ID: cfSubscribeID, Subscribe: struct {
		Channel   string `json:"channel"`
		JoinLeave bool   `json:"join_leave,omitempty"`
	}{channel, joinLeave}})
	return b
}

// cfChannelCmd is a command whose only argument is the channel: presence
// or presence_stats.
func cfChannelCmd(id int, method, channel string) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, method: map[string]string{"channel": channel}})
	return b
}

// cfPong answers the server's ping.
var cfPong = []byte("{}")
