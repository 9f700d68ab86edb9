// The page: joins the room named in the address (?room=NAME, default
// "lobby") with client.js and shows its live count, the connection state,
// and how the count moved since the page was opened. Everything it needs is
// served by the binary: no other requests, no libraries.
(function () {
  'use strict';

  var HISTORY = 40; // counts kept for the sparkline
  var LISTED = 6;   // changes shown in the list

  var params = new URLSearchParams(window.location.search);
  var room = params.get('room') || 'lobby';

  function $(id) { return document.getElementById(id); }
  var el = {
    state: $('state'), stateText: $('state-text'),
    problem: $('problem'),
    room: $('room'), roomName: $('room-name'),
    count: $('count'), note: $('count-note'),
    retry: $('retry'), retryText: $('retry-text'), retryNow: $('retry-now'),
    history: $('history'), spark: $('sparkline'), area: $('spark-area'), line: $('spark-line'),
    dot: $('spark-dot'), max: $('spark-max'), changes: $('changes'),
    input: $('room-input')
  };

  var STATE_TEXT = {
    connecting: 'Connecting…',
    connected: 'Connected',
    reconnecting: 'Reconnecting…',
    closed: 'Disconnected'
  };

  var history = [];   // {n, at, delta} for each count that differs from the one before
  var current = null; // the latest count, or null before the first
  var retryAt = 0;    // when the next reconnect attempt starts (ms since epoch)
  var ticker = null;

  el.roomName.textContent = room;

  function setTitle() {
    document.title = (current === null ? '' : '(' + current + ') ') + room + ' · Live presence';
  }
  setTitle();

  function showState(state) {
    el.state.dataset.state = state;
    el.stateText.textContent = STATE_TEXT[state] || state;
    document.body.dataset.state = state;
    if (state !== 'reconnecting') {
      el.retry.hidden = true;
      clearInterval(ticker);
    }
    noteCount();
  }

  // noteCount says what the big number means right now.
  function noteCount() {
    var state = el.state.dataset.state;
    if (current === null) {
      el.note.textContent = state === 'connecting' ? 'Waiting for the first count…' : 'No count yet.';
    } else if (state === 'connected') {
      el.note.textContent = current === 1 ? 'Just you. Share the link to invite others.' : 'You and ' +
        (current - 1) + (current === 2 ? ' other person' : ' other people') + '.';
    } else {
      el.note.textContent = 'Last known count: it may have changed while the connection was down.';
    }
  }

  function showProblem(text) {
    el.problem.textContent = text;
    el.problem.hidden = !text;
  }

  function showRetry() {
    var secs = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    el.retryText.textContent = secs > 0 ? 'Lost the connection. Trying again in ' + secs + ' s.' :
      'Lost the connection. Trying again now…';
  }

  function record(n) {
    current = n;
    el.count.textContent = String(n);
    setTitle();
    noteCount();
    var last = history[history.length - 1];
    if (last && last.n === n) return;
    history.push({ n: n, at: new Date(), delta: last ? n - last.n : null });
    if (history.length > HISTORY) history.shift();
    drawSparkline();
    drawChanges();
  }

  // drawSparkline draws the counts as steps (a count holds until the next
  // one) in the 300×66 box, the latest marked by a dot that the right edge
  // leaves room for.
  function drawSparkline() {
    var W = 292;
    var max = 1;
    history.forEach(function (h) { if (h.n > max) max = h.n; });
    function y(n) { return (62 - (n / max) * 42).toFixed(1); }
    var steps = Math.max(history.length - 1, 1);
    var d = '';
    history.forEach(function (h, i) {
      var x = (i * W / steps).toFixed(1);
      d += (i === 0 ? 'M' + x + ' ' + y(h.n) : ' H' + x + ' V' + y(h.n));
    });
    if (history.length === 1) d += ' H' + W;
    var last = history[history.length - 1];
    el.line.setAttribute('d', d);
    el.area.setAttribute('d', d + ' H300 V66 H0 Z');
    el.dot.setAttribute('d', 'M' + W + ' ' + y(last.n) + ' h0');
    el.max.textContent = 'max ' + max;
    el.spark.setAttribute('aria-label', 'Counts since you opened the page, oldest first: ' +
      history.map(function (h) { return h.n; }).join(', '));
  }

  // drawChanges lists the latest changes, newest first: when, what, and
  // the count after it.
  function drawChanges() {
    el.changes.textContent = '';
    history.slice(-LISTED).reverse().forEach(function (h) {
      var li = document.createElement('li');
      var time = document.createElement('time');
      time.dateTime = h.at.toISOString();
      time.textContent = h.at.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit', second: '2-digit' });
      var what = document.createElement('span');
      what.className = 'what';
      what.textContent = h.delta === null ? 'you joined' : h.delta > 0 ? h.delta + ' joined' : -h.delta + ' left';
      what.dataset.delta = h.delta > 0 ? 'up' : h.delta < 0 ? 'down' : '';
      var n = document.createElement('span');
      n.className = 'n';
      n.textContent = String(h.n);
      li.appendChild(time);
      li.appendChild(what);
      li.appendChild(n);
      el.changes.appendChild(li);
    });
  }

  var socket = presence.connect({ room: room });

  socket.on('state', showState);
  socket.on('connect', function () { showProblem(''); });
  socket.on('user count', function (data) { record(data.currentUsers); });
  socket.on('reconnecting', function (info) {
    retryAt = Date.now() + info.delay;
    el.retry.hidden = false;
    showRetry();
    clearInterval(ticker);
    ticker = setInterval(showRetry, 250);
  });
  socket.on('disconnect', function (info) {
    if (!info.willReconnect && info.code !== 1000) {
      showProblem('The server ended the connection (' + info.code + (info.reason ? ': ' + info.reason : '') +
        ') and asked not to reconnect. Reload the page to try again.');
    }
  });
  socket.on('error', function (err) {
    if (!err || err.code !== 'invalid_room') return;
    // Nothing to count: say what is wrong and offer a name that works.
    var fixed = room.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64) || 'lobby';
    showProblem('Cannot join “' + room + '”. ' + err.message + ' Pick another name below.');
    el.room.hidden = true;
    el.history.hidden = true;
    el.input.value = fixed;
    el.input.focus();
    el.input.select();
    document.title = 'Invalid room name · Live presence';
  });
  el.retryNow.addEventListener('click', function () { socket.reconnect(); });
  window.addEventListener('online', function () { socket.reconnect(); });
})();
