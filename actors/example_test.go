package actors

import (
	"fmt"
	"time"

	"presence/internal/wstest"
)

// The actor test kit (harness_test.go, fake_socket_test.go) at a glance: a
// real actor tree whose members are fake sockets. Each fakeSocket is a
// Socket with no network: it records the counts its Member writes (decoded by
// the wstest kit, not by wire.go), and leave makes its peer go away. The
// tests use newTree(t, …), which stops the tree when the test ends;
// startTree is the same without a test.
//
// Three members join the lobby and each reads 3; one leaves and the other
// two read 2. Counts are pushed on a timer, so the example waits for them
// (wstest.Poll) rather than reading them at once.
func Example_threeMembersJoinARoom() {
	tr, stop := startTree(Options{FlushInterval: 10 * time.Millisecond})
	defer func() { _ = stop() }()

	members := []*fakeSocket{tr.join("lobby"), tr.join("lobby"), tr.join("lobby")}
	show := func(want int) {
		if !wstest.Poll(10*time.Second, func() bool { ok, _ := converged(members, want); return ok }) {
			_, why := converged(members, want)
			fmt.Println("not converged:", why)
		}
		for i, m := range members {
			c, _ := m.last()
			fmt.Printf("member %d reads %d in %s\n", i, c.CurrentUsers, c.Room)
		}
	}
	show(3)

	members[2].leave("close_frame")
	members = members[:2]
	show(2)
	// Output:
	// member 0 reads 3 in lobby
	// member 1 reads 3 in lobby
	// member 2 reads 3 in lobby
	// member 0 reads 2 in lobby
	// member 1 reads 2 in lobby
}
