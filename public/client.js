/*
 * presence client — a small, dependency-free browser client for the presence
 * server. Copy it, or load it from /public/client.js.
 *
 *   const socket = presence.connect({ room: 'lobby' });
 *   socket.on('connect', () => console.log('connected'));
 *   socket.on('user count', data => console.log(data.currentUsers, 'in', data.room));
 *   socket.on('disconnect', info => console.log('lost', info.code, info.willReconnect));
 *
 * Events:
 *   'connect'      ()                               the socket is open
 *   'user count'   ({room, currentUsers, seq})      the room's count changed (newest only)
 *   'disconnect'   ({code, reason, willReconnect})  the socket closed
 *   'reconnecting' ({attempt, delay})               a new attempt starts in `delay` ms
 *   'error'        ({code, message})                an error event from the server, or
 *                                                   {code: 'invalid_room'} before connecting
 *   'state'        ('connecting' | 'connected' | 'reconnecting' | 'closed')
 *
 * socket.reconnect() tries at once instead of waiting out the backoff (for a
 * "Retry now" button, or the browser's 'online' event); socket.close() ends it.
 *
 * It reconnects with capped exponential backoff and jitter, and ignores a
 * count whose seq is not newer than the last one it saw on that connection.
 */
(function (global) {
  'use strict';

  var ROOM = /^[A-Za-z0-9._-]{1,64}$/;

  // Close codes after which trying again would only repeat the refusal.
  var FINAL_CODES = { 1003: true, 1007: true, 1008: true, 1009: true };

  function validRoom(name) {
    return typeof name === 'string' && ROOM.test(name);
  }

  // roomProblem says what is wrong with a name validRoom refuses, in words a
  // user can act on (the server's 400 is not readable from a browser).
  function roomProblem(name) {
    var rule = 'Room names are 1 to 64 of A-Z, a-z, 0-9, ".", "_" and "-"';
    if (typeof name !== 'string' || name === '') return rule + '; this one is empty.';
    if (name.length > 64) return rule + '; this one is ' + name.length + ' characters long.';
    var bad = name.match(/[^A-Za-z0-9._-]/)[0];
    return rule + '; this one contains ' + (bad === ' ' ? 'a space' : '"' + bad + '"') + '.';
  }

  function Socket(options) {
    this.room = options.room || 'lobby';
    this.url = options.url || defaultURL(this.room);
    this.minDelay = options.minDelay || 500;
    this.maxDelay = options.maxDelay || 10000;
    this.state = 'connecting';
    this.lastSeq = 0;
    this.attempt = 0;
    this.handlers = {};
    this.ws = null;
    this.timer = null;
    this.closedByUser = false;
    this.suspended = false;
    var self = this;
    if (!validRoom(this.room)) {
      this.state = 'closed';
      // Let the caller attach handlers before hearing about it.
      setTimeout(function () {
        self.emit('error', {
          code: 'invalid_room',
          message: roomProblem(self.room)
        });
        self.emit('state', 'closed');
      }, 0);
      return;
    }
    // A page that is left (a navigation; the back/forward cache keeps a
    // page's sockets open) must take its socket along, or the room would go
    // on counting someone who is gone; a page restored from the cache
    // connects again.
    global.addEventListener('pagehide', function () { self.suspend(); });
    global.addEventListener('pageshow', function (e) { if (e.persisted) self.resume(); });
    setTimeout(function () { self.open(); }, 0);
  }

  function defaultURL(room) {
    var scheme = global.location.protocol === 'https:' ? 'wss://' : 'ws://';
    return scheme + global.location.host + '/ws?room=' + encodeURIComponent(room);
  }

  Socket.prototype.on = function (event, fn) {
    (this.handlers[event] = this.handlers[event] || []).push(fn);
    return this;
  };

  Socket.prototype.off = function (event, fn) {
    var list = this.handlers[event] || [];
    this.handlers[event] = list.filter(function (h) { return h !== fn; });
    return this;
  };

  Socket.prototype.emit = function (event, data) {
    var list = (this.handlers[event] || []).slice();
    for (var i = 0; i < list.length; i++) list[i].call(this, data);
  };

  Socket.prototype.setState = function (state) {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  };

  // close ends the socket for good: no reconnect.
  Socket.prototype.close = function () {
    this.closedByUser = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, 'bye');
    this.setState('closed');
  };

  // reconnect skips the rest of the backoff wait and tries now.
  Socket.prototype.reconnect = function () {
    if (this.closedByUser || this.ws || this.state !== 'reconnecting') return;
    clearTimeout(this.timer);
    this.open();
  };

  // suspend closes the socket while the page is hidden away, with no
  // reconnect until resume.
  Socket.prototype.suspend = function () {
    if (this.closedByUser || this.state === 'closed') return;
    this.suspended = true;
    clearTimeout(this.timer);
    var ws = this.ws;
    this.ws = null; // so that its onclose is ignored
    if (ws) ws.close(1000, 'page hidden');
  };

  Socket.prototype.resume = function () {
    if (!this.suspended) return;
    this.suspended = false;
    this.attempt = 0;
    this.setState('connecting');
    this.open();
  };

  Socket.prototype.open = function () {
    if (this.closedByUser || this.suspended) return;
    var self = this;
    var ws = new global.WebSocket(this.url);
    this.ws = ws;
    this.lastSeq = 0; // seq orders the counts of one connection
    ws.onopen = function () {
      self.setState('connected');
      self.emit('connect');
    };
    ws.onmessage = function (msg) {
      var frame;
      try { frame = JSON.parse(msg.data); } catch (e) { return; }
      if (!frame || typeof frame.event !== 'string') return;
      if (frame.event === 'user count') {
        var data = frame.data || {};
        if (!(data.seq > self.lastSeq)) return; // stale or repeated
        self.lastSeq = data.seq;
        self.attempt = 0; // a working connection resets the backoff
        self.emit('user count', data);
      } else {
        self.emit(frame.event, frame.data);
      }
    };
    ws.onclose = function (ev) {
      if (self.ws !== ws) return;
      self.ws = null;
      var again = !self.closedByUser && !FINAL_CODES[ev.code];
      self.emit('disconnect', { code: ev.code, reason: ev.reason, willReconnect: again });
      if (again) {
        self.retry();
      } else {
        self.setState('closed');
      }
    };
  };

  // retry waits min(maxDelay, minDelay·2^attempt), jittered to 50–100 % of
  // that so that a crowd dropped at once does not come back at once.
  Socket.prototype.retry = function () {
    var self = this;
    var ceiling = Math.min(this.maxDelay, this.minDelay * Math.pow(2, this.attempt));
    var delay = Math.round(ceiling / 2 + Math.random() * ceiling / 2);
    this.attempt++;
    this.setState('reconnecting');
    this.emit('reconnecting', { attempt: this.attempt, delay: delay });
    this.timer = setTimeout(function () { self.open(); }, delay);
  };

  global.presence = {
    connect: function (options) { return new Socket(options || {}); },
    validRoom: validRoom
  };
})(window);
