// The book (#/book, #/book/ID): the user's letters made into a book. List
// and create books; pick letters from the desk (or let her propose "your
// best ten", each with a reason), order them with up and down, edit the
// title page, dedication and foreword (she may draft it); build an EPUB and
// a PDF with a progress bar, preview them in the page, download them; and
// send one to a publisher: the page shows the exact message (From, To,
// Subject, body) and attachment (name, size), and only "Approve and send"
// sends it, exactly as shown. The API is /api/books (docs/book.md).
//
// Titles, letters' names and her words are set as text (h's text,
// textContent), never markup. The only things that load are the built PDF
// from this server (the preview frame) and the API.

import { h, icon, announce } from '../dom.js';
import { api } from '../api.js';
import { alertBox, busy, field, modelStatusLink } from './common.js';

const enc = encodeURIComponent;
const FORMATS = [['epub', 'EPUB'], ['pdf', 'PDF']];

export function mount(root, ctx, route) {
  const view = new BookView(root, ctx);
  view.update(route);
  return view;
}

/** sizeText says a file's size as people read it. */
export function sizeText(n) {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1 << 10) return `${Math.round(n / (1 << 10))} KB`;
  return `${n} bytes`;
}

/** moved returns list with the item at i moved by d (−1 up, +1 down). */
export function moved(list, i, d) {
  const j = i + d;
  if (j < 0 || j >= list.length) return list.slice();
  const out = list.slice();
  [out[i], out[j]] = [out[j], out[i]];
  return out;
}

class BookView {
  constructor(root, ctx) {
    this.ctx = ctx;
    this.seq = 0;
    this.book = null;
    this.docs = [];
    this.polls = new Map();
    this.herName = (ctx.state.me && ctx.state.me.persona && ctx.state.me.persona.name) || 'She';
    const top = h('header', { class: 'topbar' },
      h('a', { id: 'nav-back', class: 'icon-btn', href: '#/', 'aria-label': 'Back to chat', title: 'Back to chat' }, icon('back')),
      h('div', { class: 'topbar-title' }, h('span', { class: 'companion-title', text: 'Book' })),
      h('span', { class: 'spacer' }),
      modelStatusLink(ctx.state.model));
    this.page = h('main', { id: 'main', class: 'page book-page' });
    root.append(h('div', { class: 'page-layout' }, top, h('div', { class: 'page-scroll' }, this.page)));
    this.err = alertBox();
    document.title = 'Book · os1';
  }

  update(route) {
    this.id = route.parts[1] || '';
    this.stopPolls();
    if (this.id) this.showBook(); else this.showList();
  }

  unmount() { this.seq++; this.stopPolls(); }

  stopPolls() {
    for (const t of this.polls.values()) clearTimeout(t);
    this.polls.clear();
  }

  fail(e) { this.err.show(e && e.message ? e.message : String(e)); }

  // --- the list ---

