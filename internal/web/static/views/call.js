// The voice call inside the chat view: the call button in the composer, the
// call bar (status, how speech is detected, the last turn's latency, hang
// up, errors) and the glue that shows the call's captions as messages of the
// open conversation. The call itself (socket, microphone, VAD, playback)
// is voice/call.js; this file only draws it.
//
// Captions: what the user says shows at once as a faint bubble that the
// transcript fills in; when the server stores it (user_message) the bubble
// becomes that message. Her reply streams in through the chat's own turn
// event handling, so voice and text look the same; a reply cut by a
// barge-in keeps the words that were heard and an "Interrupted" mark.

import { h, icon, announce } from '../dom.js';
import { VoiceCall } from '../voice/call.js';

// The turn events of docs/api.md: the chat view renders them as it does for text.
const TURN_EVENTS = new Set(['conversation', 'user_message', 'assistant_start', 'delta', 'tool_result',
  'action_required', 'assistant_done', 'turn_done']);

const STEPS = [
  ['end_of_turn_ms', 'End of your turn'],
  ['transcript_ms', 'Transcript'],
  ['first_token_ms', 'First word from the model'],
  ['first_audio_ms', 'First audio'],
  ['playback_start_ms', 'Playback'],
];

export class CallUI {
  /** @param {object} chat the Chat view (views/chat.js) */
  constructor(chat) {
    this.chat = chat;
    this.call = null;
    this.caption = null; // the user's live caption, until it is stored
    this.wentLive = false; // the current call reached 'live'
    const name = chat.name;

    this.button = h('button', {
      id: 'call', type: 'button', class: 'call-btn', 'aria-label': `Talk with ${name}`, title: `Talk with ${name}`, 'aria-pressed': 'false',
    }, icon('mic'));
    this.button.addEventListener('click', () => (this.active ? this.hangup() : this.start()));

    this.statusEl = h('span', { id: 'call-status', class: 'call-status', role: 'status', 'aria-live': 'polite' });
    this.modeEl = h('span', { id: 'call-mode', class: 'call-mode' });
    this.hangBtn = h('button', { id: 'hangup', type: 'button', class: 'btn danger small hangup-btn', 'aria-label': 'Hang up' },
      icon('hangup'), h('span', { text: 'Hang up' }));
    this.hangBtn.addEventListener('click', () => this.hangup());
    this.closeBtn = h('button', { id: 'call-close', type: 'button', class: 'btn ghost small', text: 'Close', hidden: true });
    this.closeBtn.addEventListener('click', () => this.hideBar());
    this.latencySum = h('span', { class: 'call-latency-sum' });
    this.latencyList = h('dl', { class: 'call-latency-list' });
    this.latency = h('details', { id: 'call-latency', class: 'call-latency', hidden: true },
      h('summary', null, this.latencySum), this.latencyList);
    this.noteEl = h('p', { id: 'call-note', class: 'call-note', hidden: true });
    this.errEl = h('p', { id: 'call-error', class: 'call-error', role: 'alert', hidden: true });
    this.bar = h('section', { id: 'call-bar', class: 'call-bar', 'aria-label': `Voice call with ${name}`, hidden: true, dataset: { state: 'idle' } },
      h('div', { class: 'call-row' },
        h('span', { class: 'call-dot', 'aria-hidden': 'true' }),
        h('div', { class: 'call-text' }, this.statusEl, this.modeEl),
        h('span', { class: 'spacer' }),
        this.hangBtn, this.closeBtn),
      this.latency, this.noteEl, this.errEl);
  }

  /** True while a call is connecting or live. */
  get active() { return !!this.call && (this.call.state === 'connecting' || this.call.state === 'live'); }

  /** The conversation the call talks in ('' for one not yet created). */
  get conversationId() { return this.call ? this.call.conversationId : ''; }

  start() {
    if (this.active) return;
    this.clearError();
    this.noteEl.hidden = true;
    this.latency.hidden = true;
    const call = new VoiceCall({
      conversationId: this.chat.convId || '',
      listener: (kind, data) => { if (this.call === call) this.onCall(kind, data); },
    });
    this.call = call;
    this.wentLive = false;
    this.bar.hidden = false;
    this.hangBtn.hidden = false;
    this.closeBtn.hidden = true;
    this.button.setAttribute('aria-pressed', 'true');
    this.button.setAttribute('aria-label', 'Hang up');
    this.button.title = 'Hang up';
    this.button.classList.add('on');
    call.start(); // synchronously creates the AudioContext, inside this click
  }

  hangup(message) {
    if (!this.call) return;
    const wasActive = this.active;
    this.call.hangup();
    this.ended();
    if (message) this.showError(message);
    else if (wasActive) { this.hideBar(); announce('Call ended.'); }
  }

  /** sendText routes a typed message through the live call; false when there is none. */
  sendText(text) { return !!this.call && this.call.sendText(text); }

  /** The chat opened conversation id: a call in another conversation ends. */
  opened(id) {
    if (this.active && (id || '') !== this.call.conversationId) {
      this.hangup('The call ended because another conversation was opened.');
    }
  }

  destroy() {
    if (this.call) this.call.hangup();
    this.call = null;
  }

  // ---- call reports ----------------------------------------------------------

  onCall(kind, data) {
    switch (kind) {
      case 'status': this.renderStatus(data); break;
      case 'error':
        this.showError(data.message);
        if (data.fatal) this.ended();
        break;
      case 'barge_in': {
        const el = this.chat.msgEls.get(data.message_id);
        if (el) el.dataset.bargeIn = 'true';
        break;
      }
      case 'event': this.onEvent(data); break;
      default: break;
    }
  }

