// The Socket.IO baseline for bench/run.sh: the seed lesson's user counter
// ("Handle a Disconnect", freeCodeCamp's Advanced Node and Express), as
// written. A global currentUsers is incremented on every connection and
// decremented on every disconnect, and every change is emitted to every
// socket with io.emit: N joins cost N*(N+1)/2 frames.
//
// Left out of the lesson's server on purpose, because they do not touch the
// counter: Express routes, Passport sessions and the database.
//
// Usage: node server.js [port]   (or PORT=8082 node server.js; default 8082)
'use strict';

const http = require('http').createServer();
const io = require('socket.io')(http);

const port = Number(process.argv[2] || process.env.PORT || 8082);
const host = process.env.HOST || '127.0.0.1';
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`socketio baseline: invalid port ${JSON.stringify(process.argv[2] || process.env.PORT)}`);
  process.exit(2);
}

let currentUsers = 0;

io.on('connection', (socket) => {
  ++currentUsers;
  io.emit('user count', currentUsers);

  socket.on('disconnect', () => {
    --currentUsers;
    io.emit('user count', currentUsers);
  });
});

http.on('error', (err) => {
  console.error(`socketio baseline: ${err.message}`);
  process.exit(1);
});

http.listen(port, host, () => {
  console.error(`socketio baseline: listening on ${host}:${port} (socket.io ${require('socket.io/package.json').version}, node ${process.version})`);
});

// Exit promptly on SIGTERM/SIGINT so the benchmark script can move on.
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => process.exit(0));
}
