// The official Socket.IO client (npm socket.io-client, pinned in
// package-lock.json) against the presence server, for interop_socketio_test.go.
//
//   node sio-client.mjs URL TRANSPORTS ROOM
//
// TRANSPORTS: "default" (the client's own choice: long-polling, then the
// upgrade to WebSocket), "polling" or "websocket" (that transport only).
// ROOM: "query:NAME" (io({query: {room}})), "auth:NAME" (io({auth: {room}}))
// or "none". The client reconnects quickly (100–500 ms) when the server goes.
//
// It prints one JSON line per event: connect (with the transport), upgrade,
// count (the first argument of 'user count', and the room and seq of the
// second), error-event, connect_error, disconnect (with the reason),
// reconnect. It reads commands from stdin, one per line:
//   disconnect     socket.disconnect()
//   emit NAME      socket.emit(NAME, {"hello": "world"})
//   exit           exit 0
import { io } from 'socket.io-client';
import readline from 'node:readline';

const [url, transports = 'default', room = 'none'] = process.argv.slice(2);
if (!url) {
  console.error('usage: node sio-client.mjs URL [default|polling|websocket] [query:NAME|auth:NAME|none]');
  process.exit(2);
}

const out = (line) => process.stdout.write(JSON.stringify(line) + '\n');
const opts = { reconnectionDelay: 100, reconnectionDelayMax: 500, randomizationFactor: 0, timeout: 10000 };
if (transports !== 'default') opts.transports = [transports];
const [where, name] = room.split(':');
if (where === 'query') opts.query = { room: name };
if (where === 'auth') opts.auth = { room: name };

const socket = io(url, opts);
socket.io.on('open', () => {
  const engine = socket.io.engine;
  out({ type: 'open', transport: engine.transport.name });
  engine.on('upgrade', (t) => out({ type: 'upgrade', transport: t.name }));
});
socket.on('connect', () => out({ type: 'connect', transport: socket.io.engine.transport.name }));
socket.on('user count', (n, extra) => out({ type: 'count', currentUsers: n, room: extra && extra.room, seq: extra && extra.seq }));
socket.on('error', (data) => out({ type: 'error-event', ...data }));
socket.on('connect_error', (err) => out({ type: 'connect_error', message: err.message }));
socket.on('disconnect', (reason) => out({ type: 'disconnect', reason }));
socket.io.on('reconnect', (attempt) => out({ type: 'reconnect', attempt }));

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.trim().split(/\s+/, 2);
  if (cmd === 'disconnect') socket.disconnect();
  else if (cmd === 'emit') socket.emit(arg, { hello: 'world' });
  else if (cmd === 'exit') process.exit(0);
}).on('close', () => process.exit(0));
