// Chat: the conversation list, the messages of the open conversation
// (#/c/ID, or #/ for a new one) and the composer. Turns run over the turn
// stream (WebSocket); replies grow word by word from `delta` events.
// The composer's call button starts a voice call (views/call.js) whose
// captions and turn events show here like typed ones; during a call, typed
// messages go through the call and are answered aloud too.

import { h, icon, announce, when, isTouch } from '../dom.js';
import { api } from '../api.js';
import { renderText } from '../markdown.js';
import { iconButton, modelStatusLink } from './common.js';
import { CallUI } from './call.js';

const MAX_BYTES = 1024 * 1024 - 4096; // the server refuses frames over 1 MiB

export function mount(root, ctx, route) {
  const chat = new Chat(root, ctx);
  chat.open(route.id);
  return chat;
}

class Chat {
  constructor(root, ctx) {
    this.ctx = ctx;
    this.name = (ctx.state.me.persona && ctx.state.me.persona.name) || 'os1';
    this.convId = null; // the open conversation; null for a new one
    this.loadedId = null;
    this.pendingNew = false; // a first message was sent without an id
    this.running = new Set(); // conversation ids with a turn in flight ('' = new)
    this.httpTurns = new Set(); // of those, the ones streaming over HTTP (they survive a socket drop)
    this.conversations = [];
    this.msgEls = new Map();
    this.toolNames = new Map();
    this.loadSeq = 0;
    this.stick = true;
    this.editing = null;
    this.lastSent = '';
    this.build(root);
    this.offEvent = ctx.stream.on((ev) => this.onEvent(ev));
    this.offState = ctx.stream.onState((s) => this.onConn(s));
    this.loadConversations();
    ctx.refreshModel();
    document.title = `${this.name} · os1`;
  }

  // ---- layout -------------------------------------------------------------

