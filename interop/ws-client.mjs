// An independent WebSocket peer for the Go tests (interop_test.go): the npm
// `ws` package, which validates every frame it receives (masking, RSV bits,
// opcodes, UTF-8, close codes) and reports a violation as an 'error' event.
//
//   node ws-client.mjs URL MODE [ARG]
//
// MODE says what the client does once it has its first count:
//   listen         nothing: it waits for the server to close
//   close          it closes with 1000 once the count reaches ARG
//   oversize       it sends a text message of ARG bytes
//   bad-json       it sends text that is not JSON, then closes with 1000 after the answer
//
// It prints one JSON line per event as it happens ({"type":"count",…},
// {"type":"error-event",…}) and, when the connection is over, one line
// {"type":"result",…} with everything it saw. It exits 0 unless it could not
// run at all.
import WebSocket from 'ws';

const [url, mode = 'listen', arg = ''] = process.argv.slice(2);
if (!url) {
  console.error('usage: node ws-client.mjs URL [listen|close N|oversize BYTES|bad-json]');
  process.exit(2);
}

const result = { type: 'result', opened: false, counts: [], errorEvents: [], other: [], errors: [], close: null };
const emit = (line) => process.stdout.write(JSON.stringify(line) + '\n');

const ws = new WebSocket(url, { perMessageDeflate: false });
let acted = false;

ws.addEventListener('open', () => {
  result.opened = true;
  emit({ type: 'open' });
});

ws.addEventListener('message', (ev) => {
  if (typeof ev.data !== 'string') {
    result.other.push({ binary: true });
    return;
  }
  let msg;
  try {
    msg = JSON.parse(ev.data);
  } catch (err) {
    result.other.push({ notJSON: ev.data.slice(0, 200) });
    return;
  }
  if (msg.event === 'user count') {
    result.counts.push(msg.data);
    emit({ type: 'count', ...msg.data });
  } else if (msg.event === 'error') {
    result.errorEvents.push(msg.data);
    emit({ type: 'error-event', ...msg.data });
    if (mode === 'bad-json') ws.close(1000, 'bye');
  } else {
    result.other.push(msg);
  }
  act(msg);
});

function act(msg) {
  if (acted || msg.event !== 'user count') return;
  if (mode === 'close' && msg.data.currentUsers === Number(arg)) {
    acted = true;
    ws.close(1000, 'bye');
  } else if (mode === 'oversize') {
    acted = true;
    ws.send('x'.repeat(Number(arg)));
  } else if (mode === 'bad-json') {
    acted = true;
    ws.send('this is not JSON');
  }
}

ws.addEventListener('error', (ev) => {
  result.errors.push(String(ev.message || ev.error || ev));
});

ws.addEventListener('close', (ev) => {
  result.close = { code: ev.code, reason: ev.reason, wasClean: ev.wasClean };
  emit(result);
  process.exit(0);
});
