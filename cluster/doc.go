// Package cluster makes one room span several presence processes, on
// protoactor-go's own cluster (the pinned module's cluster, remote, etcd and
// automanaged providers, and disthash placement). docs/architecture.md §11
// has the whole picture, the failure behaviour, and the engine's weaknesses
// this package designs around.
//
//	rooms' actor system (actors)      cluster's actor system (this package)
//	Rooms ──LocalCount──────────────► relay ──Partial──► Aggregator grain (one per room,
//	Rooms ◄─ClusterCount───────────── relay ◄─Vector───  on the room's rendezvous owner)
//	                                  relay ◄─Ping/Pong─► other nodes' relays
//
// # Ownership
//
//   - Node owns the protoactor cluster of this process: it joins in the
//     background, keeps the liveness view (view.go) current from protoactor's
//     event stream, and implements actors.Cluster for the rooms.
//   - The relay (one actor per node, named presence-relay) owns this node's
//     partials and the vectors it has merged, per room; it is the only sender
//     of ClusterCount to the rooms.
//   - An Aggregator owns one room's partials, per origin node, as soft state.
//
// # Concurrency
//
// Actor state is touched only in Receive. The view is shared by the relay,
// every aggregator and the Node's event handlers, under its own lock. Node's
// methods are safe for concurrent use. The rooms' actor system and this
// package's meet only through Node.LocalCount (posts to the relay) and
// RootContext.Send of ClusterCount to Rooms.
package cluster
