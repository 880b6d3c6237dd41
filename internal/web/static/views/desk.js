// The writing desk (#/desk, #/desk/ID): the user's letters, notes and
// chapters in Markdown. The API is /api/documents, /api/documents/{id}/
// proofread and /api/spelling (docs/writing.md).
//
// - Autosave never loses a keystroke: every change goes to a draft in
//   localStorage first (desk-text.js), then a debounced PUT with the
//   version it was made on. A network drop keeps the draft and retries;
//   opening the document again (even after a reload) puts an unsaved draft
//   back. When the server moved on meanwhile (409), both texts are shown:
//   the user keeps theirs as a new version or takes the server's.
// - Spelling is underlined from /api/spelling (no model needed).
// - "Proofread" asks the model for suggestions, shown inline and in a list,
//   accepted or rejected one by one. An accepted one is applied only when
//   its span still holds its original text, and saved with source
//   "suggestions".
// - History lists the versions, shows a diff between any two and restores one.
//
// Document text and model suggestions are put on the page as text only
// (h's text, text nodes), never as markup.

import { h, icon, announce, when } from '../dom.js';
import { api } from '../api.js';
import { alertBox, busy, modelStatusLink } from './common.js';
import { readDraft, writeDraft, clearDraft, changeOf, shiftSpans, applySuggestion, runs } from './desk-text.js';

const enc = encodeURIComponent;
const SAVE_AFTER_MS = 800;
const SPELL_AFTER_MS = 700;
const RETRY_MS = [1000, 2000, 4000, 8000, 15000];
const SPELL_MAX = 200000; // characters /api/spelling is sent at most (longer texts are not underlined)
const KIND_LABEL = { spelling: 'Spelling', grammar: 'Grammar', clarity: 'Clarity', tone: 'Tone' };
const SOURCE_LABEL = { user: 'you', os1: 'os1', restore: 'restored', suggestions: 'suggestions' };

export function mount(root, ctx, route) {
  const view = new DeskView(root, ctx);
  view.update(route);
  return view;
}

class DeskView {
  constructor(root, ctx) {
    this.ctx = ctx;
    this.seq = 0;
    this.doc = null;
    const top = h('header', { class: 'topbar' },
      h('a', { id: 'nav-back', class: 'icon-btn', href: '#/', 'aria-label': 'Back to chat', title: 'Back to chat' }, icon('back')),
      h('div', { class: 'topbar-title' }, h('span', { class: 'companion-title', text: 'Writing desk' })),
      h('span', { class: 'spacer' }),
      modelStatusLink(ctx.state.model));
    this.page = h('main', { id: 'main', class: 'page desk-page' });
    root.append(h('div', { class: 'page-layout' }, top, h('div', { class: 'page-scroll' }, this.page)));
    this.err = alertBox();
    this.onOnline = () => { if (this.editor) this.editor.saveSoon(0); };
    window.addEventListener('online', this.onOnline);
    document.title = 'Writing desk · os1';
  }

  userId() { return (this.ctx.state.me && this.ctx.state.me.user && this.ctx.state.me.user.id) || 'me'; }

  update(route) {
    const id = (route && route.parts && route.parts[1]) || '';
    if (this.editor && this.editor.id === id) return;
    if (this.editor) this.editor.close();
    this.editor = null;
    this.seq++;
    if (id) this.open(id); else this.showList();
  }

  unmount() {
    this.seq++;
    window.removeEventListener('online', this.onOnline);
    if (this.editor) this.editor.close();
  }