  renderStatus({ state, activity, vad, note }) {
    const name = this.chat.name;
    if (state === 'live') this.wentLive = true;
    this.bar.dataset.state = state;
    this.bar.dataset.activity = activity;
    this.bar.dataset.vad = vad || '';
    let text = this.wentLive ? 'Call ended' : 'The call could not start';
    if (state === 'connecting') text = 'Connecting…';
    else if (state === 'live') {
      text = {
        listening: 'Listening',
        user: 'Hearing you…',
        thinking: `${name} is thinking…`,
        speaking: `${name} is speaking`,
      }[activity] || 'Listening';
    }
    this.statusEl.textContent = text;
    const stats = this.call ? this.call.stats : {};
    const engines = [stats.stt, stats.tts].filter(Boolean).join(' · ');
    this.modeEl.textContent = vad === 'client' ? 'Voice detection in this browser'
      : vad === 'server' ? 'Voice detection on the server' : '';
    this.modeEl.title = engines ? `Speech engines: ${engines}` : '';
    if (note) { this.noteEl.textContent = note; this.noteEl.hidden = false; }
  }

  onEvent(ev) {
    const chat = this.chat;
    switch (ev.type) {
      case 'ready':
        if (ev.conversation_id) this.adopt(ev.conversation_id);
        announce(`Call with ${chat.name} started.`);
        return;
      case 'transcript':
        this.showCaption(ev.text || '', !!ev.final);
        return;
      case 'interrupted': {
        const el = chat.msgEls.get(ev.message_id);
        if (el) {
          chat.setText(el, ev.heard || '', true);
          chat.decorate(el, { status: 'interrupted' });
        }
        return;
      }
      case 'timeline':
        this.renderLatency(ev);
        return;
      case 'error':
        if (ev.conversation_id) {
          this.dropCaption();
          chat.onEvent(ev);
        } else {
          this.showError((ev.error && ev.error.message) || 'Something went wrong in the call.');
          if (ev.error && ev.error.code === 'stt_failed') this.dropCaption();
        }
        return;
      default:
        break;
    }
    if (!TURN_EVENTS.has(ev.type)) return;
    if (ev.type === 'conversation' && ev.conversation && ev.conversation.id) this.adopt(ev.conversation.id);
    if (ev.type === 'user_message' && this.adoptCaption(ev.message)) return;
    chat.onEvent(ev);
  }

  // adopt makes a call that started without a conversation show the one
  // the server created, as sending a first message does.
  adopt(id) {
    const chat = this.chat;
    if (chat.convId) return;
    chat.convId = id;
    chat.loadedId = id;
    chat.pendingNew = false;
    chat.ctx.replace('#/c/' + encodeURIComponent(id));
    chat.loadConversations().then(() => chat.markCurrent());
  }

  showCaption(text, final) {
    const chat = this.chat;
    if (!text.trim()) return;
    if (!this.caption || !this.caption.isConnected) {
      this.caption = chat.appendMessage({ role: 'user', content: '', status: 'sending', id: '' });
      this.caption.dataset.voice = 'caption';
    }
    chat.setText(this.caption, text, false);
    this.caption.dataset.final = String(final);
    chat.maybeScroll();
  }

  adoptCaption(m) {
    const chat = this.chat;
    const el = this.caption;
    this.caption = null;
    if (!m || !el || !el.isConnected || !chat.mine(m.conversation_id) || chat.msgEls.has(m.id)) {
      if (el && el.isConnected && m && chat.msgEls.has(m.id)) el.remove();
      return false;
    }
    delete el.dataset.voice;
    delete el.dataset.final;
    el.dataset.id = m.id;
    chat.msgEls.set(m.id, el);
    chat.setText(el, m.content || '', false);
    chat.decorate(el, m);
    return true;
  }

  dropCaption() {
    if (this.caption && this.caption.isConnected) this.caption.remove();
    this.caption = null;
  }

  renderLatency(t) {
    const rows = [h('dt', { text: 'You stopped speaking' }), h('dd', { text: '0 ms' })];
    for (const [key, label] of STEPS) {
      const v = t[key];
      rows.push(h('dt', { text: label }), h('dd', { dataset: { step: key }, text: Number.isFinite(v) ? `+${Math.round(v)} ms` : '—' }));
    }
    this.latencyList.replaceChildren(...rows);
    const total = Number.isFinite(t.playback_start_ms) ? t.playback_start_ms : t.first_audio_ms;
    this.latencySum.textContent = Number.isFinite(total)
      ? `Last turn: ${formatMs(total)} to ${this.chat.name}'s voice`
      : 'Last turn timing';
    this.latency.hidden = false;
  }

  // ---- bar state ---------------------------------------------------------------

  ended() {
    this.dropCaption();
    // Events of a turn still running in the call are lost with its socket:
    // stop waiting for them and show what the server stored instead.
    const chat = this.chat;
    const id = chat.convId;
    if (id && chat.running.has(id) && !chat.httpTurns.has(id)) {
      chat.running.delete(id);
      chat.updateComposer();
      chat.open(id, true);
    }
    this.button.setAttribute('aria-pressed', 'false');
    this.button.setAttribute('aria-label', `Talk with ${this.chat.name}`);
    this.button.title = `Talk with ${this.chat.name}`;
    this.button.classList.remove('on');
    this.hangBtn.hidden = true;
    this.closeBtn.hidden = false;
    this.bar.dataset.state = 'ended';
    this.statusEl.textContent = this.wentLive ? 'Call ended' : 'The call could not start';
  }

  hideBar() {
    this.bar.hidden = true;
    this.clearError();
  }

  showError(msg) {
    this.bar.hidden = false;
    this.errEl.textContent = msg;
    this.errEl.hidden = false;
  }

  clearError() {
    this.errEl.hidden = true;
    this.errEl.textContent = '';
  }
}

function formatMs(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
