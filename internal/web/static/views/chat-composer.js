// The chat's composer: the message box, its size, sending, stopping, and
// the message limit the server reports (GET /api/status `limits`). Methods
// of the Chat view (views/chat.js); `this` is the Chat.
//
// The box stays open while she replies. A message sent then waits its turn
// (shown as queued in the transcript, removable until it goes out) or
// interrupts her: the running reply is stopped and the message goes as soon
// as the turn has ended. Which one is this browser's choice in Settings
// (localStorage WHILE_REPLYING_KEY; the server keeps no per-user preferences),
// read at each send. The server never runs two turns of one conversation at
// once (a second send is refused with "conflict"), so the queue waits for
// turn_done, when the server's turn lock is already free.

import { h, icon, isTouch } from '../dom.js';

export const WHILE_REPLYING_KEY = 'os1.whileReplying';

// whileReplying is 'queue' (the default) or 'interrupt'.
export function whileReplying() {
  try { return localStorage.getItem(WHILE_REPLYING_KEY) === 'interrupt' ? 'interrupt' : 'queue'; } catch { return 'queue'; }
}

// The server's limit when /api/status did not say (older servers).
const DEFAULT_MESSAGE_BYTES = 1024 * 1024;

function fmtBytes(n) {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(2)} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} bytes`;
}

export const composerMethods = {
  // The longest message the server takes, in UTF-8 bytes.
  messageLimit() {
    const l = this.ctx.state.status && this.ctx.state.status.limits;
    return (l && l.message_bytes) || DEFAULT_MESSAGE_BYTES;
  },

  // ---- composer -------------------------------------------------------------

  isRunning() { return this.running.has(this.convId || ''); },

  updateComposer() {
    const running = this.isRunning();
    // Text or a file is something to send (chat-attach.js).
    const typed = !!this.composer.value.trim() || this.hasAttachments();
    this.composer.disabled = false;
    this.sendBtn.hidden = running && !typed;
    this.stopBtn.hidden = !running;
    this.stopBtn.disabled = running && !this.convId;
    this.sendBtn.disabled = !typed;
    const label = !running ? 'Send' : whileReplying() === 'interrupt' ? 'Send now (stops her reply)' : 'Send when she has finished';
    this.sendBtn.setAttribute('aria-label', label);
    this.sendBtn.title = label;
    this.form.classList.toggle('running', running);
  },

  focusComposer(always = false) {
    if (!always && isTouch()) return;
    if (this.composer.disabled) return;
    requestAnimationFrame(() => this.composer.focus({ preventScroll: true }));
  },

  autosize() {
    const c = this.composer;
    c.style.height = 'auto';
    c.style.height = Math.min(c.scrollHeight, Math.round(window.innerHeight * 0.4)) + 'px';
  },

  showComposerError(msg) { this.composerErr.textContent = msg; this.composerErr.hidden = false; },
  hideComposerError() { this.composerErr.hidden = true; this.composerErr.textContent = ''; },

  submit() {
    const text = this.composer.value;
    if (!text.trim() && !this.hasAttachments()) return;
    const limit = this.messageLimit();
    if (new TextEncoder().encode(text).length > limit) {
      this.showComposerError(`That message is too long to send in one go (the limit is ${fmtBytes(limit)}).`);
      return;
    }
    this.hideComposerError();
    if (this.isRunning()) {
      this.enqueue(text);
      this.composer.value = '';
      this.autosize();
      this.updateComposer();
      if (whileReplying() === 'interrupt') this.cancel();
      return;
    }
    this.sendNow(text);
  },

  sendNow(text) {
    this.clearRetry();
    const convId = this.convId || '';
    if (!convId) this.pendingNew = true;
    this.running.add(convId);
    const files = this.takeAttachments(); // chat-attach.js
    const el = this.appendMessage({ role: 'user', content: text, status: 'sending', id: '', attachments: files.shown }, false);
    el.dataset.pending = 'true';
    this.lastSent = text;
    this.composer.value = '';
    this.autosize();
    this.updateComposer();
    this.scrollToBottom(true);
    if (files.frame.length) this.ctx.stream.send({ type: 'send', conversation_id: convId, text, attachments: files.frame });
    else if (!this.call.sendText(text)) this.ctx.stream.send({ type: 'send', conversation_id: convId, text });
  },

  cancel() {
    if (!this.convId || !this.isRunning()) return;
    this.stopBtn.disabled = true;
    this.ctx.stream.send({ type: 'cancel', conversation_id: this.convId });
  },

  // ---- messages sent while she replies ---------------------------------------

  enqueue(text) {
    this.queue = this.queue || [];
    this.queueSeq = (this.queueSeq || 0) + 1;
    const q = { seq: this.queueSeq, convId: this.convId || '', text, el: null };
    this.queue.push(q);
    q.el = this.queuedEl(q);
    this.messages.append(q.el);
    this.scrollToBottom(true);
  },

  queuedEl(q) {
    const el = this.messageEl({ role: 'user', content: q.text, status: 'queued', id: '' });
    el.dataset.queued = String(q.seq);
    const remove = h('button', { type: 'button', class: 'btn secondary small msg-unqueue', 'aria-label': 'Remove this queued message' }, icon('close'), h('span', { text: 'Remove' }));
    remove.addEventListener('click', () => this.unqueue(q));
    el.append(h('div', { class: 'msg-foot' }, h('span', { class: 'msg-note', text: 'Queued: sent when she has finished' }), remove));
    return el;
  },

  unqueue(q) {
    this.queue = (this.queue || []).filter((x) => x !== q);
    if (q.el) q.el.remove();
    if (!this.composer.value) { this.composer.value = q.text; this.autosize(); this.updateComposer(); }
    this.focusComposer();
  },

  // queuedHere: the open conversation's queued messages.
  queuedHere() {
    const cur = this.convId || '';
    return (this.queue || []).filter((q) => q.convId === cur);
  },

  renderQueued() {
    for (const q of this.queuedHere()) {
      q.el = this.queuedEl(q);
      this.messages.append(q.el);
    }
  },

  // flushQueue sends the oldest queued message of the open conversation once
  // no turn runs there; the rest wait for the turn that one starts.
  flushQueue() {
    if (this.isRunning() || (this.convId && this.loadedId !== this.convId)) return;
    const [q] = this.queuedHere();
    if (!q) return;
    this.queue = this.queue.filter((x) => x !== q);
    if (q.el) q.el.remove();
    this.sendNow(q.text);
  },
};