  async showList() {
    const seq = this.seq;
    const h1 = h('h1', { class: 'page-title', tabindex: '-1', text: 'Writing desk' });
    const newBtn = h('button', { id: 'desk-new', type: 'button', class: 'btn' }, icon('plus'), h('span', { text: 'New letter' }));
    newBtn.addEventListener('click', () => busy(newBtn, 'Creating…', async () => {
      try {
        const d = await api.post('/api/documents', { title: 'Untitled letter', kind: 'letter', body: '' });
        this.ctx.go(`#/desk/${enc(d.id)}`);
      } catch (e) { this.err.show(e.message); }
    }));
    const list = h('ul', { id: 'desk-list', class: 'plain-list desk-list', 'aria-live': 'polite' }, h('li', { class: 'muted', text: 'Loading…' }));
    this.page.replaceChildren(h1,
      h('p', { class: 'hint', text: 'Letters, notes and chapters. Every save is kept as a version; spelling is checked as you write, and “Proofread” asks for suggestions you accept or reject one by one.' }),
      h('div', { class: 'desk-tools' }, newBtn), this.err, list);
    h1.focus({ preventScroll: true });
    try {
      const res = await api.get('/api/documents');
      if (seq !== this.seq) return;
      const docs = res.documents || [];
      if (!docs.length) {
        list.replaceChildren(h('li', { class: 'muted', text: 'Nothing written yet. Start a new letter.' }));
        return;
      }
      list.replaceChildren(...docs.map((d) => h('li', { class: 'desk-doc', dataset: { id: d.id } },
        h('a', { class: 'desk-doc-link', href: `#/desk/${enc(d.id)}`, text: d.title || 'Untitled' }),
        h('span', { class: 'hint', text: `${d.kind || 'letter'} · version ${d.version} · ${when(d.updated_at)}` }))));
    } catch (e) {
      if (seq === this.seq) { list.replaceChildren(); this.err.show(e.message); }
    }
  }

  async open(id) {
    const seq = this.seq;
    this.page.replaceChildren(h('p', { class: 'hint', text: 'Opening…' }));
    let doc;
    try {
      doc = await api.get(`/api/documents/${enc(id)}`);
    } catch (e) {
      if (seq !== this.seq) return;
      // Offline with a draft on this device: still let the user write.
      const draft = readDraft(this.userId(), id);
      if (e.status === 0 && draft) {
        doc = { id, title: draft.title, body: draft.body, version: draft.base, kind: 'letter', offline: true };
      } else {
        this.page.replaceChildren(h('a', { href: '#/desk', class: 'desk-back-list', text: '← All documents' }), this.err);
        this.err.show(e.message);
        return;
      }
    }
    if (seq !== this.seq) return;
    this.editor = new Editor(this, doc);
  }
}

// Editor is one open document.
class Editor {
  constructor(view, doc) {
    this.view = view;
    this.ctx = view.ctx;
    this.id = doc.id;
    this.uid = view.userId();
    this.base = doc.version; // the server version the text in the editor is made on
    this.saved = { title: doc.title, body: doc.body }; // what the server holds at base
    this.suggestions = [];
    this.misspelled = [];
    this.ignored = new Set(); // words the user said are right, while the document is open
    this.nextSource = 'user';
    this.inflight = null;
    this.retry = 0;
    this.closed = false;
    this.build(doc);
    this.reconcile(doc);
  }

