// A wake-up call rings like a phone call (docs/reminders.md). When a
// wake-up fires, os1's turn carries the reason "Wake-up call: …" and
// reminder-alert.js hands it here: the page shows an incoming-call screen
// and rings (a Web Audio ring, repeated until answered, snoozed or
// dismissed, for at most RING_MS). Answer asks the server to start the
// morning briefing (POST /api/reminders/{id}/answer: the server builds it
// from the calendar, reminders and mail, and starts her turn with the reason
// "Wake-up call answered: …"); the page opens that conversation and, when
// her reply is stored, plays it with os1's own voice (the read-aloud
// endpoint), or the browser's speech when the server has no voice. "Keep
// talking" then starts a voice call in that conversation.

import { h, announce } from './dom.js';
import { api, csrf } from './api.js';

export const WAKE_PREFIX = /^Wake-up call: /;
export const ANSWER_PREFIX = 'Wake-up call answered: ';
const RING_EVERY_MS = 3000;
const RING_MS = 60000;
const SNOOZE_MIN = 10;
const enc = encodeURIComponent;

let current = null; // the call on screen

/** ring shows the incoming-call screen for the wake-up line and rings. */
export function ring(line, convId) {
  if (current) current.close();
  current = new WakeupCall(line, convId);
}

/** onTurnEvent plays the answered wake-up's reply when it is stored. */
export function onTurnEvent(ev) {
  if (current) current.onEvent(ev);
}

/** hangUpAll removes the screen (signed out). */
export function hangUpAll() {
  if (current) current.close();
}

class WakeupCall {
  constructor(line, convId) {
    this.line = line;
    this.convId = convId;
    this.reminderId = '';
    this.found = this.findReminder();
    this.reason = '';
    this.answeredConv = '';
    this.replies = []; // replies of answered wake-ups seen so far
    this.audio = null;
    this.url = '';

    this.status = h('p', { id: 'wakeup-status', class: 'wakeup-status', role: 'status', 'aria-live': 'polite', text: 'Incoming wake-up call' });
    this.text = h('p', { id: 'wakeup-text', class: 'wakeup-text', text: line.replace(WAKE_PREFIX, '') });
    this.err = h('p', { id: 'wakeup-error', class: 'call-error', role: 'alert', hidden: true });
    this.answerBtn = h('button', { id: 'wakeup-answer', type: 'button', class: 'btn wakeup-answer', text: 'Answer' });
    this.snoozeBtn = h('button', { id: 'wakeup-snooze', type: 'button', class: 'btn secondary', text: `Snooze ${SNOOZE_MIN} min` });
    this.dismissBtn = h('button', { id: 'wakeup-dismiss', type: 'button', class: 'btn ghost', text: 'Dismiss' });
    this.talkBtn = h('button', { id: 'wakeup-talk', type: 'button', class: 'btn', text: 'Keep talking', hidden: true });
    this.hangBtn = h('button', { id: 'wakeup-hangup', type: 'button', class: 'btn danger', text: 'Hang up', hidden: true });
    this.el = h('div', { id: 'wakeup-call', class: 'wakeup-call', role: 'alertdialog', 'aria-modal': 'true',
      'aria-labelledby': 'wakeup-status', 'aria-describedby': 'wakeup-text', dataset: { state: 'ringing' } },
    h('div', { class: 'wakeup-card' },
      h('div', { class: 'wakeup-pulse', 'aria-hidden': 'true' }),
      this.status, this.text, this.err,
      h('div', { class: 'row wakeup-actions' }, this.answerBtn, this.snoozeBtn, this.dismissBtn, this.talkBtn, this.hangBtn)));
    this.answerBtn.addEventListener('click', () => this.answer());
    this.snoozeBtn.addEventListener('click', () => this.snooze());
    this.dismissBtn.addEventListener('click', () => this.close());
    this.hangBtn.addEventListener('click', () => this.close());
    this.talkBtn.addEventListener('click', () => this.keepTalking());
    document.body.append(this.el);
    this.answerBtn.focus();

    // Signing out removes the reminder banners (app.js): the call goes with them.
    this.watch = setInterval(() => { if (!document.getElementById('reminder-banners')) this.close(); }, 1000);
    this.rings = 0;
    this.ringOnce();
    this.timer = setInterval(() => this.ringOnce(), RING_EVERY_MS);
    this.stopAt = setTimeout(() => this.missed(), RING_MS);
  }

  // findReminder finds the wake-up that rang: the user's latest wake-up
  // call that has fired (its turn is what reached this page).
  async findReminder() {
    try {
      const res = await api.get('/api/reminders?all=1');
      const rung = (res.reminders || []).filter((r) => r.wake && (r.state === 'running' || r.state === 'done'));
      rung.sort((a, b) => String(b.fired_at || b.due).localeCompare(String(a.fired_at || a.due)));
      this.reminderId = rung.length ? rung[0].id : '';
    } catch { this.reminderId = ''; }
    return this.reminderId;
  }

