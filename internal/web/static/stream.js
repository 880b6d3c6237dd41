// The turn stream: a WebSocket to /api/ws that carries turn events
// (docs/api.md, "Turn events") and client frames (send, retry, cancel,
// confirm). It reconnects with exponential backoff and jitter, reconnects at
// once when the browser comes back online or the tab becomes visible, and
// tells listeners when a connection comes back after a drop so they can
// reload what they show (events sent while disconnected are lost).
//
// If the socket cannot be opened in time, a frame is sent over the
// equivalent HTTP endpoint instead and its server-sent events are delivered
// to the same listeners, so a turn still works behind a proxy that refuses
// WebSockets.

import { api, postStream, ApiError } from './api.js';

const MAX_DELAY = 15000;
const OPEN_WAIT = 2500;

export class TurnStream {
  constructor({ checkAuth } = {}) {
    this.checkAuth = checkAuth;
    this.ws = null;
    this.listeners = new Set();
    this.stateListeners = new Set();
    this.attempt = 0;
    this.failures = 0;
    this.everOpened = false;
    this.stopped = true;
    this.timer = 0;
    this.state = 'closed';
    this.onOnline = () => this.reconnectNow();
    this.onVisible = () => { if (document.visibilityState === 'visible') this.reconnectNow(); };
  }

  /** on(fn) subscribes to turn events; returns an unsubscribe function. */
  on(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); }

  /** onState(fn) gets 'open', 'connecting', 'closed' and 'reconnected'. */
  onState(fn) { this.stateListeners.add(fn); return () => this.stateListeners.delete(fn); }

  get open() { return !!this.ws && this.ws.readyState === WebSocket.OPEN; }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.onOnline);
    document.removeEventListener('visibilitychange', this.onVisible);
    const ws = this.ws;
    this.ws = null;
    if (ws) { try { ws.close(1000, 'bye'); } catch { /* already closed */ } }
    this.setState('closed');
  }

  emit(ev) {
    for (const fn of [...this.listeners]) {
      try { fn(ev); } catch (e) { console.error('os1: turn event handler failed', e); }
    }
  }

  setState(s) {
    this.state = s;
    for (const fn of [...this.stateListeners]) { try { fn(s); } catch { /* ignore */ } }
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}/api/ws`;
  }

  connect() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.timer);
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.schedule();
      return;
    }
    this.ws = ws;
    this.setState('connecting');
    let opened = false;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      opened = true;
      const again = this.everOpened;
      this.everOpened = true;
      this.attempt = 0;
      this.failures = 0;
      // Follow every turn of this user, also those started in another tab
      // or device (docs/api.md, `subscribe`).
      try { ws.send(JSON.stringify({ type: 'subscribe' })); } catch { /* the close handler reconnects */ }
      this.setState('open');
      if (again) this.setState('reconnected');
    };
    ws.onmessage = (m) => {
      if (this.ws !== ws || typeof m.data !== 'string') return;
      let ev;
      try { ev = JSON.parse(m.data); } catch { return; }
      if (ev && ev.type === 'subscribed') {
        // Live: from here on this page sees every turn of the user.
        document.body.dataset.live = 'true';
        return;
      }
      if (ev && typeof ev.type === 'string') this.emit(ev);
    };
    ws.onerror = () => { /* a close event follows */ };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      delete document.body.dataset.live;
      this.setState('closed');
      if (this.stopped) return;
      // 4001: this session or token was signed out elsewhere (docs/api.md).
      if (ev && ev.code === 4001 && this.checkAuth) this.checkAuth();
      if (!opened) {
        this.failures++;
        // A socket that never opens may mean the session ended.
        if (this.checkAuth && this.failures % 3 === 0) this.checkAuth();
      }
      this.schedule();
    };
  }

  schedule() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const base = Math.min(MAX_DELAY, 500 * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 10);
    const delay = base / 2 + Math.random() * (base / 2);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.stopped || this.ws) return;
    this.attempt = 0;
    this.connect();
  }

  waitOpen(ms) {
    if (this.open) return Promise.resolve(true);
    this.reconnectNow();
    return new Promise((resolve) => {
      const t = setTimeout(() => { off(); resolve(this.open); }, ms);
      const off = this.onState((s) => {
        if (s === 'open') { clearTimeout(t); off(); resolve(true); }
      });
    });
  }

  /**
   * send(frame) delivers a client frame: {type:'send', conversation_id, text},
   * {type:'edit', conversation_id, message_id, text}, {type:'regenerate',
   * conversation_id, message_id}, {type:'retry', conversation_id}, {type:'cancel', conversation_id} or
   * {type:'confirm', action_id, approve}. Over HTTP, failures are reported as
   * an 'error' event followed by 'turn_done', like a failed turn.
   */
  async send(frame) {
    if (this.open || await this.waitOpen(OPEN_WAIT)) {
      try {
        this.ws.send(JSON.stringify(frame));
        return;
      } catch { /* fall back to HTTP below */ }
    }
    // Tell listeners this frame's events come over HTTP, not the socket.
    this.emit({ type: 'transport', via: 'http', frame, local: true });
    await this.sendHTTP(frame);
  }

  async sendHTTP(frame) {
    let convId = frame.conversation_id || '';
    try {
      switch (frame.type) {
        case 'send': {
          if (!convId) {
            const c = await api.post('/api/conversations', {});
            convId = c.id;
          }
          await postStream(`/api/conversations/${encodeURIComponent(convId)}/messages`, { text: frame.text }, (ev) => this.emit(ev));
          break;
        }
        case 'retry':
          await postStream(`/api/conversations/${encodeURIComponent(convId)}/retry`, {}, (ev) => this.emit(ev));
          break;
        case 'edit':
        case 'regenerate': {
          const path = `/api/conversations/${encodeURIComponent(convId)}/messages/${encodeURIComponent(frame.message_id)}/${frame.type}`;
          await postStream(path, frame.type === 'edit' ? { text: frame.text } : {}, (ev) => this.emit(ev));
          break;
        }
        case 'cancel':
          await api.post(`/api/conversations/${encodeURIComponent(convId)}/cancel`, {});
          break;
        case 'confirm':
          await postStream(`/api/actions/${encodeURIComponent(frame.action_id)}`, { approve: !!frame.approve }, (ev) => this.emit(ev));
          break;
        default:
          throw new ApiError(0, 'bad_request', `Unknown frame type ${frame.type}.`);
      }
    } catch (e) {
      const error = e instanceof ApiError ? { code: e.code, message: e.message } : { code: 'error', message: String(e && e.message || e) };
      this.emit({ type: 'error', error, conversation_id: convId || undefined, local: true });
      if (frame.type !== 'cancel') this.emit({ type: 'turn_done', conversation_id: convId || undefined, local: true });
    }
  }
}
