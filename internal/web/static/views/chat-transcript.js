// The chat's transcript: opening a conversation, rendering its messages,
// streaming deltas into them, action cards, failures with Retry, and
// scrolling; per-message actions and versions are in chat-actions.js.
// Methods of the Chat view (views/chat.js); `this` is the Chat.

import { h, icon, announce } from '../dom.js';
import { api } from '../api.js';
import { renderText } from '../markdown.js';
import { actionMethods } from './chat-actions.js';

export const transcriptMethods = {
  ...actionMethods,

  // ---- opening a conversation ----------------------------------------------

  async open(id, force = false) {
    id = id || null;
    this.closeDrawer(false);
    if (!force && id && id === this.convId && this.loadedId === id) return;
    this.call.opened(id);
    if (id !== this.convId) this.stopReading();
    this.convId = id;
    this.pendingNew = false;
    this.running.delete('');
    this.loadedId = null;
    const seq = ++this.loadSeq;
    clearTimeout(this.pollTimer);
    this.markCurrent();
    this.msgEls.clear();
    this.toolNames.clear();
    this.hideComposerError();
    this.updateComposer();
    if (!id) {
      this.renderEmpty();
      this.focusComposer();
      return;
    }
    const loading = setTimeout(() => {
      if (seq === this.loadSeq) this.messages.replaceChildren(h('p', { class: 'loading', text: 'Loading…' }));
    }, 250);
    try {
      const data = await api.get(`/api/conversations/${encodeURIComponent(id)}`);
      if (seq !== this.loadSeq) return;
      this.loadedId = id;
      if (data.conversation) this.upsertConvQuiet(data.conversation);
      this.renderHistory(data);
      this.focusComposer();
    } catch (ex) {
      if (seq !== this.loadSeq) return;
      const box = h('div', { class: 'notice', role: 'alert' }, h('p', { text: ex.status === 404 ? "That conversation doesn't exist anymore." : ex.message }));
      if (ex.status === 404) box.append(h('a', { class: 'btn secondary', href: '#/', text: 'Start a new conversation' }));
      else {
        const again = h('button', { type: 'button', class: 'btn secondary', text: 'Try again' });
        again.addEventListener('click', () => this.open(id, true));
        box.append(again);
      }
      this.messages.replaceChildren(box);
    } finally {
      clearTimeout(loading);
    }
  },

  upsertConvQuiet(c) {
    const i = this.conversations.findIndex((x) => x.id === c.id);
    if (i >= 0) this.conversations[i] = { ...this.conversations[i], ...c };
  },

  renderEmpty() {
    this.messages.replaceChildren(h('div', { class: 'empty fade-in' },
      h('div', { class: 'orb small', 'aria-hidden': 'true' }),
      h('p', { class: 'empty-title', text: this.name }),
      h('p', { class: 'empty-sub', text: "Start a conversation. Whatever's on your mind." })));
  },

  renderHistory(data) {
    const keepScroll = this.stick ? null : this.scroller.scrollTop;
    this.messages.replaceChildren();
    this.msgEls.clear();
    const msgs = data.messages || [];
    const actions = (data.pending_actions || []).filter((a) => a.status === 'pending' || !a.status);
    if (!msgs.length && !actions.length) this.renderEmpty();
    for (const m of msgs) this.appendMessage(m, false);
    for (const a of actions) this.appendAction(a, false);
    const last = msgs[msgs.length - 1];
    const id = this.convId;
    if (last && last.status === 'streaming') {
      this.running.add(id);
      this.poll(id);
    } else if (!this.running.has(id) && !actions.length && last) {
      if (last.status === 'failed') this.addRetry(this.msgEls.get(last.id));
      else if (last.role === 'user') this.showTurnError(`${this.name} hasn't answered this yet.`, true);
    }
    this.renderQueued();
    this.updateComposer();
    if (keepScroll == null) this.scrollToBottom(true);
    else this.scroller.scrollTop = keepScroll;
    this.flushQueue();
  },

  // A turn is running that this page is not receiving events for (it was
  // reloaded mid-turn): follow it by polling until it settles.
  poll(id, tries = 0) {
    clearTimeout(this.pollTimer);
    if (tries > 90) return;
    this.pollTimer = setTimeout(async () => {
      if (this.convId !== id) return;
      let data;
      try { data = await api.get(`/api/conversations/${encodeURIComponent(id)}`); } catch { this.poll(id, tries + 1); return; }
      if (this.convId !== id) return;
      const msgs = data.messages || [];
      const last = msgs[msgs.length - 1];
      if (last && last.status === 'streaming') {
        const el = this.msgEls.get(last.id);
        const live = el && el._lastDelta && Date.now() - el._lastDelta < 10000; // deltas are arriving: they are newer
        if (el && !live && el._raw !== (last.content || '')) this.setText(el, last.content || '', true);
        else if (!el) this.renderHistory(data);
        this.poll(id, tries + 1);
      } else {
        this.running.delete(id);
        this.renderHistory(data);
        this.refreshListSoon();
      }
    }, 2000);
  },

  // ---- messages -------------------------------------------------------------

  appendMessage(m, scroll = true) {
    const empty = this.messages.querySelector('.empty');
    if (empty) empty.remove();
    const el = this.messageEl(m);
    // Continue goes on from the last reply only (decorateThought).
    for (const b of this.messages.querySelectorAll('.msg-continue')) b.remove();
    this.messages.append(el);
    if (m.id) this.msgEls.set(m.id, el);
    if (scroll) this.maybeScroll();
    return el;
  },

  messageEl(m) {
    const role = m.role === 'user' || m.role === 'tool' ? m.role : 'assistant';
    const el = h('div', { class: 'msg', dataset: { role, status: m.status || 'complete', id: m.id || '' } });
    const text = h('div', { class: 'msg-text' });
    if (role === 'tool') {
      const callName = this.toolNames.get(m.tool_call_id);
      el.append(h('details', { class: 'tool-details' },
        h('summary', null, icon('tool'), h('span', { text: callName ? `Result from ${callName}` : 'Tool result' })),
        text));
      text.textContent = m.content || '';
    } else {
      if (role === 'assistant') el.append(h('div', { class: 'msg-author', text: this.name }));
      el.append(h('div', { class: 'msg-bubble' }, text));
      this.setText(el, m.content || '', role === 'assistant');
      if (role === 'user') this.appendAttachmentChips(el, m); // chat-attach.js
      if (role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length) {
        for (const call of m.tool_calls) if (call && call.id) this.toolNames.set(call.id, call.name);
        const names = m.tool_calls.map((c) => c && c.name).filter(Boolean).join(', ');
        el.append(h('div', { class: 'msg-tools' }, icon('tool'), h('span', { text: `${this.name} called ${names || 'a tool'}` })));
        if (!m.content) el.classList.add('tools-only');
      }
    }
    this.decorate(el, m);
    return el;
  },

  setText(el, content, rich) {
    const t = el.querySelector('.msg-text');
    clearTimeout(el._timer);
    el._timer = 0;
    el._raw = content;
    if (rich) renderText(t, content);
    else t.textContent = content;
  },

  // Each delta is shown as it arrives; when deltas come faster than every
  // 30 ms they are coalesced into one render. (Timers, not animation frames:
  // those stop in a hidden tab.) Re-rendering lets light markdown show while
  // the reply streams.
  appendDelta(el, piece) {
    if (el._raw == null) el._raw = el.querySelector('.msg-text').textContent;
    el._raw += piece;
    el._lastDelta = Date.now();
    if (el._timer) return;
    const render = () => {
      el._timer = 0;
      el._rendered = Date.now();
      renderText(el.querySelector('.msg-text'), el._raw);
      this.maybeScroll();
    };
    const wait = 30 - (Date.now() - (el._rendered || 0));
    if (wait <= 0) render();
    else el._timer = setTimeout(render, wait);
  },

  decorate(el, m) {
    for (const old of el.querySelectorAll('.msg-foot')) old.remove();
    const status = m.status || 'complete';
    el.dataset.status = status;
    if (status === 'streaming') el.setAttribute('aria-busy', 'true');
    else el.removeAttribute('aria-busy');
    if (status === 'interrupted') {
      el.append(h('div', { class: 'msg-foot' }, h('span', { class: 'msg-note', text: 'Interrupted' })));
    } else if (status === 'failed') {
      el.append(h('div', { class: 'msg-foot' }, h('span', { class: 'msg-error', text: m.error || 'This reply failed.' }), errorDetails(m.error_details)));
    }
    this.renderActions(el, m);
    this.decorateThought(el, m);
  },

  // Reasoning (issue 10): what she thought, collapsed above the reply, as
  // text only; a reply the token limit cut off offers Continue, which sends
  // a normal message asking her to go on (docs/models.md).
  decorateThought(el, m) {
    if (m.role !== 'assistant') return;
    const bubble = el.querySelector('.msg-bubble');
    let box = el.querySelector('.msg-thought');
    if (m.reasoning && bubble) {
      if (!box) { box = h('details', { class: 'msg-thought' }, h('summary'), h('div', { class: 'msg-thought-text' })); bubble.before(box); }
      const secs = Math.max(1, Math.round((m.thought_for_ms || 0) / 1000));
      // The time is known when the reply is done (assistant_done).
      box.querySelector('summary').textContent = m.status === 'streaming' && !m.thought_for_ms ? 'Thinking…' : `Thought for ${secs} s`;
      box.querySelector('.msg-thought-text').textContent = m.reasoning;
    }
    if (m.finish === 'length' && (m.status || 'complete') === 'complete') {
      const go = h('button', { type: 'button', class: 'btn secondary small msg-continue', text: 'Continue' });
      go.addEventListener('click', () => {
        if (!this.convId || this.isRunning()) return;
        go.remove();
        this.running.add(this.convId);
        this.updateComposer();
        this.ctx.stream.send({ type: 'send', conversation_id: this.convId, text: 'Please continue where you left off.' });
      });
      el.append(h('div', { class: 'msg-foot' }, h('span', { class: 'msg-note', text: 'Cut off by the length limit' }), go));
    }
  },

  updateMessage(el, m) {
    if (m.role === 'assistant') {
      const final = m.content ? m.content : (el._raw || '');
      this.setText(el, final, true);
    }
    this.decorate(el, m);
  },

  appendAction(a, scroll = true) {
    const empty = this.messages.querySelector('.empty');
    if (empty) empty.remove();
    const approve = h('button', { type: 'button', class: 'btn small action-approve', text: 'Approve' });
    const decline = h('button', { type: 'button', class: 'btn secondary small action-decline', text: 'Decline' });
    const row = h('div', { class: 'row tight action-buttons' }, approve, decline);
    const card = h('div', { class: 'action-card', role: 'group', 'aria-label': `${this.name} asks for permission`, dataset: { id: a.id, status: a.status || 'pending' } },
      h('p', { class: 'action-text' }, h('strong', { text: this.name }), ' wants to: ', h('span', { class: 'action-summary', text: a.summary || a.tool || 'do something' })),
      row);
    const answer = (yes) => {
      if (this.isRunning()) return;
      card.dataset.status = yes ? 'approved' : 'denied';
      row.replaceChildren(h('span', { class: 'action-answer', text: yes ? 'Approved' : 'Declined' }));
      this.clearRetry();
      this.running.add(a.conversation_id || this.convId);
      this.updateComposer();
      this.ctx.stream.send({ type: 'confirm', action_id: a.id, approve: yes });
    };
    approve.addEventListener('click', () => answer(true));
    decline.addEventListener('click', () => answer(false));
    this.messages.append(card);
    if (scroll) {
      this.maybeScroll();
      announce(`${this.name} wants to: ${a.summary || a.tool}. Approve or decline.`);
    }
    return card;
  },

  // ---- failures and retry ---------------------------------------------------

  clearRetry() {
    for (const b of this.messages.querySelectorAll('.msg-retry')) b.remove();
    for (const n of this.messages.querySelectorAll('.turn-error')) n.remove();
  },

  retryButton() {
    const b = h('button', { type: 'button', class: 'btn secondary small msg-retry' }, icon('retry'), h('span', { text: 'Retry' }));
    b.addEventListener('click', () => this.retry());
    return b;
  },

  addRetry(el) {
    if (!el) return;
    this.clearRetry();
    let foot = el.querySelector('.msg-foot');
    if (!foot) { foot = h('div', { class: 'msg-foot' }); el.append(foot); }
    foot.append(this.retryButton());
  },

  showTurnError(message, retry, details) {
    this.clearRetry();
    const note = h('div', { class: 'turn-error', role: 'alert' }, h('p', { class: 'turn-error-text', text: message }), errorDetails(details));
    if (retry && this.convId) note.append(this.retryButton());
    this.messages.append(note);
    this.maybeScroll();
  },

  retry() {
    if (!this.convId || this.isRunning()) return;
    this.clearRetry();
    this.running.add(this.convId);
    this.updateComposer();
    this.ctx.stream.send({ type: 'retry', conversation_id: this.convId });
  },

  // ---- scrolling ------------------------------------------------------------

  maybeScroll() {
    if (this.stick) {
      if (this.scrollFrame) return;
      this.scrollFrame = requestAnimationFrame(() => {
        this.scrollFrame = 0;
        this.scroller.scrollTop = this.scroller.scrollHeight;
      });
    } else {
      this.jump.hidden = false;
    }
  },

  scrollToBottom(force) {
    if (force) this.stick = true;
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.jump.hidden = true;
  },
};

// errorDetails is the technical text behind a failure's plain sentence,
// folded away under "Details" (text nodes only); nothing when there is none.
function errorDetails(details) {
  if (!details) return null;
  return h('details', { class: 'error-details' }, h('summary', { text: 'Details' }), h('pre', { class: 'error-details-text', text: details }));
}