  ringOnce() {
    this.rings += 1;
    window.dispatchEvent(new CustomEvent('os1:ring', { detail: { line: this.line, rings: this.rings } }));
    try {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) return;
      if (!this.ac) this.ac = new AC();
      const ac = this.ac;
      const t = ac.currentTime;
      // Two short bursts of a dual tone, as a phone rings.
      for (const start of [0, 0.5]) {
        for (const f of [440, 480]) {
          const o = ac.createOscillator();
          const g = ac.createGain();
          o.frequency.value = f;
          g.gain.setValueAtTime(0.0001, t + start);
          g.gain.exponentialRampToValueAtTime(0.12, t + start + 0.03);
          g.gain.setValueAtTime(0.12, t + start + 0.35);
          g.gain.exponentialRampToValueAtTime(0.0001, t + start + 0.4);
          o.connect(g).connect(ac.destination);
          o.start(t + start);
          o.stop(t + start + 0.42);
        }
      }
    } catch { /* no sound is not an error */ }
  }

  stopRinging() {
    clearInterval(this.timer);
    clearTimeout(this.stopAt);
    this.timer = null;
  }

  missed() {
    this.stopRinging();
    this.el.dataset.state = 'missed';
    this.status.textContent = 'Missed wake-up call';
    this.answerBtn.hidden = true;
    this.dismissBtn.textContent = 'Close';
  }

  showError(msg) {
    this.err.textContent = msg;
    this.err.hidden = false;
  }

  async answer() {
    this.stopRinging();
    this.el.dataset.state = 'connecting';
    this.el.setAttribute('aria-modal', 'false'); // a card now: the conversation behind it is hers
    this.status.textContent = 'Connecting…';
    this.answerBtn.hidden = true;
    this.snoozeBtn.hidden = true;
    this.dismissBtn.hidden = true;
    this.hangBtn.hidden = false;
    // Made inside the click, so the reply may be played when it comes.
    this.audio = new Audio();
    const id = this.reminderId || await this.found;
    if (!id) {
      this.showError('This wake-up call could not be found any more.');
      return;
    }
    let ans;
    try {
      ans = await api.post(`/api/reminders/${enc(id)}/answer`, { conversation_id: this.convId || '' });
    } catch (ex) {
      this.showError(ex.message);
      this.el.dataset.state = 'failed';
      this.status.textContent = 'The call could not start';
      return;
    }
    this.reason = ans.reason || '';
    this.answeredConv = ans.conversation_id || '';
    this.el.dataset.state = 'live';
    this.status.textContent = 'Your morning briefing is coming…';
    announce('Wake-up call answered.');
    if (this.answeredConv) location.hash = `#/c/${enc(this.answeredConv)}`;
    this.match();
  }

  // onEvent keeps the answered turns' replies: one may be stored before
  // the answer's own response arrives.
  onEvent(ev) {
    if (ev.type !== 'assistant_done' || !ev.message || typeof ev.message.reason !== 'string') return;
    if (!ev.message.reason.startsWith(ANSWER_PREFIX)) return;
    this.replies.push(ev.message);
    this.match();
  }

  match() {
    if (!this.reason) return;
    const m = this.replies.find((x) => x.reason === this.reason && (!this.answeredConv || x.conversation_id === this.answeredConv));
    if (!m) return;
    this.reason = ''; // once
    this.replies = [];
    this.speak(m);
  }

  async speak(m) {
    this.el.dataset.state = 'speaking';
    this.status.textContent = 'Speaking';
    window.dispatchEvent(new CustomEvent('os1:briefing', { detail: { text: m.content || '' } }));
    let res = null;
    try {
      res = await fetch(`/api/conversations/${enc(m.conversation_id)}/messages/${enc(m.id)}/speak`, {
        method: 'POST', credentials: 'same-origin', cache: 'no-store',
        headers: { Accept: 'audio/wav, application/json', 'X-CSRF-Token': csrf() },
      });
    } catch { res = null; }
    if (res && res.ok) {
      this.url = URL.createObjectURL(await res.blob());
      this.audio.src = this.url;
      this.audio.addEventListener('ended', () => this.done(), { once: true });
      try { await this.audio.play(); return; } catch { /* fall back to the browser's voice */ }
    }
    try {
      if (window.speechSynthesis && m.content) {
        const u = new SpeechSynthesisUtterance(m.content);
        u.onend = () => this.done();
        window.speechSynthesis.speak(u);
        return;
      }
    } catch { /* shown only */ }
    this.done();
  }

  done() {
    if (!this.el.isConnected) return;
    this.el.dataset.state = 'done';
    this.status.textContent = 'Briefing done';
    this.talkBtn.hidden = false;
    this.hangBtn.textContent = 'Close';
  }

  keepTalking() {
    this.close();
    const call = document.getElementById('call');
    if (call && call.getAttribute('aria-pressed') !== 'true') call.click();
  }

  async snooze() {
    this.stopRinging();
    const id = this.reminderId || await this.found;
    try {
      if (!id) throw new Error('This wake-up call could not be found any more.');
      const r = await api.post(`/api/reminders/${enc(id)}/snooze`, { minutes: SNOOZE_MIN });
      announce(`Snoozed until ${r.local}.`);
      window.dispatchEvent(new CustomEvent('os1:reminder', { detail: { line: this.line } }));
      this.close();
    } catch (ex) {
      this.showError(ex.message);
    }
  }

  close() {
    this.stopRinging();
    clearInterval(this.watch);
    if (this.audio) { this.audio.pause(); this.audio.removeAttribute('src'); }
    if (this.url) URL.revokeObjectURL(this.url);
    try { if (window.speechSynthesis) window.speechSynthesis.cancel(); } catch { /* none */ }
    try { if (this.ac) this.ac.close(); } catch { /* closed */ }
    this.el.remove();
    if (current === this) current = null;
  }
}
