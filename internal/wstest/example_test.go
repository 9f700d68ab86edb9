package wstest_test

import (
	"fmt"

	"github.com/gobwas/ws"

	"presence/internal/wstest"
)

// A text frame as a client sends it: FIN and the text opcode, the mask bit
// and a 2-byte length, the fixed mask, then the payload masked with it.
func ExampleFrame() {
	fmt.Printf("% x\n", wstest.Frame(true, 0, ws.OpText, []byte("hi")))
	// A protocol violation: RSV1 set without a negotiated extension.
	fmt.Printf("% x\n", wstest.Frame(true, ws.Rsv(true, false, false), ws.OpText, nil))
	// Output:
	// 81 82 37 fa 21 3d 5f 93
	// c1 80 37 fa 21 3d
}

// The server's events, decoded by the kit's own structs.
func ExampleDecodeEvent() {
	ev, err := wstest.DecodeEvent([]byte(`{"event":"user count","data":{"room":"lobby","currentUsers":3,"seq":17}}`))
	fmt.Println(ev.Name, ev.Count.Room, ev.Count.CurrentUsers, ev.Count.Seq, err)
	ev, err = wstest.DecodeEvent([]byte(`{"event":"error","data":{"code":"bad_json","message":"decode event: …"}}`))
	fmt.Println(ev.Name, ev.Error.Code, err)
	_, err = wstest.DecodeEvent([]byte(`{"event":"teleport"}`))
	fmt.Println(err)
	// Output:
	// user count lobby 3 17 <nil>
	// error bad_json <nil>
	// an unexpected event "teleport"
}
