// The page: joins the room named in the address (?room=NAME, default
// "lobby") with client.js and shows its live count, the connection state,
// and how the count moved. Everything it needs is served by the binary.
(function () {
  'use strict';

  var HISTORY = 30; // counts kept for the sparkline and the list

  var params = new URLSearchParams(window.location.search);
  var room = params.has('room') ? params.get('room') : 'lobby';

  var el = {
    state: document.getElementById('state'),
    stateText: document.getElementById('state-text'),
    roomName: document.getElementById('room-name'),
    count: document.getElementById('count'),
    problem: document.getElementById('problem'),
    line: document.getElementById('spark-line'),
    spark: document.getElementById('sparkline'),
    changes: document.getElementById('changes'),
    input: document.getElementById('room-input')
  };

  var STATE_TEXT = {
    connecting: 'Connecting…',
    connected: 'Connected',
    reconnecting: 'Disconnected — reconnecting…',
    closed: 'Disconnected'
  };

  var history = [];

  el.roomName.textContent = room;
  el.input.value = room;
  document.title = room + ' · Live presence';

  function showState(state) {
    el.state.dataset.state = state;
    el.stateText.textContent = STATE_TEXT[state] || state;
    document.body.dataset.state = state;
  }

  function showProblem(text) {
    el.problem.textContent = text;
    el.problem.hidden = !text;
  }

  function record(n) {
    var last = history[history.length - 1];
    if (last && last.n === n) return;
    history.push({ n: n, at: new Date() });
    if (history.length > HISTORY) history.shift();
    drawSparkline();
    drawChanges();
  }

  function drawSparkline() {
    var max = 1;
    history.forEach(function (h) { if (h.n > max) max = h.n; });
    var step = history.length > 1 ? 300 / (history.length - 1) : 0;
    var points = history.map(function (h, i) {
      var x = history.length > 1 ? i * step : 150;
      var y = 56 - (h.n / max) * 52;
      return x.toFixed(1) + ',' + y.toFixed(1);
    });
    el.line.setAttribute('points', points.join(' '));
    el.spark.setAttribute('aria-label', 'Last ' + history.length + ' counts: ' +
      history.map(function (h) { return h.n; }).join(', '));
  }

  function drawChanges() {
    el.changes.textContent = '';
    history.slice(-6).reverse().forEach(function (h, i, shown) {
      var prev = shown[i + 1];
      var li = document.createElement('li');
      var time = document.createElement('time');
      time.dateTime = h.at.toISOString();
      time.textContent = h.at.toLocaleTimeString();
      var what = document.createElement('span');
      var delta = prev ? h.n - prev.n : 0;
      what.textContent = h.n + (delta > 0 ? ' (+' + delta + ')' : delta < 0 ? ' (' + delta + ')' : '');
      li.appendChild(time);
      li.appendChild(what);
      el.changes.appendChild(li);
    });
  }

  var socket = presence.connect({ room: room });
  showState('connecting');

  socket.on('state', showState);
  socket.on('connect', function () { showProblem(''); });
  socket.on('user count', function (data) {
    el.count.textContent = String(data.currentUsers);
    record(data.currentUsers);
  });
  socket.on('disconnect', function (info) {
    if (!info.willReconnect && info.code !== 1000) {
      showProblem('The server closed the connection (' + info.code + (info.reason ? ': ' + info.reason : '') +
        '). Reload the page to try again.');
    }
  });
  socket.on('error', function (err) {
    if (err && err.code === 'invalid_room') {
      el.count.textContent = '–';
      showProblem('“' + room + '” is not a valid room name. ' + err.message + ' Pick another below.');
      el.input.focus();
    }
  });
})();
