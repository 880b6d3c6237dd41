// The chat's conversation list: loading, the drawer's items, rename and
// delete in place. Methods of the Chat view (views/chat.js), kept here by
// concern; `this` is the Chat.

import { h, announce, when } from '../dom.js';
import { api } from '../api.js';
import { iconButton } from './common.js';

export const listMethods = {
  // ---- conversations --------------------------------------------------------

  startNew() {
    this.closeDrawer(false);
    if (this.convId || this.pendingNew || location.hash !== '#/') this.ctx.go('#/');
    else this.open(null, true);
    this.focusComposer(true);
  },

  async loadConversations() {
    try {
      const res = await api.get('/api/conversations');
      this.conversations = res.conversations || [];
      this.listError = '';
    } catch (ex) {
      this.listError = ex.message;
    }
    this.renderList();
  },

  refreshListSoon() {
    clearTimeout(this.listTimer);
    this.listTimer = setTimeout(() => this.loadConversations(), 400);
  },

  upsertConv(c) {
    const i = this.conversations.findIndex((x) => x.id === c.id);
    if (i >= 0) this.conversations[i] = { ...this.conversations[i], ...c };
    else this.conversations.unshift(c);
    this.renderList();
  },

  renderList() {
    if (this.editing) return; // don't yank an open rename/delete prompt
    const items = this.conversations.map((c) => this.convItem(c));
    if (this.listError) items.push(h('li', { class: 'conv-empty', role: 'alert', text: this.listError }));
    else if (!items.length) items.push(h('li', { class: 'conv-empty', text: 'No conversations yet.' }));
    this.list.replaceChildren(...items);
  },

  markCurrent() {
    for (const a of this.list.querySelectorAll('.conv-link')) {
      const li = a.closest('.conv');
      const here = li.dataset.id === this.convId;
      li.classList.toggle('current', here);
      if (here) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  },

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
  },

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
  },

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
  },
};
