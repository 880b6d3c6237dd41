// Per-message actions in the transcript: copy (any message), edit and
// resend (the user's), regenerate and read aloud (hers), and the ‹ 1/2 ›
// switch between the versions an edit or a regeneration left. Methods of the
// Chat view (views/chat.js, through chat-transcript.js); `this` is the Chat.
//
// An edit or a regeneration is a turn like a sent message (frames `edit` and
// `regenerate` on the turn stream); when it ends the conversation is read
// again, so the transcript shows the new path and each message's versions.

import { h, icon, announce } from '../dom.js';
import { api, csrf } from '../api.js';

function actionButton(name, label, cls) {
  return h('button', { type: 'button', class: `msg-act ${cls}`, 'aria-label': label, title: label }, icon(name), h('span', { class: 'msg-act-label', text: label }));
}

function setLabel(btn, label) {
  btn.setAttribute('aria-label', label);
  btn.title = label;
  btn.querySelector('.msg-act-label').textContent = label;
}

// Copies through a hidden text area, for browsers without the clipboard API
// (or pages that are not a secure context).
function copyByCommand(text) {
  const ta = h('textarea', { class: 'sr-only', 'aria-hidden': 'true', readOnly: true });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  ta.remove();
  return ok;
}

export const actionMethods = {
  // renderActions gives a stored message its action bar (replacing any).
  renderActions(el, m) {
    for (const old of el.querySelectorAll(':scope > .msg-actions')) old.remove();
    const role = el.dataset.role;
    const status = m.status || 'complete';
    if (!m.id || role === 'tool' || status === 'streaming' || status === 'sending' || status === 'queued') return;
    if (role === 'assistant' && el.classList.contains('tools-only')) return;
    const bar = h('div', { class: 'msg-actions', role: 'toolbar', 'aria-label': 'Message actions' });
    if (m.branch && m.branch.count > 1) bar.append(this.branchNav(m.branch));
    const copy = actionButton('copy', 'Copy', 'msg-copy');
    copy.addEventListener('click', () => this.copyMessage(el, copy));
    bar.append(copy);
    if (role === 'user') {
      const edit = actionButton('pencil', 'Edit', 'msg-edit');
      edit.addEventListener('click', () => this.startEdit(el));
      bar.append(edit);
    } else {
      const again = actionButton('retry', 'Regenerate', 'msg-regenerate');
      again.addEventListener('click', () => this.regenerate(el));
      const speak = actionButton('speaker', 'Read aloud', 'msg-speak');
      speak.addEventListener('click', () => this.readAloud(el, speak));
      bar.append(again, speak);
    }
    el.append(bar);
  },

  branchNav(b) {
    const prev = h('button', { type: 'button', class: 'branch-prev', 'aria-label': 'Previous version', title: 'Previous version', text: '‹', disabled: !b.prev_id });
    const next = h('button', { type: 'button', class: 'branch-next', 'aria-label': 'Next version', title: 'Next version', text: '›', disabled: !b.next_id });
    prev.addEventListener('click', () => this.showVersion(b.prev_id));
    next.addEventListener('click', () => this.showVersion(b.next_id));
    return h('span', { class: 'branch-nav', role: 'group', 'aria-label': `Version ${b.index} of ${b.count}` },
      prev, h('span', { class: 'branch-pos', text: `${b.index}/${b.count}` }), next);
  },

  // busyForBranch says why a branch action must wait; true when it must.
  busyForBranch() {
    if (!this.convId || !this.isRunning()) return false;
    this.showComposerError('Wait until she has finished (or stop her reply) before changing the conversation.');
    return true;
  },

  async copyMessage(el, btn) {
    const text = el._raw || '';
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch {
      ok = copyByCommand(text);
    }
    clearTimeout(btn._timer);
    btn.dataset.copied = ok ? 'true' : 'false';
    setLabel(btn, ok ? 'Copied' : "Couldn't copy");
    announce(ok ? 'Copied.' : "Couldn't copy; select the text and copy it yourself.");
    btn._timer = setTimeout(() => { delete btn.dataset.copied; setLabel(btn, 'Copy'); }, 2000);
  },

  // ---- edit and regenerate ---------------------------------------------------

  startEdit(el) {
    if (this.busyForBranch() || el.querySelector('.msg-edit-form')) return;
    const bubble = el.querySelector('.msg-bubble');
    const bar = el.querySelector('.msg-actions');
    const ta = h('textarea', { class: 'msg-edit-input', 'aria-label': 'Edit your message', rows: 3 });
    ta.value = el._raw || '';
    const send = h('button', { type: 'submit', class: 'btn small msg-edit-send', text: 'Send' });
    const cancel = h('button', { type: 'button', class: 'btn secondary small msg-edit-cancel', text: 'Cancel' });
    const form = h('form', { class: 'msg-edit-form', 'aria-label': 'Edit your message' }, ta, h('div', { class: 'row tight' }, send, cancel));
    const close = () => {
      form.remove();
      bubble.hidden = false;
      if (bar) bar.hidden = false;
    };
    cancel.addEventListener('click', close);
    ta.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { e.preventDefault(); close(); }
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = ta.value;
      if (!text.trim()) return;
      if (text === el._raw) { close(); return; }
      if (this.busyForBranch()) return;
      this.sendEdit(el, text);
    });
    bubble.hidden = true;
    if (bar) bar.hidden = true;
    el.append(form);
    ta.focus();
  },

  // cutFrom removes el and everything after it from the transcript.
  cutFrom(el) {
    this.clearRetry();
    while (el) {
      const next = el.nextElementSibling;
      if (el.dataset && el.dataset.id) this.msgEls.delete(el.dataset.id);
      if (el.dataset && el.dataset.status !== 'queued') el.remove();
      el = next;
    }
  },

  sendEdit(el, text) {
    const id = el.dataset.id;
    this.cutFrom(el);
    const pending = this.appendMessage({ role: 'user', content: text, status: 'sending', id: '' }, false);
    pending.dataset.pending = 'true';
    this.lastSent = text;
    this.startBranchTurn({ type: 'edit', conversation_id: this.convId, message_id: id, text });
  },

  regenerate(el) {
    if (this.busyForBranch()) return;
    // Her reply may span several messages (tool rounds): everything after
    // the question goes.
    let first = el;
    for (let p = el.previousElementSibling; p; p = p.previousElementSibling) {
      if (p.classList.contains('msg') && p.dataset.role === 'user') break;
      first = p;
    }
    const id = el.dataset.id;
    this.cutFrom(first);
    this.startBranchTurn({ type: 'regenerate', conversation_id: this.convId, message_id: id });
  },

  startBranchTurn(frame) {
    this.stopReading();
    this.hideComposerError();
    this.branchTurn = this.convId;
    this.running.add(this.convId);
    this.updateComposer();
    this.scrollToBottom(true);
    this.ctx.stream.send(frame);
  },

  async showVersion(id) {
    if (!id || this.busyForBranch()) return;
    const convId = this.convId;
    try {
      const data = await api.post(`/api/conversations/${encodeURIComponent(convId)}/messages/${encodeURIComponent(id)}/show`, {});
      if (this.convId !== convId) return;
      this.stopReading();
      this.renderHistory(data);
      const el = this.msgEls.get(id);
      const nav = el && el.querySelector('.branch-nav');
      if (nav) announce(nav.getAttribute('aria-label'));
    } catch (ex) {
      this.showComposerError(ex.message);
    }
  },

  // afterEvent runs after the Chat has handled a turn event: when an edit
  // or a regeneration ends the conversation is read again (the versions
  // changed), then a queued message goes out.
  async afterEvent(ev) {
    if (ev.type === 'conversation' && ev.conversation && ev.conversation.id === this.convId) {
      // Messages queued behind a first message belong to the conversation it made.
      for (const q of this.queue || []) if (q.convId === '') q.convId = this.convId;
    }
    if (ev.type !== 'turn_done' && ev.type !== 'error') return;
    const cid = ev.conversation_id || this.convId;
    if (this.branchTurn && cid === this.branchTurn && !this.running.has(cid)) {
      this.branchTurn = null;
      if (this.mine(cid)) await this.open(cid, true);
    }
    if (ev.type === 'turn_done') this.flushQueue();
  },

  // ---- read aloud ------------------------------------------------------------

  async readAloud(el, btn) {
    if (this.reading && this.reading.el === el) { this.stopReading(); return; }
    this.stopReading();
    const convId = this.convId;
    const reading = { el, btn, audio: null, url: '' };
    this.reading = reading;
    btn.dataset.state = 'loading';
    setLabel(btn, 'Stop reading');
    btn.setAttribute('aria-pressed', 'true');
    let res;
    try {
      res = await fetch(`/api/conversations/${encodeURIComponent(convId)}/messages/${encodeURIComponent(el.dataset.id)}/speak`, {
        method: 'POST', credentials: 'same-origin', cache: 'no-store',
        headers: { Accept: 'audio/wav, application/json', 'X-CSRF-Token': csrf() },
      });
    } catch {
      res = null;
    }
    if (this.reading !== reading) return; // stopped meanwhile
    if (!res || !res.ok) {
      let msg = "Couldn't read this aloud. Check that os1 is running, then try again.";
      if (res) { try { msg = (await res.json()).error.message || msg; } catch { /* not JSON */ } }
      this.stopReading();
      this.showComposerError(msg);
      return;
    }
    const blob = await res.blob();
    if (this.reading !== reading) return;
    reading.url = URL.createObjectURL(blob);
    reading.audio = new Audio(reading.url);
    reading.audio.addEventListener('ended', () => { if (this.reading === reading) this.stopReading(); });
    btn.dataset.state = 'playing';
    try {
      await reading.audio.play();
    } catch {
      if (this.reading === reading) {
        this.stopReading();
        this.showComposerError("Your browser didn't play the audio.");
      }
    }
  },

  stopReading() {
    const r = this.reading;
    if (!r) return;
    this.reading = null;
    if (r.audio) { r.audio.pause(); r.audio.src = ''; }
    if (r.url) URL.revokeObjectURL(r.url);
    delete r.btn.dataset.state;
    r.btn.removeAttribute('aria-pressed');
    setLabel(r.btn, 'Read aloud');
  },
};