  build(root) {
    const name = this.name;
    this.toggle = iconButton('menu', 'Show conversations', {
      id: 'nav-toggle', class: 'icon-btn nav-toggle', 'aria-controls': 'sidebar', 'aria-expanded': 'false',
    });
    this.toggle.addEventListener('click', () => (document.body.classList.contains('drawer-open') ? this.closeDrawer(true) : this.openDrawer()));

    this.connNote = h('span', { class: 'conn-note', role: 'status', hidden: true, text: 'Reconnecting…' });
    const top = h('header', { class: 'topbar' },
      this.toggle,
      h('div', { class: 'topbar-title' },
        h('img', { src: '/icon.svg', alt: '', width: 24, height: 24, class: 'brand-icon' }),
        h('span', { class: 'companion-title', text: name })),
      h('span', { class: 'spacer' }),
      this.connNote,
      modelStatusLink(this.ctx.state.model),
      h('a', { id: 'nav-settings', class: 'icon-btn', href: '#/settings', 'aria-label': 'Settings', title: 'Settings' }, icon('gear')));

    this.newBtn = h('button', { id: 'new-conversation', type: 'button', class: 'btn secondary btn-block new-conv' },
      icon('plus'), h('span', { text: 'New conversation' }));
    this.newBtn.addEventListener('click', () => this.startNew());
    this.list = h('ul', { id: 'conversations', class: 'conv-list' });
    const closeBtn = iconButton('close', 'Close conversations', { class: 'icon-btn drawer-close' });
    closeBtn.addEventListener('click', () => this.closeDrawer(true));
    this.sidebar = h('aside', { id: 'sidebar', class: 'sidebar', 'aria-label': 'Conversations' },
      h('div', { class: 'sidebar-head' }, this.newBtn, closeBtn),
      h('nav', { class: 'conv-nav', 'aria-label': 'Conversation list' }, this.list),
      h('div', { class: 'sidebar-foot' },
        h('a', { id: 'nav-memory', class: 'sidebar-link', href: '#/memory' }, h('span', { text: 'Memory' }),
          h('span', { class: 'hint', text: `What ${name} remembers` }))));
    this.scrim = h('div', { class: 'scrim', 'aria-hidden': 'true' });
    this.scrim.addEventListener('click', () => this.closeDrawer(true));

    this.messages = h('div', {
      id: 'messages', class: 'messages', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions text',
      'aria-label': `Conversation with ${name}`,
    });
    this.scroller = h('div', { class: 'scroller' }, this.messages);
    this.scroller.addEventListener('scroll', () => {
      const s = this.scroller;
      this.stick = s.scrollHeight - s.scrollTop - s.clientHeight < 56;
      if (this.stick) this.jump.hidden = true;
    }, { passive: true });
    this.jump = h('button', { type: 'button', class: 'jump', hidden: true }, icon('down'), h('span', { text: 'Newest' }));
    this.jump.addEventListener('click', () => this.scrollToBottom(true));

    this.composer = h('textarea', {
      id: 'composer', rows: 1, placeholder: `Message ${name}…`, 'aria-label': `Message to ${name}`,
      autocomplete: 'off', enterkeyhint: isTouch() ? 'enter' : 'send',
    });
    this.composer.addEventListener('input', () => { this.autosize(); this.updateComposer(); });
    this.composer.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !isTouch()) {
        e.preventDefault();
        this.submit();
      }
    });
    this.sendBtn = h('button', { id: 'send', type: 'submit', class: 'send-btn', 'aria-label': 'Send', title: 'Send' }, icon('send'));
    this.stopBtn = h('button', { id: 'stop', type: 'button', class: 'stop-btn', 'aria-label': 'Stop the reply', title: 'Stop', hidden: true }, icon('stop'));
    this.stopBtn.addEventListener('click', () => this.cancel());
    this.call = new CallUI(this);
    this.form = h('form', { class: 'composer', 'aria-label': 'Write a message' }, this.composer, this.call.button, this.stopBtn, this.sendBtn);
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
    this.composerErr = h('p', { class: 'composer-error', role: 'alert', hidden: true });

    const main = h('main', { id: 'main', class: 'chat-main' },
      this.scroller,
      this.jump,
      h('div', { class: 'composer-wrap' },
        this.call.bar,
        this.composerErr,
        this.form,
        h('p', { class: 'composer-hint', 'aria-hidden': 'true', text: 'Enter to send · Shift+Enter for a new line' })));

    this.top = top;
    this.main = main;
    this.el = h('div', { class: 'chat-layout' }, top, h('div', { class: 'chat-body' }, this.sidebar, this.scrim, main));
    root.append(this.el);

    this.onKey = (e) => {
      if (e.key === 'Escape' && document.body.classList.contains('drawer-open')) this.closeDrawer(true);
    };
    document.addEventListener('keydown', this.onKey);
    this.wide = window.matchMedia('(min-width: 50.01rem)');
    this.onWide = () => { if (this.wide.matches) this.closeDrawer(false); };
    this.wide.addEventListener('change', this.onWide);
  }

  unmount() {
    this.call.destroy();
    this.offEvent();
    this.offState();
    clearTimeout(this.listTimer);
    clearTimeout(this.pollTimer);
    clearTimeout(this.connTimer);
    document.removeEventListener('keydown', this.onKey);
    this.wide.removeEventListener('change', this.onWide);
    document.body.classList.remove('drawer-open');
  }

  update(route) { this.open(route.id); }

  openDrawer() {
    document.body.classList.add('drawer-open');
    this.main.inert = true;
    this.top.inert = true;
    this.toggle.setAttribute('aria-expanded', 'true');
    this.toggle.setAttribute('aria-label', 'Hide conversations');
    setTimeout(() => this.newBtn.focus(), 30);
  }

  closeDrawer(refocus) {
    if (!document.body.classList.contains('drawer-open')) return;
    document.body.classList.remove('drawer-open');
    this.main.inert = false;
    this.top.inert = false;
    this.toggle.setAttribute('aria-expanded', 'false');
    this.toggle.setAttribute('aria-label', 'Show conversations');
    if (refocus) this.toggle.focus();
  }

  // ---- conversations --------------------------------------------------------

  startNew() {
    this.closeDrawer(false);
    if (this.convId || this.pendingNew || location.hash !== '#/') this.ctx.go('#/');
    else this.open(null, true);
    this.focusComposer(true);
  }

  async loadConversations() {
    try {
      const res = await api.get('/api/conversations');
      this.conversations = res.conversations || [];
      this.listError = '';
    } catch (ex) {
      this.listError = ex.message;
    }
    this.renderList();
  }

  refreshListSoon() {
    clearTimeout(this.listTimer);
    this.listTimer = setTimeout(() => this.loadConversations(), 400);
  }

  upsertConv(c) {
    const i = this.conversations.findIndex((x) => x.id === c.id);
    if (i >= 0) this.conversations[i] = { ...this.conversations[i], ...c };
    else this.conversations.unshift(c);
    this.renderList();
  }

  renderList() {
    if (this.editing) return; // don't yank an open rename/delete prompt
    const items = this.conversations.map((c) => this.convItem(c));
    if (this.listError) items.push(h('li', { class: 'conv-empty', role: 'alert', text: this.listError }));
    else if (!items.length) items.push(h('li', { class: 'conv-empty', text: 'No conversations yet.' }));
    this.list.replaceChildren(...items);
  }

  markCurrent() {
    for (const a of this.list.querySelectorAll('.conv-link')) {
      const li = a.closest('.conv');
      const here = li.dataset.id === this.convId;
      li.classList.toggle('current', here);
      if (here) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  convItem(c) {
    const title = c.title || 'New conversation';
    const link = h('a', {
      class: 'conv-link', href: '#/c/' + encodeURIComponent(c.id),
      'aria-current': c.id === this.convId ? 'page' : null,
    }, h('span', { class: 'conv-title', text: title }), h('span', { class: 'conv-time', text: when(c.updated_at || c.created_at) }));
    link.addEventListener('click', () => this.closeDrawer(false));
    const rename = iconButton('pencil', `Rename “${title}”`, { class: 'icon-btn small conv-rename' });
    const del = iconButton('trash', `Delete “${title}”`, { class: 'icon-btn small conv-delete' });
    const li = h('li', { class: c.id === this.convId ? 'conv current' : 'conv', dataset: { id: c.id } }, link, h('div', { class: 'conv-actions' }, rename, del));
    rename.addEventListener('click', () => this.renameMode(li, c));
    del.addEventListener('click', () => this.deleteMode(li, c));
    return li;
  }

  renameMode(li, c) {
    this.editing = c.id;
    const input = h('input', { type: 'text', class: 'conv-input', value: c.title || '', 'aria-label': 'Conversation title', maxlength: 200 });
    const save = h('button', { type: 'submit', class: 'btn small', text: 'Save' });
    const cancel = h('button', { type: 'button', class: 'btn ghost small', text: 'Cancel' });
    const err = h('p', { class: 'conv-error', role: 'alert', hidden: true });
    const form = h('form', { class: 'conv-edit' }, input, h('div', { class: 'row tight' }, save, cancel), err);
    const done = (focusSel) => {
      this.editing = null;
      this.renderList();
      const again = this.list.querySelector(`.conv[data-id="${CSS.escape(c.id)}"] ${focusSel}`);
      if (again) again.focus();
    };
    cancel.addEventListener('click', () => done('.conv-rename'));
    input.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); done('.conv-rename'); } });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const title = input.value.trim();
      if (!title) { err.textContent = 'Please enter a title.'; err.hidden = false; return; }
      save.disabled = true;
      try {
        const updated = await api.patch(`/api/conversations/${encodeURIComponent(c.id)}`, { title });
        Object.assign(c, updated || { title });
        done('.conv-link');
      } catch (ex) {
        save.disabled = false;
        err.textContent = ex.message;
        err.hidden = false;
      }
    });
    li.replaceChildren(form);
    input.focus();
    input.select();
  }

  deleteMode(li, c) {
    this.editing = c.id;
    const title = c.title || 'New conversation';
    const yes = h('button', { type: 'button', class: 'btn danger small', text: 'Delete' });
    const no = h('button', { type: 'button', class: 'btn ghost small', text: 'Keep' });
    const err = h('p', { class: 'conv-error', role: 'alert', hidden: true });
    const done = () => {
      this.editing = null;
      this.renderList();
    };
    no.addEventListener('click', () => {
      done();
      const again = this.list.querySelector(`.conv[data-id="${CSS.escape(c.id)}"] .conv-delete`);
      if (again) again.focus();
    });
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      try {
        await api.del(`/api/conversations/${encodeURIComponent(c.id)}`);
        this.conversations = this.conversations.filter((x) => x.id !== c.id);
        done();
        announce(`Deleted “${title}”.`);
        if (this.convId === c.id) this.ctx.go('#/');
        else this.newBtn.focus();
      } catch (ex) {
        yes.disabled = false;
        err.textContent = ex.message;
        err.hidden = false;
      }
    });
    li.replaceChildren(h('div', { class: 'conv-confirm', role: 'group', 'aria-label': 'Confirm delete' },
      h('p', { class: 'conv-confirm-text', text: `Delete “${title}”? This can't be undone.` }),
      h('div', { class: 'row tight' }, yes, no), err));
    no.focus();
  }

  // ---- opening a conversation ----------------------------------------------

  async open(id, force = false) {
    id = id || null;
    this.closeDrawer(false);
    if (!force && id && id === this.convId && this.loadedId === id) return;
    this.call.opened(id);
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
  }

  upsertConvQuiet(c) {
    const i = this.conversations.findIndex((x) => x.id === c.id);
    if (i >= 0) this.conversations[i] = { ...this.conversations[i], ...c };
  }

  renderEmpty() {
    this.messages.replaceChildren(h('div', { class: 'empty fade-in' },
      h('div', { class: 'orb small', 'aria-hidden': 'true' }),
      h('p', { class: 'empty-title', text: this.name }),
      h('p', { class: 'empty-sub', text: "Start a conversation. Whatever's on your mind." })));
  }

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
    this.updateComposer();
    if (keepScroll == null) this.scrollToBottom(true);
    else this.scroller.scrollTop = keepScroll;
  }

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
  }

  // ---- messages -------------------------------------------------------------

  appendMessage(m, scroll = true) {
    const empty = this.messages.querySelector('.empty');
    if (empty) empty.remove();
    const el = this.messageEl(m);
    this.messages.append(el);
    if (m.id) this.msgEls.set(m.id, el);
    if (scroll) this.maybeScroll();
    return el;
  }

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
      if (role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length) {
        for (const call of m.tool_calls) if (call && call.id) this.toolNames.set(call.id, call.name);
        const names = m.tool_calls.map((c) => c && c.name).filter(Boolean).join(', ');
        el.append(h('div', { class: 'msg-tools' }, icon('tool'), h('span', { text: `${this.name} called ${names || 'a tool'}` })));
        if (!m.content) el.classList.add('tools-only');
      }
    }
    this.decorate(el, m);
    return el;
  }

  setText(el, content, rich) {
    const t = el.querySelector('.msg-text');
    clearTimeout(el._timer);
    el._timer = 0;
    el._raw = content;
    if (rich) renderText(t, content);
    else t.textContent = content;
  }

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
  }

  decorate(el, m) {
    for (const old of el.querySelectorAll('.msg-foot')) old.remove();
    const status = m.status || 'complete';
    el.dataset.status = status;
    if (status === 'streaming') el.setAttribute('aria-busy', 'true');
    else el.removeAttribute('aria-busy');
    if (status === 'interrupted') {
      el.append(h('div', { class: 'msg-foot' }, h('span', { class: 'msg-note', text: 'Interrupted' })));
    } else if (status === 'failed') {
      el.append(h('div', { class: 'msg-foot' }, h('span', { class: 'msg-error', text: m.error || 'This reply failed.' })));
    }
  }

  updateMessage(el, m) {
    if (m.role === 'assistant') {
      const final = m.content ? m.content : (el._raw || '');
      this.setText(el, final, true);
    }
    this.decorate(el, m);
  }

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
  }

  // ---- failures and retry ---------------------------------------------------

  clearRetry() {
    for (const b of this.messages.querySelectorAll('.msg-retry')) b.remove();
    for (const n of this.messages.querySelectorAll('.turn-error')) n.remove();
  }

  retryButton() {
    const b = h('button', { type: 'button', class: 'btn secondary small msg-retry' }, icon('retry'), h('span', { text: 'Retry' }));
    b.addEventListener('click', () => this.retry());
    return b;
  }

  addRetry(el) {
    if (!el) return;
    this.clearRetry();
    let foot = el.querySelector('.msg-foot');
    if (!foot) { foot = h('div', { class: 'msg-foot' }); el.append(foot); }
    foot.append(this.retryButton());
  }

  showTurnError(message, retry) {
    this.clearRetry();
    const note = h('div', { class: 'turn-error', role: 'alert' }, h('p', { class: 'turn-error-text', text: message }));
    if (retry && this.convId) note.append(this.retryButton());
    this.messages.append(note);
    this.maybeScroll();
  }

  retry() {
    if (!this.convId || this.isRunning()) return;
    this.clearRetry();
    this.running.add(this.convId);
    this.updateComposer();
    this.ctx.stream.send({ type: 'retry', conversation_id: this.convId });
  }

  // ---- composer -------------------------------------------------------------

  isRunning() { return this.running.has(this.convId || ''); }

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
  }

  focusComposer(always = false) {
    if (!always && isTouch()) return;
    if (this.composer.disabled) return;
    requestAnimationFrame(() => this.composer.focus({ preventScroll: true }));
  }

  autosize() {
    const c = this.composer;
    c.style.height = 'auto';
    c.style.height = Math.min(c.scrollHeight, Math.round(window.innerHeight * 0.4)) + 'px';
  }

  showComposerError(msg) { this.composerErr.textContent = msg; this.composerErr.hidden = false; }
  hideComposerError() { this.composerErr.hidden = true; this.composerErr.textContent = ''; }

  submit() {
    const text = this.composer.value;
    if (!text.trim() || this.isRunning()) return;
    if (new Blob([text]).size > MAX_BYTES) {
      this.showComposerError('That message is too long to send in one go (the limit is 1 MiB).');
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
  }

  cancel() {
    if (!this.convId || !this.isRunning()) return;
    this.stopBtn.disabled = true;
    this.ctx.stream.send({ type: 'cancel', conversation_id: this.convId });
  }

  // ---- turn events ----------------------------------------------------------

  mine(convId) { return !!convId && convId === this.convId; }

  onEvent(ev) {
    switch (ev.type) {
      case 'conversation': {
        const c = ev.conversation;
        if (!c || !c.id) break;
        this.upsertConv(c);
        if (!this.convId && this.pendingNew) {
          if (this.httpTurns.delete('')) this.httpTurns.add(c.id);
          this.convId = c.id;
          this.loadedId = c.id;
          this.pendingNew = false;
          this.running.delete('');
          this.ctx.replace('#/c/' + encodeURIComponent(c.id));
          this.markCurrent();
        }
        this.running.add(c.id);
        this.updateComposer();
        break;
      }
      case 'transport': {
        const f = ev.frame || {};
        if (f.type !== 'cancel') this.httpTurns.add(f.conversation_id || (f.type === 'confirm' ? this.convId : '') || '');
        break;
      }
      case 'user_message': {
        const m = ev.message;
        if (!m || !this.mine(m.conversation_id)) break;
        const opt = this.messages.querySelector('.msg[data-pending]');
        if (opt) {
          delete opt.dataset.pending;
          opt.dataset.id = m.id;
          this.msgEls.set(m.id, opt);
          this.decorate(opt, m);
        } else if (!this.msgEls.has(m.id)) {
          this.appendMessage(m);
        }
        break;
      }
      case 'assistant_start': {
        const m = ev.message;
        if (!m || !this.mine(m.conversation_id) || this.msgEls.has(m.id)) break;
        this.appendMessage({ ...m, role: 'assistant', status: 'streaming' });
        break;
      }
      case 'delta': {
        const el = this.msgEls.get(ev.message_id);
        if (el && typeof ev.text === 'string') this.appendDelta(el, ev.text);
        break;
      }
      case 'tool_result': {
        const m = ev.message;
        if (!m || !this.mine(m.conversation_id) || this.msgEls.has(m.id)) break;
        this.appendMessage({ ...m, role: 'tool' });
        break;
      }
      case 'action_required': {
        const a = ev.action;
        if (!a || !this.mine(a.conversation_id)) break;
        if (!this.messages.querySelector(`.action-card[data-id="${CSS.escape(a.id)}"]`)) this.appendAction(a);
        break;
      }
      case 'assistant_done': {
        const m = ev.message;
        if (!m) break;
        const el = this.msgEls.get(m.id);
        if (el) this.updateMessage(el, m);
        else if (this.mine(m.conversation_id)) this.appendMessage(m);
        if (this.mine(m.conversation_id)) {
          if (m.status === 'failed') this.addRetry(this.msgEls.get(m.id));
          if (m.status === 'complete' && m.content) announce(`${this.name}: ${m.content.slice(0, 300)}`);
          this.maybeScroll();
        }
        break;
      }
      case 'error': {
        const cid = ev.conversation_id;
        const forNew = !this.convId && this.pendingNew;
        if (cid && !this.mine(cid) && !forNew) { this.running.delete(cid); this.updateComposer(); break; }
        const msg = (ev.error && ev.error.message) || 'Something went wrong.';
        const opt = this.messages.querySelector('.msg[data-pending]');
        if (opt) {
          // The message never reached the server: give the text back.
          opt.remove();
          if (!this.composer.value) { this.composer.value = this.lastSent; this.autosize(); }
          this.showComposerError(msg);
          if (!this.messages.querySelector('.msg')) this.renderEmpty();
        } else {
          const msgs = this.messages.querySelectorAll('.msg');
          const last = msgs[msgs.length - 1];
          if (last && last.dataset.status === 'failed') this.addRetry(last);
          else this.showTurnError(msg, true);
        }
        this.running.delete(this.convId || '');
        this.running.delete('');
        if (forNew) this.pendingNew = false;
        this.updateComposer();
        break;
      }
      case 'turn_done': {
        const cid = ev.conversation_id;
        if (cid) { this.running.delete(cid); this.httpTurns.delete(cid); }
        if (!cid || this.mine(cid)) {
          this.httpTurns.delete(this.convId || '');
          this.running.delete(this.convId || '');
          this.stopBtn.disabled = false;
          // Anything still marked streaming missed its final event: reload.
          if (this.convId && this.messages.querySelector('.msg[data-status="streaming"]')) this.open(this.convId, true);
        }
        this.updateComposer();
        this.refreshListSoon();
        break;
      }
      default:
        break;
    }
  }

  onConn(state) {
    if (state === 'open') {
      clearTimeout(this.connTimer);
      this.connTimer = 0;
      this.connNote.hidden = true;
    } else if (state === 'closed' || state === 'connecting') {
      // Only say so when the socket stays down for a while.
      if (!this.connTimer && this.connNote.hidden) {
        this.connTimer = setTimeout(() => {
          this.connTimer = 0;
          if (!this.ctx.stream.open) this.connNote.hidden = false;
        }, 2000);
      }
    } else if (state === 'reconnected') {
      // Events sent while the socket was down are lost: reload what we show.
      // Turns streaming over HTTP were not affected.
      this.loadConversations();
      for (const id of [...this.running]) if (!this.httpTurns.has(id)) this.running.delete(id);
      if (this.pendingNew && !this.httpTurns.has('')) {
        this.pendingNew = false;
        const opt = this.messages.querySelector('.msg[data-pending]');
        if (opt) opt.remove();
        if (!this.composer.value) { this.composer.value = this.lastSent; this.autosize(); }
        this.showComposerError("The connection dropped, so your message may not have been sent. It's back in the message box.");
        if (!this.messages.querySelector('.msg')) this.renderEmpty();
      } else if (this.convId && !this.httpTurns.has(this.convId)) {
        this.open(this.convId, true);
      }
      this.updateComposer();
    }
  }

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
  }

  scrollToBottom(force) {
    if (force) this.stick = true;
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.jump.hidden = true;
  }
}
