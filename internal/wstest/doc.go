// Package wstest is the test kit of every test tier of this project: the
// root package's network, abuse, shutdown, kill, cluster and soak tests,
// transport's internal tests, the conformance table (internal/conformance)
// and the actor tests. It is test support, like net/http/httptest: nothing
// in the server imports it.
//
// It holds, once each:
//
//   - frames.go: client frames with any bits, valid or not (Frame,
//     UnmaskedFrame, FrameHeader), masked with one fixed key so that every
//     run sends the same bytes;
//   - events.go: the decoding of the server's JSON events ("user count",
//     "error") with the kit's own structs;
//   - dial.go, client.go, read.go, state.go: a WebSocket client that can
//     send any bytes, records everything the server sends, holds the server
//     to RFC 6455 and the wire contract as it reads, and can leave in every
//     way a real client does (close frame, TCP reset, silence);
//   - eventually.go: waiting on a condition with a deadline (Poll,
//     Eventually), never by sleeping;
//   - process.go: building the server binary and running it (BuildBinary,
//     StartBinary), with the tail of its log when a test fails.
//
// # Independence from the server
//
// The kit never uses the server's encoder or decoder (actors/wire.go): it
// decodes `{"event":"user count","data":{"room":…,"currentUsers":…,"seq":…}}`
// and error events with structs of its own. A bug in the server's encoding
// then shows up as a failed test instead of being read back by the same code
// that wrote it.
//
// # Imports
//
// transport's internal tests (package transport) and actors' internal tests
// (package actors) import this package, so it must import neither of them,
// nor the main package: it depends only on the standard library and
// github.com/gobwas/ws, whose frame functions write any bits a test asks for.
package wstest
