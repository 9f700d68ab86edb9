package main

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// fakeServer accepts one WebSocket on loopback and runs script on it (the
// server side, from gobwas/ws). Its error, if any, fails the test.
func fakeServer(t *testing.T, script func(nc net.Conn) error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		ln.Close()
		if err != nil {
			done <- err
			return
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := ws.Upgrade(nc); err != nil {
			done <- err
			return
		}
		done <- script(nc)
	}()
	t.Cleanup(func() {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("fake server: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("fake server did not finish")
		}
	})
	return "ws://" + ln.Addr().String()
}

func testWorker(t *testing.T, url string, proto protocol) *worker {
	t.Helper()
	w, err := newWorker(workerConfig{URL: url, Proto: proto, Room: "lobby", SourceIPs: []string{"127.0.0.1"}, DialTimeout: 5 * time.Second}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.closeAll)
	return w
}

func expectText(nc net.Conn, want string) error {
	p, err := wsutil.ReadClientText(nc)
	if err != nil {
		return err
	}
	if string(p) != want {
		return errors.New("client sent " + string(p) + ", want " + want)
	}
	return nil
}

func TestSocketIOHandshakeAndEvents(t *testing.T) {
	url := fakeServer(t, func(nc net.Conn) error {
		send := func(s string) error { return wsutil.WriteServerText(nc, []byte(s)) }
		if err := send(`0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`); err != nil {
			return err
		}
		if err := expectText(nc, "40"); err != nil {
			return err
		}
		// The connect ack and the first count in one write, as a server may.
		if _, err := nc.Write(append(ws.MustCompileFrame(ws.NewTextFrame([]byte(`40{"sid":"n1"}`))),
			ws.MustCompileFrame(ws.NewTextFrame([]byte(`42["user count",1]`)))...)); err != nil {
			return err
		}
		if err := send("2"); err != nil {
			return err
		}
		if err := expectText(nc, "3"); err != nil {
			return err
		}
		if err := send(`42["user count",7]`); err != nil {
			return err
		}
		// The client leaves cleanly: Socket.IO disconnect, then a close frame.
		if err := expectText(nc, "41"); err != nil {
			return err
		}
		_, err := wsutil.ReadClientText(nc)
		var ce wsutil.ClosedError
		if !errors.As(err, &ce) || ce.Code != ws.StatusNormalClosure {
			return errors.New("want a close frame with 1000, got " + errString(err))
		}
		return nil
	})
	w := testWorker(t, url, protoSocketIO)
	c, err := w.dialClient(context.Background(), net.ParseIP("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	w.live = append(w.live, c)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if res := w.await(ctx, 0, 7, 0, -1, false); !res.Done || res.AtTarget != 1 || res.MaxSeenAt < c.joinedAt {
		t.Fatalf("await 7: %+v (joined at %d)", res, c.joinedAt)
	}
	if c.frames.Load() != 2 {
		t.Errorf("read %d count frames, want 2", c.frames.Load())
	}
	c.leaveClean()
	<-c.done
	if c.state.Load() != stLeaving || w.stats.dropped.Load() != 0 {
		t.Errorf("a clean leave was counted as a drop")
	}
}

func TestSocketIOConnectRefused(t *testing.T) {
	url := fakeServer(t, func(nc net.Conn) error {
		if err := wsutil.WriteServerText(nc, []byte(`0{"sid":"e1","pingInterval":25000,"pingTimeout":20000}`)); err != nil {
			return err
		}
		if err := expectText(nc, "40"); err != nil {
			return err
		}
		return wsutil.WriteServerText(nc, []byte(`44{"message":"Invalid namespace"}`))
	})
	w := testWorker(t, url, protoSocketIO)
	_, err := w.dialClient(context.Background(), net.ParseIP("127.0.0.1"))
	if err == nil || !strings.Contains(err.Error(), "Invalid namespace") {
		t.Fatalf("err = %v, want the server's refusal", err)
	}
}

func TestSocketIONotAnEngineIOServer(t *testing.T) {
	url := fakeServer(t, func(nc net.Conn) error {
		return wsutil.WriteServerText(nc, []byte(`{"event":"user count","data":{"currentUsers":1}}`))
	})
	w := testWorker(t, url, protoSocketIO)
	if _, err := w.dialClient(context.Background(), net.ParseIP("127.0.0.1")); err == nil {
		t.Fatal("a server that does not speak Engine.IO was accepted")
	}
}

func TestPresenceClient(t *testing.T) {
	url := fakeServer(t, func(nc net.Conn) error {
		for _, f := range []string{
			`{"event":"user count","data":{"room":"lobby","currentUsers":1,"seq":10}}`,
			`{"event":"user count","data":{"room":"lobby","currentUsers":5,"seq":9}}`, // stale: ignored
			`{"event":"error","data":{"code":"bad_json","message":"x"}}`,
		} {
			if err := wsutil.WriteServerText(nc, []byte(f)); err != nil {
				return err
			}
		}
		if err := ws.WriteFrame(nc, ws.NewPingFrame([]byte("hi"))); err != nil {
			return err
		}
		h, err := ws.ReadHeader(nc)
		if err != nil {
			return err
		}
		if h.OpCode != ws.OpPong || !h.Masked {
			return errors.New("want a masked pong")
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(nc, p); err != nil {
			return err
		}
		ws.Cipher(p, h.Mask, 0)
		if string(p) != "hi" {
			return errors.New("pong payload " + string(p))
		}
		if err := wsutil.WriteServerText(nc, []byte(`{"event":"user count","data":{"room":"lobby","currentUsers":2,"seq":11}}`)); err != nil {
			return err
		}
		// Then the server closes on the client: a drop, not a leave.
		return ws.WriteFrame(nc, ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusGoingAway, "bye")))
	})
	w := testWorker(t, url, protoPresence)
	c, err := w.dialClient(context.Background(), net.ParseIP("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the client did not end after the server's close")
	}
	if got := c.count.Load(); got != 2 {
		t.Errorf("count %d, want 2", got)
	}
	if c.frames.Load() != 2 || w.stats.staleSeq.Load() != 1 || w.stats.errorEvents.Load() != 1 {
		t.Errorf("frames %d, stale %d, error events %d; want 2, 1, 1", c.frames.Load(), w.stats.staleSeq.Load(), w.stats.errorEvents.Load())
	}
	if c.state.Load() != stDropped || w.stats.dropped.Load() != 1 {
		t.Errorf("the server's close was not counted as a drop")
	}
}

func errString(err error) string {
	if err == nil {
		return "nothing"
	}
	return err.Error()
}

// TestClientsSpreadOverServers: with several --url (the nodes of a cluster)
// a worker's clients go to them in turn.
func TestClientsSpreadOverServers(t *testing.T) {
	hold := func(nc net.Conn) error {
		_, err := wsutil.ReadClientText(nc) // until the client closes
		var ce wsutil.ClosedError
		if err != nil && !errors.As(err, &ce) && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
			return err
		}
		return nil
	}
	a, b := fakeServer(t, hold), fakeServer(t, hold)
	w := testWorker(t, a+","+b, protoPresence)
	for range 2 {
		c, err := w.dialClient(context.Background(), net.ParseIP("127.0.0.1"))
		if err != nil {
			t.Fatal(err) // a fake server accepts one client: a second dial to the same one fails
		}
		w.all = append(w.all, c) // closeAll resets it
	}
}
