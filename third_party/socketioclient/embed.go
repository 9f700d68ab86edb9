// Package socketioclient is the official Socket.IO browser client, shipped
// as npm publishes it: the bundles of socket.io-client (dist/), unmodified,
// with the package's LICENSE beside them. The server serves them at
// /socket.io/socket.io.js (and .min.js and the .map files), the way a
// Node.js Socket.IO server does, so a page written for Socket.IO (the
// lesson's `let socket = io()`) loads its client from this server.
//
// Nothing here is ours to edit. To update: change the version in
// interop/package.json, run `npm install` there, copy the four dist files
// and LICENSE from interop/node_modules/socket.io-client, and set Version
// and Integrity below to the new package-lock.json entry.
// TestSocketIOClientBundleIsTheNPMPackage checks the bytes against the
// copy npm verified.
package socketioclient

import "embed"

// Version is the socket.io-client release the files come from.
const Version = "4.8.4"

// Integrity is the npm registry's integrity hash of that release's tarball
// (the package-lock.json "integrity" field npm verifies on install).
const Integrity = "sha512-7wjKAvVXYOJsbmUgkWbnhPD4bFpkqrUR0++XOjpGFmqDqsqV1CI93VTraeExLxpjxEqrWgFoSRZu1ihjLWfkAA=="

// Files are the bundles, under dist/, and LICENSE.
//
//go:embed dist LICENSE
var Files embed.FS

// Served lists the bundle files the server serves under /socket.io/.
var Served = []string{"socket.io.js", "socket.io.js.map", "socket.io.min.js", "socket.io.min.js.map"}
