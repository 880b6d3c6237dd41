// The chat's conversation list: loading, search, the drawer's items, and
// rename, pin, archive and delete in place. Pinned conversations come
// first; archived ones are hidden under an "Archived" toggle at the end.
// Methods of the Chat view (views/chat.js), kept here by concern; `this`
// is the Chat.

import { h, announce, when } from '../dom.js';
import { api } from '../api.js';
import { iconButton } from './common.js';

// pinnedFirst orders conversations as the server does: pinned ones first,
// each part newest first.
function pinnedFirst(a, b) {
  if (!!a.pinned !== !!b.pinned) return a.pinned ? -1 : 1;
  return String(b.updated_at || '').localeCompare(String(a.updated_at || ''));
}

export const listMethods = {
  // ---- conversations --------------------------------------------------------

  startNew() {
    this.closeDrawer(false);
    if (this.convId || this.pendingNew || location.hash !== '#/') this.ctx.go('#/');
    else this.open(null, true);
    this.focusComposer(true);
  },

  /** listTools builds the search box shown above the list. */
  listTools() {
    this.search = h('input', {
      id: 'conv-search', type: 'search', class: 'conv-search', placeholder: 'Search conversations',
      'aria-label': 'Search conversations by title or message', autocomplete: 'off', maxlength: 200,
      'aria-controls': 'conversations',
    });
    this.searchQuery = '';
    this.search.addEventListener('input', () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.runSearch(), 250);
    });
    this.search.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.search.value) {
        e.stopPropagation();
        this.search.value = '';
        this.runSearch();
      }
    });
    return h('div', { class: 'conv-tools', role: 'search' }, this.search);
  },

  async runSearch() {
    const q = this.search.value.trim();
    this.searchQuery = q;
    if (!q) {
      this.searchResults = null;
      this.renderList();
      return;
    }
    const seq = (this.searchSeq = (this.searchSeq || 0) + 1);
    try {
      const res = await api.get('/api/conversations?q=' + encodeURIComponent(q));
      if (seq !== this.searchSeq) return; // a newer search is on its way
      this.searchResults = res.conversations || [];
      this.listError = '';
    } catch (ex) {
      if (seq !== this.searchSeq) return;
      this.searchResults = [];
      this.listError = ex.message;
    }
    this.renderList();
    const n = this.searchResults.length;
    announce(n ? `${n} conversation${n === 1 ? '' : 's'} found.` : 'No conversations found.');
  },

  async loadConversations() {
    try {
      const res = await api.get('/api/conversations');
      this.conversations = res.conversations || [];
      this.listError = '';
    } catch (ex) {
      this.listError = ex.message;
    }
    if (this.searchQuery) this.runSearch();
    else this.renderList();
    this.syncModelPicker();
  },

  refreshListSoon() {
    clearTimeout(this.listTimer);
    this.listTimer = setTimeout(() => this.loadConversations(), 400);
  },

  upsertConv(c) {
    const i = this.conversations.findIndex((x) => x.id === c.id);
    if (i >= 0) this.conversations[i] = { ...this.conversations[i], ...c };
    else this.conversations.unshift(c);
    if (this.searchResults) {
      const j = this.searchResults.findIndex((x) => x.id === c.id);
      if (j >= 0) this.searchResults[j] = { ...this.searchResults[j], ...c };
    }
    this.renderList();
    this.syncModelPicker();
  },

  /** conv returns the listed conversation with this id, if any. */
  conv(id) { return this.conversations.find((x) => x.id === id) || null; },

  renderList() {
    if (this.editing) return; // don't yank an open rename/delete prompt
    const searching = this.searchResults != null;
    const all = [...(searching ? this.searchResults : this.conversations)].sort(pinnedFirst);
    const items = [];
    if (searching) {
      items.push(...all.map((c) => this.convItem(c)));
      if (!this.listError && !all.length) items.push(h('li', { class: 'conv-empty', text: `Nothing matches “${this.searchQuery}”.` }));
    } else {
      const live = all.filter((c) => !c.archived);
      const archived = all.filter((c) => c.archived);
      items.push(...live.map((c) => this.convItem(c)));
      if (!this.listError && !live.length && !archived.length) items.push(h('li', { class: 'conv-empty', text: 'No conversations yet.' }));
      if (archived.length) {
        const toggle = h('button', {
          id: 'archived-toggle', type: 'button', class: 'conv-archived-toggle', 'aria-expanded': String(!!this.showArchived),
          text: `${this.showArchived ? 'Hide archived' : 'Archived'} (${archived.length})`,
        });
        toggle.addEventListener('click', () => {
          this.showArchived = !this.showArchived;
          this.renderList();
          const again = this.list.querySelector('#archived-toggle');
          if (again) again.focus();
        });
        items.push(h('li', { class: 'conv-archived-head' }, toggle));
        if (this.showArchived) items.push(...archived.map((c) => this.convItem(c)));
      }
    }
    if (this.listError) items.push(h('li', { class: 'conv-empty', role: 'alert', text: this.listError }));
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
    },
    h('span', { class: 'conv-title', text: title }),
    h('span', { class: 'conv-time', text: [c.pinned ? 'Pinned' : '', c.archived ? 'Archived' : '', when(c.updated_at || c.created_at)].filter(Boolean).join(' · ') }));
    link.addEventListener('click', () => this.closeDrawer(false));
    const pin = iconButton('pin', c.pinned ? `Unpin “${title}”` : `Pin “${title}”`, { class: 'icon-btn small conv-pin', 'aria-pressed': String(!!c.pinned) });
    const archive = iconButton('archive', c.archived ? `Unarchive “${title}”` : `Archive “${title}”`, { class: 'icon-btn small conv-archive', 'aria-pressed': String(!!c.archived) });
    const rename = iconButton('pencil', `Rename “${title}”`, { class: 'icon-btn small conv-rename' });
    const del = iconButton('trash', `Delete “${title}”`, { class: 'icon-btn small conv-delete' });
    const cls = ['conv', c.id === this.convId ? 'current' : '', c.pinned ? 'pinned' : '', c.archived ? 'archived' : ''].filter(Boolean).join(' ');
    const li = h('li', { class: cls, dataset: { id: c.id } }, link, h('div', { class: 'conv-actions' }, pin, archive, rename, del));
    pin.addEventListener('click', () => this.setFlag(c, 'pinned', !c.pinned, '.conv-pin'));
    archive.addEventListener('click', () => this.setFlag(c, 'archived', !c.archived, '.conv-archive'));
    rename.addEventListener('click', () => this.renameMode(li, c));
    del.addEventListener('click', () => this.deleteMode(li, c));
    return li;
  },

  /** setFlag pins or archives (or undoes it) and keeps focus on the item. */
  async setFlag(c, flag, on, focusSel) {
    try {
      const updated = await api.patch(`/api/conversations/${encodeURIComponent(c.id)}`, { [flag]: on });
      this.upsertConv(updated || { ...c, [flag]: on });
      const title = c.title || 'New conversation';
      announce(flag === 'pinned' ? (on ? `Pinned “${title}”.` : `Unpinned “${title}”.`)
        : (on ? `Archived “${title}”.` : `Moved “${title}” out of the archive.`));
      const again = this.list.querySelector(`.conv[data-id="${CSS.escape(c.id)}"] ${focusSel}`);
      if (again) again.focus();
      else if (this.search.value) this.search.focus();
      else this.newBtn.focus();
    } catch (ex) {
      this.listError = ex.message;
      this.renderList();
    }
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
        this.editing = null;
        this.upsertConv(c);
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
        if (this.searchResults) this.searchResults = this.searchResults.filter((x) => x.id !== c.id);
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