  async showList() {
    const seq = ++this.seq;
    const h1 = h('h1', { class: 'page-title', tabindex: '-1', text: 'Your books' });
    const title = h('input', { id: 'book-new-title', type: 'text', maxlength: '300', required: true, placeholder: 'Letters to the people I love' });
    const create = h('button', { id: 'book-create', type: 'submit', class: 'btn primary', text: 'Make a book' });
    const form = h('form', { id: 'book-new', class: 'book-new' }, field('Title of a new book', title), create);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.err.clear();
      busy(create, 'Making…', async () => {
        try {
          const b = await api.post('/api/books', { title: title.value });
          location.hash = `#/book/${enc(b.id)}`;
        } catch (e) { this.fail(e); }
      });
    });
    this.list = h('ul', { id: 'book-list', class: 'plain-list book-list', 'aria-live': 'polite' });
    this.page.replaceChildren(h1,
      h('p', { class: 'hint', text: `Gather your letters from the writing desk into a book: ${this.herName} can propose your best ten, typeset it as an EPUB and a PDF, and send it to a publisher when you say so.` }),
      form, this.err, this.list);
    h1.focus({ preventScroll: true });
    try {
      const { books } = await api.get('/api/books');
      if (seq !== this.seq) return;
      if (!books.length) this.list.append(h('li', { class: 'hint', text: 'No books yet.' }));
      for (const b of books) {
        this.list.append(h('li', { class: 'book-item' },
          h('a', { class: 'book-link', href: `#/book/${enc(b.id)}`, text: b.title }),
          h('span', { class: 'hint', text: ` · ${b.letters.length} letter${b.letters.length === 1 ? '' : 's'}` })));
      }
    } catch (e) { this.fail(e); }
  }

  // --- one book ---

  async showBook() {
    const seq = ++this.seq;
    this.page.replaceChildren(h('p', { class: 'hint', text: 'Opening the book…' }));
    try {
      const [b, d] = await Promise.all([api.get(`/api/books/${enc(this.id)}`), api.get('/api/documents')]);
      if (seq !== this.seq) return;
      this.book = b;
      this.docs = d.documents || [];
    } catch (e) {
      if (seq !== this.seq) return;
      this.page.replaceChildren(h('a', { href: '#/book', text: '← All books' }), this.err);
      this.fail(e);
      return;
    }
    const h1 = h('h1', { id: 'book-heading', class: 'page-title', tabindex: '-1', text: this.book.title });
    this.page.replaceChildren(
      h('a', { id: 'book-all', href: '#/book', text: '← All books' }),
      h1, this.err,
      this.frontPart(), this.lettersPart(), this.buildPart(), this.sendPart());
    h1.focus({ preventScroll: true });
    this.renderLetters();
    this.renderBuilds();
    for (const [f] of FORMATS) {
      const st = this.book.builds && this.book.builds[f];
      if (st && (st.state === 'queued' || st.state === 'running')) this.poll(f);
    }
  }

  async patch(body) {
    this.err.clear();
    try {
      this.book = await api.patch(`/api/books/${enc(this.book.id)}`, body);
      this.renderLetters();
      this.renderBuilds();
      return true;
    } catch (e) { this.fail(e); return false; }
  }

  frontPart() {
    const b = this.book;
    const input = (id, v) => h('input', { id, type: 'text', maxlength: '300', value: v || '' });
    const area = (id, v, rows) => h('textarea', { id, rows: String(rows), value: v || '' });
    this.f = {
      title: input('book-title', b.title), subtitle: input('book-subtitle', b.subtitle), author: input('book-author', b.author),
      dedication: area('book-dedication', b.dedication, 2), foreword: area('book-foreword', b.foreword, 8),
    };
    const draft = h('button', { id: 'book-foreword-draft', type: 'button', class: 'btn', text: `Draft with ${this.herName}` });
    draft.addEventListener('click', () => busy(draft, 'Writing…', async () => {
      this.err.clear();
      try {
        const { foreword } = await api.post(`/api/books/${enc(this.book.id)}/foreword`);
        this.f.foreword.value = foreword;
        announce('A foreword is drafted. Edit it, then save.');
      } catch (e) { this.fail(e); }
    }));
    const save = h('button', { id: 'book-save', type: 'submit', class: 'btn primary', text: 'Save' });
    const saved = h('span', { id: 'book-saved', class: 'hint', role: 'status' });
    const form = h('form', { id: 'book-front', class: 'book-front' },
      h('h2', { text: 'Title page' }),
      field('Title', this.f.title), field('Subtitle', this.f.subtitle), field('Author', this.f.author),
      field('Dedication', this.f.dedication), field('Foreword', this.f.foreword, 'Markdown. Leave empty for none.'),
      h('div', { class: 'row' }, draft, save, saved));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      busy(save, 'Saving…', async () => {
        const ok = await this.patch(Object.fromEntries(Object.entries(this.f).map(([k, el]) => [k, el.value])));
        if (ok) {
          document.getElementById('book-heading').textContent = this.book.title;
          saved.textContent = 'Saved.';
        }
      });
    });
    return form;
  }

  lettersPart() {
    this.lettersEl = h('ol', { id: 'book-letters', class: 'book-letters', 'aria-live': 'polite' });
    this.pickEl = h('ul', { id: 'book-pick', class: 'plain-list book-pick' });
    this.picksEl = h('ul', { id: 'book-picks', class: 'plain-list book-picks', hidden: true });
    const propose = h('button', { id: 'book-propose', type: 'button', class: 'btn', text: 'Propose my best ten' });
    propose.addEventListener('click', () => busy(propose, 'Reading your letters…', () => this.propose()));
    return h('section', { class: 'book-section', 'aria-labelledby': 'book-letters-h' },
      h('h2', { id: 'book-letters-h', text: 'Letters, in order' }),
      this.lettersEl,
      h('h3', { text: 'Add letters from your desk' }),
      h('div', { class: 'row' }, propose),
      this.picksEl, this.pickEl);
  }

  renderLetters() {
    if (!this.lettersEl) return;
    const ids = this.book.letters.map((l) => l.id);
    this.lettersEl.replaceChildren();
    if (!ids.length) this.lettersEl.append(h('li', { class: 'hint', text: 'No letters yet: add some below.' }));
    this.book.letters.forEach((l, i) => {
      const up = h('button', { type: 'button', class: 'btn small book-up', 'aria-label': `Move “${l.title}” up`, disabled: i === 0, text: '↑' });
      const down = h('button', { type: 'button', class: 'btn small book-down', 'aria-label': `Move “${l.title}” down`, disabled: i === ids.length - 1, text: '↓' });
      const out = h('button', { type: 'button', class: 'btn small book-remove', 'aria-label': `Take “${l.title}” out`, text: 'Remove' });
      up.addEventListener('click', () => this.patch({ letters: moved(ids, i, -1) }));
      down.addEventListener('click', () => this.patch({ letters: moved(ids, i, 1) }));
      out.addEventListener('click', () => this.patch({ letters: ids.filter((x) => x !== l.id) }));
      this.lettersEl.append(h('li', { class: 'book-letter', dataset: { id: l.id } },
        h('span', { class: 'book-letter-title', text: l.missing ? `(deleted letter ${l.id})` : l.title }), up, down, out));
    });
    this.pickEl.replaceChildren();
    for (const d of this.docs) {
      if (ids.includes(d.id)) continue;
      const add = h('button', { type: 'button', class: 'btn small book-add', 'aria-label': `Add “${d.title}”`, text: 'Add' });
      add.addEventListener('click', () => this.patch({ letters: [...ids, d.id] }));
      this.pickEl.append(h('li', { class: 'book-doc', dataset: { id: d.id } },
        h('span', { text: d.title }), h('span', { class: 'hint', text: d.kind && d.kind !== 'letter' ? ` (${d.kind})` : '' }), add));
    }
    if (!this.docs.length) this.pickEl.append(h('li', { class: 'hint' }, 'Nothing at the desk yet. ', h('a', { href: '#/desk', text: 'Write a letter' })));
  }

  async propose() {
    this.err.clear();
    try {
      const { picks } = await api.post(`/api/books/${enc(this.book.id)}/propose`, { n: 10 });
      this.picksEl.replaceChildren();
      this.picksEl.hidden = false;
      if (!picks.length) this.picksEl.append(h('li', { class: 'hint', text: `${this.herName} found none to propose.` }));
      for (const p of picks) {
        this.picksEl.append(h('li', { class: 'book-pickrow', dataset: { id: p.id } },
          h('strong', { text: p.title }), h('span', { text: ` — ${p.reason}` })));
      }
      if (picks.length) {
        const take = h('button', { id: 'book-take-picks', type: 'button', class: 'btn primary', text: 'Use these, in this order' });
        take.addEventListener('click', () => this.patch({ letters: picks.map((p) => p.id) }).then((ok) => { if (ok) this.picksEl.hidden = true; }));
        this.picksEl.append(h('li', null, take));
      }
    } catch (e) { this.fail(e); }
  }

  // --- building ---

  buildPart() {
    this.buildEls = {};
    const rows = FORMATS.map(([f, name]) => {
      const btn = h('button', { id: `book-build-${f}`, type: 'button', class: 'btn', text: `Build ${name}` });
      btn.addEventListener('click', () => this.build(f));
      const bar = h('progress', { id: `book-progress-${f}`, class: 'book-progress', max: '1', value: '0', hidden: true, 'aria-label': `${name} progress` });
      const status = h('span', { id: `book-status-${f}`, class: 'hint', role: 'status' });
      const link = h('a', { id: `book-download-${f}`, class: 'btn', href: `/api/books/${enc(this.book.id)}/download.${f}`, download: '', hidden: true, text: `Download ${name}` });
      this.buildEls[f] = { btn, bar, status, link };
      return h('div', { class: 'row book-build' }, btn, bar, status, link);
    });
    this.previewEl = h('div', { id: 'book-preview', class: 'book-preview', hidden: true });
    return h('section', { class: 'book-section', 'aria-labelledby': 'book-build-h' },
      h('h2', { id: 'book-build-h', text: 'Build the book' }), ...rows, this.previewEl);
  }

  renderBuilds() {
    if (!this.buildEls) return;
    for (const [f, name] of FORMATS) this.showStatus(f, name, (this.book.builds && this.book.builds[f]) || { state: 'none' });
  }

  showStatus(f, name, st) {
    const { btn, bar, status, link } = this.buildEls[f];
    const running = st.state === 'queued' || st.state === 'running';
    btn.disabled = running;
    bar.hidden = !running && st.state !== 'done';
    bar.max = Math.max(1, st.total || 1);
    bar.value = st.state === 'done' ? bar.max : (st.done || 0);
    link.hidden = st.state !== 'done';
    if (st.state === 'queued') status.textContent = 'Waiting to start…';
    else if (st.state === 'running') status.textContent = `Building ${name}: ${st.done || 0} of ${st.total}`;
    else if (st.state === 'done') status.textContent = `${name} ready (${sizeText(st.size || 0)})${st.stale ? ' — the book changed since: build again' : ''}`;
    else if (st.state === 'failed') status.textContent = st.error || 'The build failed.';
    else status.textContent = 'Not built yet.';
  }

  async build(f) {
    this.err.clear();
    try {
      const st = await api.post(`/api/books/${enc(this.book.id)}/build?format=${f}`);
      this.showStatus(f, f.toUpperCase(), st);
      this.poll(f);
    } catch (e) { this.fail(e); }
  }

  poll(f) {
    const seq = this.seq;
    const tick = async () => {
      this.polls.delete(f);
      if (seq !== this.seq) return;
      try {
        const st = await api.get(`/api/books/${enc(this.book.id)}/build?format=${f}`);
        if (seq !== this.seq) return;
        this.showStatus(f, f.toUpperCase(), st);
        if (st.state === 'queued' || st.state === 'running') {
          this.polls.set(f, setTimeout(tick, 400));
        } else if (st.state === 'done') {
          announce(`${f.toUpperCase()} built.`);
          this.preview(f);
        }
      } catch (e) { this.fail(e); }
    };
    this.polls.set(f, setTimeout(tick, 300));
  }

  async preview(f) {
    this.previewEl.hidden = false;
    if (f === 'pdf') {
      const frame = h('iframe', { id: 'book-preview-pdf', class: 'book-preview-pdf', title: 'PDF preview',
        src: `/api/books/${enc(this.book.id)}/download.pdf?inline=1` });
      const old = document.getElementById('book-preview-pdf');
      if (old) old.replaceWith(frame); else this.previewEl.append(frame);
      return;
    }
    try {
      const { chapters } = await api.get(`/api/books/${enc(this.book.id)}/preview`);
      const box = h('div', { id: 'book-preview-epub', class: 'book-preview-epub' }, h('h3', { text: 'EPUB preview' }));
      for (const c of chapters) {
        box.append(h('section', { class: 'book-chapter' }, h('h4', { text: c.title }),
          ...c.text.split('\n').map((line) => h('p', { text: line }))));
      }
      const old = document.getElementById('book-preview-epub');
      if (old) old.replaceWith(box); else this.previewEl.prepend(box);
    } catch (e) { this.fail(e); }
  }

  // --- sending ---

  sendPart() {
    const to = h('input', { id: 'book-send-to', type: 'email', placeholder: 'submissions@publisher.example' });
    const format = h('select', { id: 'book-send-format' }, ...FORMATS.map(([f, name]) => h('option', { value: f, text: name, selected: f === 'pdf' })));
    const body = h('textarea', { id: 'book-send-body', rows: '6', placeholder: `Leave empty and ${this.herName} drafts the cover letter.` });
    const prep = h('button', { id: 'book-send-prepare', type: 'button', class: 'btn', text: 'Show the exact message' });
    this.card = h('div', { id: 'book-send-card', class: 'book-send-card', hidden: true });
    prep.addEventListener('click', () => busy(prep, 'Preparing…', async () => {
      this.err.clear();
      this.card.hidden = true;
      try {
        const m = await api.post(`/api/books/${enc(this.book.id)}/send/preview`, { format: format.value, to: to.value, body: body.value });
        body.value = m.body.trimEnd();
        this.showCard(m);
      } catch (e) { this.fail(e); }
    }));
    return h('section', { class: 'book-section', 'aria-labelledby': 'book-send-h' },
      h('h2', { id: 'book-send-h', text: 'Send to a publisher' }),
      h('p', { class: 'hint', text: 'Nothing is sent until you approve the exact message below.' }),
      field("Publisher's address", to), field('Attach', format), field('Cover letter', body), prep, this.card);
  }

  showCard(m) {
    const approve = h('button', { id: 'book-send-approve', type: 'button', class: 'btn primary', text: 'Approve and send' });
    const cancel = h('button', { id: 'book-send-cancel', type: 'button', class: 'btn', text: 'Cancel' });
    const done = h('p', { id: 'book-send-done', role: 'status', class: 'hint' });
    approve.addEventListener('click', () => busy(approve, 'Sending…', async () => {
      this.err.clear();
      try {
        await api.post(`/api/books/${enc(this.book.id)}/send`, m);
        done.textContent = `Sent to ${m.to}.`;
        approve.hidden = true;
        cancel.hidden = true;
      } catch (e) { this.fail(e); }
    }));
    cancel.addEventListener('click', () => { this.card.hidden = true; });
    const line = (k, v) => h('div', { class: 'book-card-line' }, h('strong', { text: `${k}: ` }), h('span', { text: v }));
    this.card.replaceChildren(
      h('h3', { text: 'Approve this email' }),
      line('From', m.from), line('To', m.to), line('Subject', m.subject),
      h('pre', { id: 'book-send-body-shown', class: 'book-card-body', text: m.body }),
      line('Attachment', `${m.attachment.name} (${m.attachment.mime}, ${sizeText(m.attachment.size)})`),
      h('div', { class: 'row' }, approve, cancel), done);
    this.card.hidden = false;
    approve.focus();
  }
}