  build(doc) {
    const err = alertBox();
    this.err = err;
    this.title = h('input', { id: 'desk-title', class: 'desk-title', type: 'text', value: doc.title || '', 'aria-label': 'Title', maxlength: '200' });
    this.body = h('textarea', { id: 'desk-body', class: 'desk-body', spellcheck: 'false', 'aria-label': 'Text (Markdown)', value: doc.body || '' });
    this.marks = h('div', { id: 'desk-marks', class: 'desk-marks', 'aria-hidden': 'true' });
    this.status = h('p', { id: 'desk-status', class: 'desk-status', role: 'status', 'aria-live': 'polite' });
    this.proofBtn = h('button', { id: 'desk-proofread', type: 'button', class: 'btn secondary', text: 'Proofread' });
    this.histBtn = h('button', { id: 'desk-history', type: 'button', class: 'btn secondary', 'aria-expanded': 'false', 'aria-controls': 'desk-history-panel', text: 'History' });
    this.suggList = h('ol', { id: 'desk-suggestions', class: 'plain-list desk-suggestions', 'aria-label': 'Suggestions' });
    this.suggNote = h('p', { id: 'desk-sugg-note', class: 'hint', role: 'status', hidden: true });
    this.spellList = h('ul', { id: 'desk-spelling', class: 'desk-spelling', 'aria-label': 'Spelling' });
    this.conflict = h('section', { id: 'desk-conflict', class: 'card desk-conflict', hidden: true });
    this.history = h('section', { id: 'desk-history-panel', class: 'card desk-history', hidden: true });

    this.body.addEventListener('input', () => this.changed());
    this.title.addEventListener('input', () => this.changed());
    this.body.addEventListener('scroll', () => { this.marks.scrollTop = this.body.scrollTop; this.marks.scrollLeft = this.body.scrollLeft; });
    this.proofBtn.addEventListener('click', () => this.proofread());
    this.histBtn.addEventListener('click', () => this.toggleHistory());

    const h1 = h('h1', { class: 'sr-only', text: doc.title || 'Document' });
    this.view.page.replaceChildren(
      h('a', { href: '#/desk', class: 'desk-back-list', text: '← All documents' }),
      h1, this.title,
      h('div', { class: 'desk-bar' }, this.status, h('span', { class: 'spacer' }), this.proofBtn, this.histBtn),
      err, this.conflict,
      h('div', { class: 'desk-editor' }, this.marks, this.body),
      this.spellList, this.suggNote, this.suggList, this.history);
    this.prevBody = this.body.value;
    this.paint();
    this.body.focus({ preventScroll: true });
  }

  close() {
    clearTimeout(this.saveTimer);
    clearTimeout(this.spellTimer);
    // Leaving the document saves what is pending; the draft stays on the
    // device until a later open finds the server holding it.
    if (this.conflict.hidden && !this.inflight && this.dirty()) this.save();
    this.closed = true;
  }

  text() { return { title: this.title.value, body: this.body.value }; }

  dirty() {
    const t = this.text();
    return t.body !== this.saved.body || (t.title.trim() !== '' && t.title !== this.saved.title);
  }

  setStatus(msg, kind = '') {
    this.status.textContent = msg;
    this.status.dataset.state = kind;
  }

  // reconcile puts back a draft this device kept (a drop, a reload, a
  // crash): unsaved edits on the server's version are saved now; a draft
  // made on an older version than the server's is a conflict to settle.
  reconcile(doc) {
    const draft = readDraft(this.uid, this.id);
    if (doc.offline) {
      // Opened from the draft alone: the server's text is unknown, so the
      // draft stays until a save (on its own base version) goes through.
      this.saved = { title: '', body: '\u0000' };
      this.setStatus('Offline — your changes are kept on this device and saved when os1 is back.', 'offline');
      this.saveSoon(RETRY_MS[0]);
      return;
    }
    if (draft && (draft.body !== doc.body || (draft.title && draft.title !== doc.title))) {
      this.title.value = draft.title || doc.title;
      this.body.value = draft.body;
      this.prevBody = draft.body;
      this.paint();
      if (draft.base === doc.version) {
        this.setStatus('Unsaved changes from this device were put back; saving…', 'saving');
        this.saveSoon(0);
      } else {
        this.showConflict({ ...doc }, draft.base);
      }
      return;
    }
    if (draft) clearDraft(this.uid, this.id);
    this.setStatus(`Saved · version ${doc.version}`, 'saved');
    this.spellSoon(0);
  }

  changed(source = 'user') {
    const body = this.body.value;
    const change = changeOf(this.prevBody, body);
    this.prevBody = body;
    if (change) {
      const { kept, stale } = shiftSpans(this.suggestions, change);
      this.suggestions = kept;
      for (const s of stale) this.dropSuggestion(s, 'no longer matches the text');
      this.misspelled = shiftSpans(this.misspelled, change).kept;
    }
    if (source === 'user') this.nextSource = 'user';
    // The draft first: nothing typed depends on the network.
    writeDraft(this.uid, this.id, { ...this.text(), base: this.base });
    this.paint();
    if (this.conflict.hidden) {
      this.setStatus('Not saved yet…', 'pending');
      this.saveSoon(source === 'suggestions' ? 200 : SAVE_AFTER_MS);
    }
    this.spellSoon(SPELL_AFTER_MS);
  }

