// Package conformance is an RFC 6455 conformance suite for a WebSocket
// server, written for this project's tests because the Autobahn|Testsuite
// cannot run here (it needs Python 2 or its Docker image).
//
// It is test support, like net/http/httptest: nothing in the server imports
// it. Two test packages drive the same table:
//
//   - transport's tests run it against the real read loop with a test-only
//     echo handler (Echo mode): a valid text message must come back exactly,
//     and an invalid one must fail the connection with the right code;
//   - the root package's tests run it against the production server (Server
//     mode), which has no echo: it answers every text message with an
//     "error" event, so a valid message must get one and keep the connection
//     open, and an invalid one must fail it with the same code.
//
// The rows are named after the Autobahn case IDs of groups 1–7 (framing,
// pings and pongs, reserved bits, opcodes, fragmentation, UTF-8, close
// handling), plus adapted rows for the message size limit (group 9, 10.1.1)
// and a few that Autobahn does not send (an unmasked frame, RSV1 without
// permessage-deflate). Each row is written from RFC 6455 and the case's
// description. The frames and the client that sends them and reads the
// answers are the project's test kit (internal/wstest), built on gobwas/ws's
// low-level header writer, which writes any bits, valid or not.
//
// Where this server's contract is stricter than Autobahn's echo server, the
// row says so in Note: binary messages are refused with 1003 (the wire
// contract has no binary messages; RFC 6455 §7.4.1 allows 1003 for "a type
// of data it cannot accept"), and messages over the 4 KiB limit are refused
// with 1009 (§7.4.1, §10.4).
package conformance
