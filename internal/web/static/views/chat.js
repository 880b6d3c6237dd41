// Chat: the conversation list, the messages of the open conversation
// (#/c/ID, or #/ for a new one) and the composer. Turns run over the turn
// stream (WebSocket); replies grow word by word from `delta` events.
// The composer's call button starts a voice call (views/call.js) whose
// captions and turn events show here like typed ones; during a call, typed
// messages go through the call and are answered aloud too.

import { h, icon, announce, isTouch } from '../dom.js';
import { iconButton, modelStatusLink } from './common.js';
import { CallUI } from './call.js';
import { listMethods } from './chat-list.js';
import { transcriptMethods } from './chat-transcript.js';
import { composerMethods } from './chat-composer.js';
import { modelPickerMethods } from './chat-model.js';
import { attachMethods } from './chat-attach.js';

export function mount(root, ctx, route) {
  const chat = new Chat(root, ctx);
  chat.open(route.id);
  chat.syncModelPicker();
  chat.takePrefill(route);
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
      this.modelPicker(), // owner only (chat-model.js)
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
      this.listTools(), // search (chat-list.js)
      h('nav', { class: 'conv-nav', 'aria-label': 'Conversation list' }, this.list),
      h('div', { class: 'sidebar-foot' },
        h('a', { id: 'nav-memory', class: 'sidebar-link', href: '#/memory' }, h('span', { text: 'Memory' }),
          h('span', { class: 'hint', text: `What ${name} remembers` })),
        h('a', { id: 'nav-mail', class: 'sidebar-link', href: '#/mail' }, h('span', { text: 'Mail' }),
          h('span', { class: 'hint', text: 'Your inbox, sorted' })),
        h('a', { id: 'nav-calendar', class: 'sidebar-link', href: '#/calendar' }, h('span', { text: 'Calendar' }),
          h('span', { class: 'hint', text: 'Your days, ahead' })),
        h('a', { id: 'nav-people', class: 'sidebar-link', href: '#/contacts' }, h('span', { text: 'People' }),
          h('span', { class: 'hint', text: 'Contacts and birthdays' })),
        h('a', { id: 'nav-desk', class: 'sidebar-link', href: '#/desk' }, h('span', { text: 'Writing desk' }),
          h('span', { class: 'hint', text: 'Letters, proofread' })),
        h('a', { id: 'nav-book', class: 'sidebar-link', href: '#/book' }, h('span', { text: 'Book' }),
          h('span', { class: 'hint', text: 'Your letters, bound' }))));
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
    this.setupAttach(); // chat-attach.js

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

  update(route) {
    this.open(route.id);
    this.syncModelPicker();
    this.takePrefill(route);
  }

  // takePrefill puts ctx.prefill (a request another screen wrote out, such
  // as mail's "draft a reply") into a new conversation's composer, once;
  // the user sends it.
  takePrefill(route) {
    const text = this.ctx.prefill;
    if (!text || route.id) return;
    this.ctx.prefill = '';
    this.composer.value = text;
    this.autosize();
    this.updateComposer();
    this.focusComposer(true);
  }

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
        this.syncModelPicker();
        break;
      }
      case 'conversation_updated': {
        // A title from the model, or a rename, pin, archive or model pick
        // in another tab.
        if (ev.conversation && ev.conversation.id) this.upsertConv(ev.conversation);
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
      case 'reasoning': {
        // Thinking streams into a collapsed box above the reply; never spoken.
        const el = this.msgEls.get(ev.message_id);
        if (el && typeof ev.text === 'string') this.decorateThought(el, { role: 'assistant', status: 'streaming', reasoning: ((el.querySelector('.msg-thought-text') || {}).textContent || '') + ev.text });
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
          else this.showTurnError(msg, true, ev.error && ev.error.details);
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
      case 'lagged': {
        // This page missed part of a reply (it fell behind): re-read it.
        const cid = ev.conversation_id;
        if (this.convId && (!cid || this.mine(cid))) this.open(this.convId, true);
        break;
      }
      default:
        break;
    }
    this.afterEvent(ev); // versions and queued messages (chat-actions.js, chat-composer.js)
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

}

// The list, transcript and composer live in their own modules (by concern);
// they are methods of Chat and share its state.
Object.assign(Chat.prototype, listMethods, transcriptMethods, composerMethods, modelPickerMethods, attachMethods);