  saveSoon(ms) {
    clearTimeout(this.saveTimer);
    if (this.closed) return;
    this.saveTimer = setTimeout(() => this.save(), ms);
  }

  async save() {
    if (this.closed || !this.conflict.hidden) return;
    if (this.inflight) { this.again = true; return; }
    if (!this.dirty()) {
      clearDraft(this.uid, this.id);
      this.setStatus(`Saved · version ${this.base}`, 'saved');
      return;
    }
    const sent = this.text();
    const source = this.nextSource;
    this.setStatus('Saving…', 'saving');
    this.inflight = api.put(`/api/documents/${enc(this.id)}`, { title: sent.title.trim(), body: sent.body, base_version: this.base, source });
    try {
      const d = await this.inflight;
      this.inflight = null;
      this.retry = 0;
      this.base = d.version;
      this.saved = { title: d.title, body: d.body };
      if (this.closed) return;
      if (this.text().body === sent.body && this.text().title === sent.title) {
        clearDraft(this.uid, this.id);
        this.nextSource = 'user';
        this.setStatus(`Saved · version ${d.version}`, 'saved');
      } else {
        writeDraft(this.uid, this.id, { ...this.text(), base: this.base });
        this.saveSoon(SAVE_AFTER_MS);
      }
      if (!this.history.hidden) this.loadHistory();
    } catch (e) {
      this.inflight = null;
      if (this.closed) return;
      if (e.status === 409) {
        let current = null;
        try { current = await api.get(`/api/documents/${enc(this.id)}`); } catch { /* shown without it */ }
        if (current) this.showConflict(current, this.base);
        return;
      }
      if (e.status === 0 || e.status >= 500) {
        const wait = RETRY_MS[Math.min(this.retry, RETRY_MS.length - 1)];
        this.retry++;
        this.setStatus('Offline — your changes are kept on this device and saved when os1 is back.', 'offline');
        this.saveSoon(wait);
        return;
      }
      this.setStatus('Not saved.', 'error');
      this.err.show(e.message);
      return;
    } finally {
      if (this.again && !this.closed) { this.again = false; this.saveSoon(0); }
    }
  }

  // showConflict: the server holds a newer version than the one these
  // edits were made on. Both are shown; nothing is saved until the user says.
  showConflict(current, base) {
    clearTimeout(this.saveTimer);
    const mine = this.text();
    const keep = h('button', { id: 'desk-keep-mine', type: 'button', class: 'btn', text: 'Keep mine as a new version' });
    const take = h('button', { id: 'desk-take-theirs', type: 'button', class: 'btn secondary', text: 'Use the saved version' });
    keep.addEventListener('click', () => busy(keep, 'Saving…', async () => {
      try {
        const d = await api.put(`/api/documents/${enc(this.id)}`, { title: mine.title.trim(), body: this.body.value, base_version: current.version, source: 'user' });
        this.resolved(d);
      } catch (e) { this.err.show(e.message); }
    }));
    take.addEventListener('click', () => {
      this.body.value = current.body;
      this.title.value = current.title;
      this.resolved(current);
    });
    this.conflict.replaceChildren(
      h('h2', { text: 'This document changed elsewhere' }),
      h('p', { class: 'hint', text: `Your changes were made on version ${base}; version ${current.version} was saved since (another tab or device). Nothing is lost: choose which text to keep.` }),
      h('div', { class: 'desk-both' },
        h('div', {}, h('h3', { text: 'Yours (on this device)' }), h('pre', { id: 'desk-conflict-mine', class: 'desk-pre', text: mine.body })),
        h('div', {}, h('h3', { text: `Saved (version ${current.version})` }), h('pre', { id: 'desk-conflict-theirs', class: 'desk-pre', text: current.body }))),
      h('div', { class: 'desk-tools' }, keep, take));
    this.conflict.hidden = false;
    this.setStatus('Two versions — choose one below.', 'conflict');
    announce('This document changed elsewhere; choose which text to keep.');
  }

