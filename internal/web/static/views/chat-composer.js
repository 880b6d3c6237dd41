// The chat's composer: the message box, its size, sending, stopping, and
// the message limit the server reports (GET /api/status `limits`). Methods
// of the Chat view (views/chat.js); `this` is the Chat.

import { isTouch } from '../dom.js';

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
    const wasDisabled = this.composer.disabled;
    this.composer.disabled = running;
    this.sendBtn.hidden = running;
    this.stopBtn.hidden = !running;
    this.stopBtn.disabled = running && !this.convId;
    this.sendBtn.disabled = !this.composer.value.trim();
    this.form.classList.toggle('running', running);
    if (wasDisabled && !running) this.focusComposer();
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
    if (!text.trim() || this.isRunning()) return;
    const limit = this.messageLimit();
    if (new TextEncoder().encode(text).length > limit) {
      this.showComposerError(`That message is too long to send in one go (the limit is ${fmtBytes(limit)}).`);
      return;
    }
    this.hideComposerError();
    this.clearRetry();
    const convId = this.convId || '';
    if (!convId) this.pendingNew = true;
    this.running.add(convId);
    const el = this.appendMessage({ role: 'user', content: text, status: 'sending', id: '' }, false);
    el.dataset.pending = 'true';
    this.lastSent = text;
    this.composer.value = '';
    this.autosize();
    this.updateComposer();
    this.scrollToBottom(true);
    if (!this.call.sendText(text)) this.ctx.stream.send({ type: 'send', conversation_id: convId, text });
  },

  cancel() {
    if (!this.convId || !this.isRunning()) return;
    this.stopBtn.disabled = true;
    this.ctx.stream.send({ type: 'cancel', conversation_id: this.convId });
  },
};
