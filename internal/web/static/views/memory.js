// Memory (#/memory, #/memory?q=…&kind=…&history=1, #/memory/ITEM, #/people,
// #/people/ID): what she remembers, searchable; each memory can be
// corrected, forgotten, and traced back to the messages it came from.
// The API is /api/memory and /api/people (docs/api.md, "Memory").

import { h, icon, announce } from '../dom.js';
import { api } from '../api.js';
import { alertBox, busy, field, modelStatusLink } from './common.js';

const KINDS = [
  ['', 'All'], ['fact', 'Facts'], ['preference', 'Preferences'], ['event', 'Events'],
  ['person', 'About people'], ['reflection', 'Her thoughts'],
];
const KIND_LABEL = { fact: 'Fact', preference: 'Preference', event: 'Event', person: 'About someone', reflection: 'Her thought' };
const PAGE = 50;

export function mount(root, ctx, route) {
  const view = new MemoryView(root, ctx);
  view.update(route);
  return view;
}

function fmtDate(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  return d.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

function fmtDateTime(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  return d.toLocaleString(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit' });
}

function count(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function weight(importance) {
  if (importance >= 0.75) return 'matters a lot';
  if (importance >= 0.4) return 'matters';
  return 'a detail';
}

const enc = encodeURIComponent;

// marked returns text as nodes, with the search's marks (code point ranges
// [start, end), in order, from /api/memory?q=) wrapped in <mark>. The text
// only ever becomes text nodes; ranges that are out of order or out of
// the text are skipped.
function marked(text, marks) {
  const cps = Array.from(text || '');
  const out = [];
  let at = 0;
  for (const r of Array.isArray(marks) ? marks : []) {
    const [start, end] = Array.isArray(r) ? r : [];
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < at || end <= start || end > cps.length) continue;
    if (start > at) out.push(cps.slice(at, start).join(''));
    out.push(h('mark', { text: cps.slice(start, end).join('') }));
    at = end;
  }
  if (at < cps.length) out.push(cps.slice(at).join(''));
  return out;
}

class MemoryView {
  constructor(root, ctx) {
    this.ctx = ctx;
    this.name = (ctx.state.me.persona && ctx.state.me.persona.name) || 'os1';
    this.seq = 0;
    this.flash = ''; // a note for the next list (after an import)
    this.tabMemories = h('a', { id: 'tab-memories', class: 'tab', href: '#/memory', text: 'Memories' });
    this.tabPeople = h('a', { id: 'tab-people', class: 'tab', href: '#/people', text: 'People' });
    const top = h('header', { class: 'topbar' },
      h('a', { id: 'nav-back', class: 'icon-btn', href: '#/', 'aria-label': 'Back to chat', title: 'Back to chat' }, icon('back')),
      h('div', { class: 'topbar-title' }, h('span', { class: 'companion-title', text: 'Memory' })),
      h('nav', { class: 'tabs', 'aria-label': 'Memory sections' }, this.tabMemories, this.tabPeople),
      h('span', { class: 'spacer' }),
      modelStatusLink(ctx.state.model),
      h('a', { id: 'nav-settings', class: 'icon-btn', href: '#/settings', 'aria-label': 'Settings', title: 'Settings' }, icon('gear')));
    this.page = h('main', { id: 'main', class: 'page memory-page' });
    root.append(h('div', { class: 'page-layout' }, top, h('div', { class: 'page-scroll' }, this.page)));
  }

  update(route) {
    const seq = ++this.seq;
    const [name, id] = route.parts;
    const people = name === 'people';
    for (const [tab, on] of [[this.tabMemories, !people], [this.tabPeople, people]]) {
      if (on) tab.setAttribute('aria-current', 'page');
      else tab.removeAttribute('aria-current');
    }
    this.page.replaceChildren(h('p', { class: 'loading', text: 'Loading…' }));
    const done = people ? (id ? this.person(seq, id) : this.people(seq)) : (id ? this.item(seq, id) : this.list(seq, route.query));
    done.catch((ex) => {
      if (seq !== this.seq) return;
      const gone = ex.status === 404;
      this.render(seq, gone ? 'Not found' : "Memory isn't answering",
        h('div', { class: 'notice', role: 'alert' },
          h('p', { text: gone ? "That doesn't exist anymore. It may have been forgotten." : ex.message }),
          h('a', { class: 'btn secondary', href: people ? '#/people' : '#/memory', text: people ? 'All people' : 'All memories' })));
    });
  }

  // render replaces the page with a heading and content, if seq is current.
  render(seq, title, ...children) {
    if (seq !== this.seq) return false;
    document.title = `${title} · os1`;
    const h1 = h('h1', { class: 'page-title', tabindex: '-1', text: title });
    this.page.replaceChildren(h1, ...children.filter((c) => c != null));
    h1.focus({ preventScroll: true });
    return true;
  }

  // ---- the list and search ----------------------------------------------------

  async list(seq, query) {
    const q = (query.q || '').trim();
    const kind = KINDS.some(([k]) => k === query.kind) ? query.kind : '';
    const history = query.history === '1';
    const go = (next) => {
      const p = new URLSearchParams();
      if (next.q) p.set('q', next.q);
      if (next.kind) p.set('kind', next.kind);
      if (next.history) p.set('history', '1');
      const s = p.toString();
      this.ctx.go('#/memory' + (s ? '?' + s : ''));
    };

    const input = h('input', { id: 'memory-q', type: 'search', value: q, placeholder: 'Search memories…', 'aria-label': 'Search memories', autocomplete: 'off' });
    const search = h('form', { id: 'memory-search', class: 'mem-search', role: 'search' },
      input, h('button', { type: 'submit', class: 'btn', text: 'Search' }),
      q ? h('a', { class: 'btn ghost', href: '#/memory' + (kind ? `?kind=${enc(kind)}` : ''), text: 'Clear' }) : null);
    search.addEventListener('submit', (e) => { e.preventDefault(); go({ q: input.value.trim(), kind, history }); });

    const kinds = h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': 'Kind of memory' },
      KINDS.map(([value, label]) => {
        const r = h('input', { type: 'radio', name: 'memory-kind', id: `kind-${value || 'all'}`, value, checked: value === kind });
        r.addEventListener('change', () => go({ q, kind: value, history }));
        return h('label', { class: 'seg', for: r.id }, r, h('span', { text: label }));
      }));
    const hist = h('input', { id: 'memory-history', type: 'checkbox', checked: history });
    hist.addEventListener('change', () => go({ q, kind, history: hist.checked }));
    const filters = h('div', { class: 'mem-filters' }, kinds,
      h('label', { class: 'check', for: 'memory-history' }, hist, h('span', { text: 'Include beliefs that changed' })));

    const status = h('p', { class: 'hint', role: 'status' });
    const listEl = h('ul', { id: 'memory-list', class: 'mem-list' });
    const err = alertBox();
    const more = h('button', { id: 'memory-more', type: 'button', class: 'btn secondary', text: 'Show more', hidden: true });
    const params = new URLSearchParams();
    if (kind) params.set('kind', kind);
    if (history) params.set('history', 'true');

    const intro = h('p', { class: 'hint', text: `Everything ${this.name} remembers came from your conversations. Open a memory to see why she believes it, correct it, or let her forget it.` });
    const flash = this.flash ? h('p', { class: 'ok-note', role: 'status', text: this.flash }) : null;
    this.flash = '';
    if (!this.render(seq, q ? `Memories about “${q}”` : `What ${this.name} remembers`, intro, flash, search, filters, status, listEl, err, more, this.transferCard(), this.quarantineCard(), this.reindexCard())) return;

    if (q) {
      params.set('q', q);
      const res = await api.get(`/api/memory?${params}`);
      if (seq !== this.seq) return;
      const hits = res.results || [];
      listEl.replaceChildren(...hits.map((hit) => this.hitEl(hit)));
      status.textContent = hits.length ? `${hits.length} found` : 'Nothing matches. Try other words.';
      return;
    }
    let offset = 0;
    const load = async () => {
      params.set('limit', String(PAGE));
      params.set('offset', String(offset));
      const res = await api.get(`/api/memory?${params}`);
      if (seq !== this.seq) return;
      const items = res.items || [];
      listEl.append(...items.map((it) => this.itemEl(it)));
      offset += items.length;
      more.hidden = items.length < PAGE;
      status.textContent = offset ? `${count(offset, 'memory', 'memories')}${more.hidden ? '' : ' so far'}` : '';
      if (!offset) listEl.replaceChildren(h('li', { class: 'muted', text: kind || history ? 'No memories of this kind.' : `${this.name} doesn't remember anything particular yet. Memories appear here as you talk.` }));
    };
    more.addEventListener('click', () => { err.clear(); busy(more, 'Loading…', load).catch((ex) => err.show(ex.message)); });
    await load();
  }

  itemEl(it, marks) {
    const meta = [KIND_LABEL[it.kind] || it.kind, `since ${fmtDate(it.valid_from)}`, weight(it.importance)];
    if (it.event_time) meta.splice(1, 0, `on ${fmtDate(it.event_time)}`);
    return h('li', { class: 'mem-item', dataset: { id: it.id, kind: it.kind, current: String(it.current) } },
      h('a', { class: 'mem-link', href: `#/memory/${enc(it.id)}` },
        h('span', { class: 'mem-text' }, marks ? marked(it.text, marks) : it.text),
        h('span', { class: 'mem-meta' }, meta.join(' · '), it.current ? null : h('span', { class: 'badge', text: 'changed' }))));
  }

  hitEl(hit) {
    // An item hit's text is its item's text; marks are ranges of hit.text.
    if (hit.kind === 'item' && hit.item) return this.itemEl(hit.item, hit.item.text === hit.text ? hit.marks : null);
    if (hit.kind === 'mail' && hit.mail) { // an email (untrusted text: shown as text, links to the Mail view)
      return h('li', { class: 'mem-item mem-hit mem-mail', dataset: { id: hit.id, kind: hit.kind } },
        h('div', { class: 'mem-hit-body' },
          h('span', { class: 'mem-meta' }, `Email from ${hit.mail.from} · ${fmtDateTime(hit.time)}`),
          h('span', { class: 'mem-text quote' }, marked(hit.text, hit.marks)),
          h('a', { class: 'mem-source-link', href: `#/mail/${enc(hit.id)}`, text: 'Open the email' })));
    }
    if (hit.kind === 'document' && hit.document) { // one of the user's documents: its title and the passage that matched
      return h('li', { class: 'mem-item mem-hit mem-document', dataset: { id: hit.id, kind: hit.kind } },
        h('div', { class: 'mem-hit-body' },
          h('span', { class: 'mem-meta' }, `Your ${hit.document.kind} · saved ${fmtDateTime(hit.time)}`),
          h('span', { class: 'mem-text quote' }, marked(hit.text, hit.marks)),
          h('a', { class: 'mem-source-link', href: `#/desk/${enc(hit.id)}`, text: 'Open the document' })));
    }
    const who = hit.kind === 'journal' ? `${this.name}'s journal` : hit.role === 'user' ? 'You said' : `${this.name} said`;
    const link = hit.conversation_id
      ? h('a', { class: 'mem-source-link', href: `#/c/${enc(hit.conversation_id)}`, text: 'Open the conversation' })
      : null;
    return h('li', { class: 'mem-item mem-hit', dataset: { id: hit.id, kind: hit.kind } },
      h('div', { class: 'mem-hit-body' },
        h('span', { class: 'mem-meta' }, `${who} · ${hit.kind === 'journal' ? fmtDate(hit.time) : fmtDateTime(hit.time)}`),
        h('span', { class: 'mem-text quote' }, marked(hit.text, hit.marks)),
        link));
  }

  // ---- one memory --------------------------------------------------------------

  async item(seq, id) {
    const data = await api.get(`/api/memory/${enc(id)}`);
    const it = data.item;
    const err = alertBox();
    const detail = h('div', { class: 'mem-facts' });
    const text = h('p', { id: 'memory-text', class: 'mem-detail-text', text: it.text });
    const fill = (x) => {
      text.textContent = x.text;
      const rows = [['Kind', KIND_LABEL[x.kind] || x.kind], ['Believed since', fmtDate(x.valid_from)]];
      if (x.event_time) rows.push(['When', fmtDate(x.event_time)]);
      rows.push(['How much it matters', `${weight(x.importance)} (${Math.round(x.importance * 100)}%)`], ['How sure she is', `${Math.round(x.confidence * 100)}%`]);
      if (!x.current) rows.push(['Believed until', fmtDate(x.valid_to)]);
      detail.replaceChildren(h('dl', {}, rows.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })])));
      if (x.superseded_by) {
        detail.append(h('p', { class: 'hint' }, 'She believes something newer now: ',
          h('a', { href: `#/memory/${enc(x.superseded_by)}`, text: 'see what replaced it' }), '.'));
      }
    };
    fill(it);

    const why = h('button', { id: 'memory-why', type: 'button', class: 'btn secondary', 'aria-expanded': 'false', 'aria-controls': 'memory-sources' }, 'Why do you believe this?');
    const edit = h('button', { id: 'memory-edit', type: 'button', class: 'btn ghost' }, icon('pencil'), h('span', { text: 'Correct it' }));
    const forget = h('button', { id: 'memory-forget', type: 'button', class: 'btn ghost danger-text' }, icon('trash'), h('span', { text: 'Forget' }));
    const panel = h('div', { class: 'mem-panel' });
    const sources = this.sourcesEl(data);
    why.addEventListener('click', () => {
      const open = sources.hidden;
      sources.hidden = !open;
      why.setAttribute('aria-expanded', String(open));
      if (open) sources.querySelector('h2').focus();
    });
    edit.addEventListener('click', () => this.editForm(panel, it, (x) => { Object.assign(it, x); fill(it); edit.focus(); }, () => edit.focus()));
    forget.addEventListener('click', () => this.forgetConfirm(panel, it, forget));

    const people = (data.people || []).length
      ? h('p', { class: 'mem-people' }, 'About ', ...data.people.flatMap((p, i) => [i ? ', ' : '', h('a', { href: `#/people/${enc(p.id)}`, text: p.name })]))
      : null;
    const history = (data.history || []).length
      ? h('section', { class: 'card', 'aria-labelledby': 'memory-history-title' },
        h('h2', { id: 'memory-history-title', text: 'Before, she believed' }),
        h('ul', { class: 'mem-list' }, data.history.map((x) => this.itemEl(x))))
      : null;
    this.render(seq, it.current ? 'A memory' : 'A belief that changed',
      h('p', {}, h('a', { class: 'back-link', href: '#/memory', text: '← All memories' })),
      h('section', { class: 'card mem-detail', 'aria-labelledby': 'memory-text' },
        text, people, detail, h('div', { class: 'row' }, why, edit, forget), err, panel),
      sources, history);
  }

  sourcesEl(data) {
    const titles = new Map((data.conversations || []).map((c) => [c.id, c.title]));
    const list = h('ol', { class: 'mem-sources' }, (data.sources || []).map((m) => h('li', { class: 'source-msg', dataset: { id: m.id, role: m.role } },
      h('p', { class: 'mem-meta' }, `${m.role === 'user' ? 'You' : this.name}, ${fmtDateTime(m.created_at)}`),
      h('blockquote', { class: 'quote', text: m.content }),
      h('a', { class: 'mem-source-link', href: `#/c/${enc(m.conversation_id)}`, text: `Open “${titles.get(m.conversation_id) || 'the conversation'}”` }))));
    const missing = data.missing_sources
      ? h('p', { class: 'hint', text: `${data.missing_sources} of the messages it came from were deleted with their conversation.` })
      : null;
    return h('section', { id: 'memory-sources', class: 'card', hidden: true, 'aria-labelledby': 'memory-sources-title' },
      h('h2', { id: 'memory-sources-title', tabindex: '-1', text: 'Where this comes from' }),
      h('p', { class: 'hint', text: `${this.name} took this from what was said here:` }), list, missing);
  }

  editForm(panel, it, saved, cancelled) {
    const text = h('textarea', { id: 'memory-edit-text', rows: 3, maxlength: 2000, value: it.text });
    const kind = h('select', { id: 'memory-edit-kind' }, KINDS.filter(([k]) => k).map(([k]) => h('option', { value: k, text: KIND_LABEL[k], selected: k === it.kind })));
    const imp = h('input', { id: 'memory-edit-importance', type: 'range', min: 0, max: 1, step: 0.05, value: String(it.importance) });
    const impOut = h('output', { for: imp.id, class: 'hint', text: weight(it.importance) });
    imp.addEventListener('input', () => { impOut.textContent = weight(Number(imp.value)); });
    const err = alertBox();
    const save = h('button', { type: 'submit', class: 'btn', text: 'Save' });
    const cancel = h('button', { type: 'button', class: 'btn ghost', text: 'Cancel' });
    const form = h('form', { id: 'memory-edit-form', class: 'form mem-form', novalidate: true },
      field('What she should remember', text), field('Kind', kind),
      h('div', { class: 'field' }, h('label', { for: imp.id, text: 'How much it matters' }), imp, impOut),
      err, h('div', { class: 'row' }, save, cancel));
    cancel.addEventListener('click', () => { panel.replaceChildren(); cancelled(); });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.clear();
      const body = { text: text.value.trim(), kind: kind.value, importance: Number(imp.value) };
      if (!body.text) { err.show('A memory needs some words. To remove it, use Forget.'); text.focus(); return; }
      try {
        const x = await busy(save, 'Saving…', () => api.patch(`/api/memory/${enc(it.id)}`, body));
        panel.replaceChildren();
        announce('Saved. She will remember it this way.');
        saved(x);
      } catch (ex) { err.show(ex.message); }
    });
    panel.replaceChildren(form);
    text.focus();
  }

  forgetConfirm(panel, it, opener) {
    const also = h('input', { id: 'memory-forget-sources', type: 'checkbox' });
    const yes = h('button', { id: 'memory-forget-yes', type: 'button', class: 'btn danger', text: 'Forget it' });
    const no = h('button', { type: 'button', class: 'btn ghost', text: 'Keep it' });
    const err = alertBox();
    no.addEventListener('click', () => { panel.replaceChildren(); opener.focus(); });
    yes.addEventListener('click', async () => {
      err.clear();
      try {
        await busy(yes, 'Forgetting…', () => api.del(`/api/memory/${enc(it.id)}?sources=${also.checked}`));
        announce('Forgotten.');
        this.ctx.go('#/memory');
      } catch (ex) { err.show(ex.message); }
    });
    panel.replaceChildren(h('div', { class: 'mem-confirm', role: 'group', 'aria-labelledby': 'memory-forget-q' },
      h('p', { id: 'memory-forget-q', text: `Forget “${it.text}”? ${this.name} won't remember it anymore. This can't be undone.` }),
      h('label', { class: 'check', for: also.id }, also, h('span', { text: 'Also stop recalling the messages it came from (they stay in the conversation)' })),
      err, h('div', { class: 'row' }, yes, no)));
    no.focus();
  }

  // ---- people ------------------------------------------------------------------

  async people(seq) {
    const res = await api.get('/api/people');
    const people = res.people || [];
    const list = h('ul', { id: 'people-list', class: 'mem-list' }, people.length
      ? people.map((p) => h('li', { class: 'mem-item person', dataset: { id: p.id } },
        h('a', { class: 'mem-link', href: `#/people/${enc(p.id)}` },
          h('span', { class: 'mem-text' }, h('strong', { text: p.name }), p.relation ? ` · ${p.relation}` : ''),
          h('span', { class: 'mem-meta', text: [p.aliases.length ? `also ${p.aliases.join(', ')}` : '', count(p.item_count, 'memory', 'memories')].filter(Boolean).join(' · ') }),
          p.notes ? h('span', { class: 'mem-notes', text: p.notes }) : null)))
      : [h('li', { class: 'muted', text: `${this.name} hasn't met anyone in your life yet. People appear here as you talk about them.` })]);
    this.render(seq, 'People in your life',
      h('p', { class: 'hint', text: `Everyone ${this.name} has heard about from you, with the names you use for them.` }), list);
  }

  async person(seq, id) {
    const res = await api.get(`/api/people/${enc(id)}`);
    const p = res.person;
    const items = res.items || [];
    const facts = [];
    if (p.relation) facts.push(['Who', p.relation]);
    if (p.aliases.length) facts.push(['Also called', p.aliases.join(', ')]);
    facts.push(['Known since', fmtDate(p.created_at)]);
    this.render(seq, p.name,
      h('p', {}, h('a', { class: 'back-link', href: '#/people', text: '← All people' })),
      h('section', { class: 'card', 'aria-label': `About ${p.name}` },
        h('dl', { class: 'mem-facts' }, facts.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })])),
        p.notes ? h('p', { class: 'mem-notes', text: p.notes }) : null),
      h('h2', { class: 'section-title', text: `What ${this.name} knows about ${p.name}` }),
      h('ul', { id: 'person-items', class: 'mem-list' }, items.length ? items.map((it) => this.itemEl(it))
        : [h('li', { class: 'muted', text: 'Nothing particular yet.' })]));
  }

  // ---- quarantine ----------------------------------------------------------------

  // quarantineCard lists the conversations (or journal) her memory's background
  // work gave up on after repeated crashes (GET /api/memory/quarantine); it
  // stays empty and hidden while there are none.
  quarantineCard() {
    const card = h('section', { id: 'memory-quarantine', class: 'card', hidden: true, 'aria-labelledby': 'memory-quarantine-title' });
    api.get('/api/memory/quarantine').then((res) => {
      const q = (res && res.quarantined) || [];
      if (q.length === 0) return;
      card.replaceChildren(
        h('h2', { id: 'memory-quarantine-title', text: 'Skipped after errors' }),
        h('p', { class: 'hint', text: `${this.name} stopped learning from these after they failed ${q[0].panics} times; the server's owner can see why with os1 doctor.` }),
        h('ul', {}, ...q.map((f) => {
          const retry = h('button', { type: 'button', class: 'btn secondary small', text: 'Try again' });
          const li = h('li', {},
            h('span', { text: `${f.kind === 'journal' ? 'Your journal' : `Conversation ${f.id}`} — since ${fmtDateTime(f.at)} ` }), retry);
          retry.addEventListener('click', async () => {
            retry.disabled = true;
            try {
              await api.post(`/api/memory/quarantine/${encodeURIComponent(f.id)}/release`);
              li.replaceChildren(h('span', { text: `${f.kind === 'journal' ? 'Your journal' : `Conversation ${f.id}`} — trying again now.` }));
            } catch (ex) {
              retry.disabled = false;
              li.append(h('span', { class: 'hint', role: 'alert', text: ` ${ex.message}` }));
            }
          });
          return li;
        })));
      card.hidden = false;
    }).catch(() => {});
    return card;
  }

  // ---- model change ----------------------------------------------------------------

  // reindexCard shows GET /api/status's memory_notice (the embedding model
  // changed, so older memories are found by their words only) with what to
  // run; the owner gets "Reindex now" (POST /api/memory/reindex) and its
  // progress, read every 2 s while the page shows it. Hidden without a notice.
  reindexCard() {
    const card = h('section', { id: 'memory-reindex', class: 'card', hidden: true, 'aria-labelledby': 'memory-reindex-title' });
    const owner = this.ctx.state.me && this.ctx.state.me.user.role === 'owner';
    const progress = h('p', { id: 'memory-reindex-progress', class: 'hint', role: 'status' });
    const follow = async () => {
      if (!card.isConnected) return;
      try {
        const st = await api.get('/api/memory/reindex');
        const done = (st.users || []).reduce((n, u) => n + u.done, 0);
        const total = (st.users || []).reduce((n, u) => n + u.total, 0);
        if (st.running) {
          const paused = (st.users || []).some((u) => u.paused) ? ' (waiting while someone talks)' : '';
          progress.textContent = `Reindexing: ${done} of ${total} documents${paused}…`;
          setTimeout(follow, 2000);
        } else if (st.error) {
          progress.textContent = `The reindex stopped: ${st.error}. Starting it again goes on where it stopped.`;
        } else {
          progress.textContent = st.notice ? st.notice : `Done: ${done} documents reindexed. Search uses meaning again.`;
        }
      } catch (ex) {
        progress.textContent = ex.message;
      }
    };
    api.get('/api/status').then((st) => {
      if (!st || !st.memory_notice) return;
      const run = owner ? h('button', { id: 'memory-reindex-run', type: 'button', class: 'btn secondary', text: 'Reindex now' }) : null;
      if (run) {
        run.addEventListener('click', () => busy(run, 'Starting…', async () => {
          try {
            await api.post('/api/memory/reindex', { all: true });
          } catch (ex) {
            if (ex.code !== 'reindex_running') { progress.textContent = ex.message; return; }
          }
          run.hidden = true;
          follow();
        }));
      }
      card.replaceChildren(
        h('h2', { id: 'memory-reindex-title', text: 'The embedding model changed' }),
        h('p', { class: 'hint', text: st.memory_notice }),
        owner ? null : h('p', { class: 'hint', text: 'The server\'s owner can run it.' }),
        run, progress);
      card.hidden = false;
    }).catch(() => {});
    return card;
  }

  // ---- export and import ---------------------------------------------------------

  transferCard() {
    const file = h('input', { id: 'memory-import-file', type: 'file', accept: 'application/json,.json' });
    const err = alertBox();
    const result = h('div', { class: 'mem-import', role: 'status' });
    file.addEventListener('change', async () => {
      err.clear();
      result.replaceChildren();
      const f = file.files && file.files[0];
      if (!f) return;
      let body;
      try { body = JSON.parse(await f.text()); } catch { err.show("That file isn't JSON. Choose a file made by Download (JSON)."); return; }
      try {
        const dry = await api.post('/api/memory/import?dry_run=true', body);
        const go = h('button', { id: 'memory-import-go', type: 'button', class: 'btn', text: 'Import' });
        result.replaceChildren(h('p', {
          text: `This file holds ${count(dry.conversations, 'conversation', 'conversations')} (${count(dry.messages, 'message', 'messages')}), `
            + `${count(dry.items, 'memory', 'memories')}, ${count(dry.entities, 'person', 'people')} and ${count(dry.journals, 'journal entry', 'journal entries')}.`,
        }), go);
        go.addEventListener('click', async () => {
          try {
            const rep = await busy(go, 'Importing…', () => api.post('/api/memory/import', body));
            this.flash = [`Imported ${count(rep.items, 'memory', 'memories')} and ${count(rep.conversations, 'conversation', 'conversations')}.`, ...(rep.notes || [])].join(' ');
            announce(this.flash);
            this.ctx.reroute();
          } catch (ex) { err.show(ex.message); }
        });
      } catch (ex) { err.show(ex.message); }
    });
    return h('section', { id: 'memory-transfer', class: 'card', 'aria-labelledby': 'memory-transfer-title' },
      h('h2', { id: 'memory-transfer-title', text: 'Take it with you' }),
      h('p', { class: 'hint', text: 'Download everything she remembers, with the conversations it came from. The JSON file can be imported on another os1; the Markdown file is for reading.' }),
      h('div', { class: 'row' },
        h('a', { id: 'memory-export-json', class: 'btn secondary', href: '/api/memory/export?format=json', download: '' }, 'Download (JSON)'),
        h('a', { id: 'memory-export-md', class: 'btn secondary', href: '/api/memory/export?format=markdown', download: '' }, 'Download (Markdown)')),
      h('div', { class: 'field mem-import-field' }, h('label', { for: file.id, text: 'Import a JSON file' }), file),
      err, result);
  }
}