  resolved(d) {
    this.conflict.hidden = true;
    this.conflict.replaceChildren();
    this.base = d.version;
    this.saved = { title: d.title, body: d.body };
    clearDraft(this.uid, this.id);
    this.prevBody = this.body.value;
    this.suggestions = [];
    this.renderSuggestions();
    this.paint();
    this.setStatus(`Saved · version ${d.version}`, 'saved');
    this.spellSoon(0);
    if (!this.history.hidden) this.loadHistory();
  }

  // ---- spelling --------------------------------------------------------

  spellSoon(ms) {
    clearTimeout(this.spellTimer);
    if (this.closed) return;
    this.spellTimer = setTimeout(() => this.spell(), ms);
  }

  async spell() {
    const text = this.body.value;
    if (text.length > SPELL_MAX) return;
    const seq = (this.spellSeq = (this.spellSeq || 0) + 1);
    try {
      const res = await api.post('/api/spelling', { text });
      if (this.closed || seq !== this.spellSeq || this.body.value !== text) return;
      this.misspelled = (res.misspelled || []).filter((m) => !this.ignored.has(m.word));
      this.spellNote = '';
    } catch (e) {
      if (this.closed || seq !== this.spellSeq) return;
      this.misspelled = [];
      this.spellNote = e.status === 503 ? e.message : '';
    }
    this.paint();
    this.renderSpelling();
  }

  renderSpelling() {
    if (this.spellNote) {
      this.spellList.replaceChildren(h('li', { class: 'hint', text: this.spellNote }));
      return;
    }
    const seen = new Set();
    const items = [];
    for (const m of this.misspelled) {
      if (seen.has(m.word)) continue;
      seen.add(m.word);
      const fixes = (m.suggestions || []).slice(0, 3).map((s) => {
        const b = h('button', { type: 'button', class: 'desk-fix', text: s, 'aria-label': `Replace ${m.word} with ${s}` });
        b.addEventListener('click', () => this.replaceWord(m.word, s));
        return b;
      });
      const ignore = h('button', { type: 'button', class: 'desk-show desk-ignore', text: 'Ignore', 'aria-label': `Ignore ${m.word}` });
      ignore.addEventListener('click', () => {
        this.ignored.add(m.word);
        this.misspelled = this.misspelled.filter((x) => x.word !== m.word);
        this.paint();
        this.renderSpelling();
      });
      items.push(h('li', { class: 'desk-miss', dataset: { word: m.word } }, h('span', { class: 'desk-miss-word', text: m.word }), ...fixes, ignore));
      if (items.length >= 30) break;
    }
    this.spellList.replaceChildren(...items);
  }

  // replaceWord fixes the first misspelling of word whose span still holds it.
  replaceWord(word, fix) {
    const m = this.misspelled.find((x) => x.word === word && this.body.value.slice(x.start, x.end) === word);
    if (!m) return;
    const next = applySuggestion(this.body.value, { start: m.start, end: m.end, original: word, replacement: fix });
    if (next == null) return;
    this.body.value = next;
    this.changed();
  }

  // ---- proofreading ----------------------------------------------------

  async proofread() {
    this.suggNote.hidden = true;
    this.err.clear();
    await busy(this.proofBtn, 'Reading…', async () => {
      // The suggestions are made on the saved version; save first.
      if (this.dirty()) { clearTimeout(this.saveTimer); await this.save(); }
      if (this.dirty()) { this.err.show('Save the document first (it could not be saved just now).'); return; }
      const asked = this.body.value;
      try {
        const res = await api.post(`/api/documents/${enc(this.id)}/proofread`, { version: this.base });
        if (this.closed) return;
        let list = res.suggestions || [];
        // Typed while she read: keep only what still matches where it was.
        if (this.body.value !== asked) {
          const { kept } = shiftSpans(list, changeOf(asked, this.body.value));
          list = kept.filter((s) => this.body.value.slice(s.start, s.end) === s.original);
        }
        this.suggestions = list;
        this.renderSuggestions();
        this.paint();
        const n = list.length;
        const dropped = (res.dropped || 0) + ((res.suggestions || []).length - n);
        const left = dropped ? ` ${dropped} more ${dropped === 1 ? 'was' : 'were'} left out: ${dropped === 1 ? 'it' : 'they'} did not match the text exactly.` : '';
        this.note((n ? `${n} suggestion${n === 1 ? '' : 's'}.` : 'No suggestions: it reads well.') + left);
      } catch (e) {
        this.err.show(e.message);
      }
    });
  }

  note(msg) {
    this.suggNote.textContent = msg;
    this.suggNote.hidden = !msg;
    announce(msg);
  }

  renderSuggestions() {
    this.suggList.replaceChildren(...this.suggestions.map((s) => {
      const accept = h('button', { type: 'button', class: 'btn desk-accept', text: 'Accept', 'aria-label': `Accept: ${s.original} → ${s.replacement || '(remove)'}` });
      const reject = h('button', { type: 'button', class: 'btn ghost desk-reject', text: 'Reject', 'aria-label': `Reject: ${s.original}` });
      accept.addEventListener('click', () => this.accept(s.id));
      reject.addEventListener('click', () => this.reject(s.id));
      const show = h('button', { type: 'button', class: 'desk-show', text: 'Show', 'aria-label': `Show “${s.original}” in the text` });
      show.addEventListener('click', () => this.select(s.id));
      return h('li', { class: 'desk-sugg', dataset: { id: s.id, kind: s.kind } },
        h('div', { class: 'desk-sugg-text' },
          h('span', { class: 'desk-kind', text: KIND_LABEL[s.kind] || s.kind }),
          h('del', { class: 'desk-orig', text: s.original }),
          h('span', { 'aria-hidden': 'true', text: ' → ' }),
          h('ins', { class: 'desk-repl', text: s.replacement || '(remove)' }),
          s.reason ? h('span', { class: 'hint desk-reason', text: s.reason }) : null),
        h('div', { class: 'desk-sugg-actions' }, show, accept, reject));
    }));
  }

  // select shows a suggestion's words selected in the editor.
  select(id) {
    const s = this.suggestions.find((x) => x.id === id);
    if (!s) return;
    this.body.focus();
    this.body.setSelectionRange(s.start, s.end);
  }

  accept(id) {
    const s = this.suggestions.find((x) => x.id === id);
    if (!s) return;
    const next = applySuggestion(this.body.value, s);
    if (next == null) {
      this.dropSuggestion(s, 'no longer matches the text');
      this.paint();
      return;
    }
    this.suggestions = this.suggestions.filter((x) => x.id !== id);
    this.body.value = next;
    this.nextSource = 'suggestions';
    this.changed('suggestions');
    this.renderSuggestions();
    this.note(`Accepted: “${s.original}” → “${s.replacement}”.`);
  }

  reject(id) {
    const s = this.suggestions.find((x) => x.id === id);
    this.suggestions = this.suggestions.filter((x) => x.id !== id);
    this.renderSuggestions();
    this.paint();
    if (s) this.note(`Rejected: “${s.original}”.`);
  }

  dropSuggestion(s, why) {
    this.suggestions = this.suggestions.filter((x) => x.id !== s.id);
    this.renderSuggestions();
    this.note(`A suggestion for “${s.original}” was dropped: it ${why}.`);
  }

  // paint mirrors the textarea's text into the layer behind it, with the
  // suggestions and misspelled words marked.
  paint() {
    const text = this.body.value;
    const nodes = runs(text, this.suggestions, this.misspelled).map((r) => {
      if (!r.kind) return document.createTextNode(r.text);
      return h('mark', { class: `desk-mark desk-mark-${r.kind}`, dataset: r.id ? { id: r.id } : undefined, text: r.text });
    });
    // A trailing newline needs a character after it to take up its line.
    nodes.push(document.createTextNode('\u200b'));
    this.marks.replaceChildren(...nodes);
    this.marks.scrollTop = this.body.scrollTop;
  }

  // ---- history -----------------------------------------------------------

  toggleHistory() {
    this.history.hidden = !this.history.hidden;
    this.histBtn.setAttribute('aria-expanded', String(!this.history.hidden));
    if (!this.history.hidden) this.loadHistory();
  }

  async loadHistory() {
    let vs;
    try {
      vs = (await api.get(`/api/documents/${enc(this.id)}/versions`)).versions || [];
    } catch (e) {
      this.history.replaceChildren(h('p', { class: 'alert alert-error', text: e.message }));
      return;
    }
    if (this.closed) return;
    const pick = (id, sel) => {
      const s = h('select', { id, class: 'desk-pick' }, ...vs.map((v) => h('option', { value: String(v.n), text: `Version ${v.n}` })));
      s.value = String(sel);
      return s;
    };
    const from = pick('desk-diff-from', vs.length > 1 ? vs[1].n : (vs[0] ? vs[0].n : 1));
    const to = pick('desk-diff-to', vs[0] ? vs[0].n : 1);
    const show = h('button', { id: 'desk-diff-show', type: 'button', class: 'btn secondary', text: 'Compare' });
    const out = h('div', { id: 'desk-diff', class: 'desk-diff', 'aria-live': 'polite' });
    show.addEventListener('click', () => busy(show, 'Comparing…', () => this.diff(from.value, to.value, out)));
    const list = h('ol', { id: 'desk-versions', class: 'plain-list desk-versions' }, ...vs.map((v) => {
      const restore = h('button', { type: 'button', class: 'btn ghost desk-restore', dataset: { n: String(v.n) }, text: 'Restore', disabled: v.n === this.base });
      restore.addEventListener('click', () => busy(restore, 'Restoring…', () => this.restore(v.n)));
      return h('li', { class: 'desk-version', dataset: { n: String(v.n) } },
        h('span', { class: 'desk-version-n', text: `Version ${v.n}` }),
        h('span', { class: 'hint', text: `${SOURCE_LABEL[v.source] || v.source} · ${when(v.saved_at)}${v.n === this.base ? ' · current' : ''}` }),
        h('span', { class: 'spacer' }), restore);
    }));
    this.history.replaceChildren(h('h2', { text: 'Versions' }), list,
      h('div', { class: 'desk-tools' }, h('label', { for: 'desk-diff-from', text: 'From' }), from, h('label', { for: 'desk-diff-to', text: 'to' }), to, show), out);
  }

  async diff(from, to, out) {
    try {
      const res = await api.get(`/api/documents/${enc(this.id)}/diff?from=${enc(from)}&to=${enc(to)}`);
      const lines = res.lines || [];
      out.replaceChildren(h('pre', { class: 'desk-pre' }, ...lines.map((l) => h('span', {
        class: l.op === '+' ? 'desk-diff-add' : l.op === '-' ? 'desk-diff-del' : 'desk-diff-same',
        text: `${l.op === '=' ? ' ' : l.op} ${l.text}\n`,
      }))));
      if (!lines.some((l) => l.op !== '=')) out.append(h('p', { class: 'hint', text: 'These versions are the same.' }));
    } catch (e) {
      out.replaceChildren(h('p', { class: 'alert alert-error', text: e.message }));
    }
  }

  async restore(n) {
    // Unsaved edits go in first, so restoring never loses them either.
    if (this.dirty()) { clearTimeout(this.saveTimer); await this.save(); }
    try {
      const d = await api.post(`/api/documents/${enc(this.id)}/versions/${enc(n)}/restore`, {});
      this.body.value = d.body;
      this.title.value = d.title;
      this.resolved(d);
      this.note(`Version ${n} restored as version ${d.version}.`);
    } catch (e) {
      this.err.show(e.message);
    }
  }
}
