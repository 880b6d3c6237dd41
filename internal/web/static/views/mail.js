// Mail (#/mail, #/mail?category=…&unread=1, #/mail?q=…, #/mail/ID,
// #/mail?tab=tidy and #/mail?tab=replies from views/mail-tidy.js): the
// triaged inbox of the user's connected accounts, most important first
// within each day, every message with its sender, subject, one-line summary
// and the reason she gives for where it stands; search; one message's
// headers and text; and "Ask her to draft a reply", which opens the chat
// with the request written out (the companion's mail tools draft it, and a
// send waits for the approval card). The API is /api/mail (docs/mail.md).
//
// Email is hostile by default. Everything from a message is put on the page
// as text (textContent through h()), never as markup: the body is the text
// the server made of it, links in it stay text, no remote image is loaded,
// and right-to-left tricks stay inside their own element (unicode-bidi:
// isolate in style.css).

import { h, icon, announce } from '../dom.js';
import { api } from '../api.js';
import { alertBox, busy, modelStatusLink } from './common.js';
import { mailTabs, tidyPage, repliesPage } from './mail-tidy.js';

export const CATEGORIES = [
  ['', 'All'], ['needs_reply', 'Needs your reply'], ['waiting', 'Waiting on others'], ['fyi', 'FYI'],
  ['newsletter', 'Newsletters'], ['receipt', 'Receipts'], ['notification', 'Notifications'], ['spam', 'Probably spam'],
];
const CATEGORY_LABEL = {
  needs_reply: 'Needs your reply', waiting: 'Waiting on others', fyi: 'FYI', newsletter: 'Newsletter',
  receipt: 'Receipt', notification: 'Notification', spam: 'Probably spam',
};
const PAGE = 100;
const enc = encodeURIComponent;

export function mount(root, ctx, route) {
  const view = new MailView(root, ctx);
  view.update(route);
  return view;
}

/** sender is how a message's sender is named: the display name, else the address. */
export function sender(m) {
  const f = m.from || {};
  return (f.name || '').trim() || f.email || 'Unknown sender';
}

/**
 * draftRequest is the chat message that asks her to draft a reply to m. It
 * names the sender's address, so a reply to it is to someone the user
 * named (a Reply-To elsewhere still gets the stranger warning on the card).
 */
export function draftRequest(m) {
  const from = (m.from && m.from.email) ? `from ${m.from.email}, ` : '';
  return `Draft a reply to ${sender(m)}'s email "${m.subject || '(no subject)'}" (${from}mail id ${m.id})`;
}

/** isCold reports whether triage marked a message as a cold email (its reason says so first). */
export function isCold(t) {
  return !!(t && typeof t.reason === 'string' && t.reason.toLowerCase().startsWith('cold email'));
}

function coldBadge() {
  return h('span', { class: 'badge mail-cold', title: 'A stranger\u2019s sales or outreach email', text: 'Cold email' });
}

function unread(m) {
  return !(m.flags || []).some((f) => f.toLowerCase() === '\\seen');
}

function dayKey(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

function dayTitle(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return 'Undated';
  const today = new Date();
  const start = new Date(today.getFullYear(), today.getMonth(), today.getDate()).getTime();
  if (d.getTime() >= start) return 'Today';
  if (d.getTime() >= start - 86400000) return 'Yesterday';
  const sameYear = d.getFullYear() === today.getFullYear();
  return d.toLocaleDateString(undefined, sameYear ? { weekday: 'long', day: 'numeric', month: 'long' } : { day: 'numeric', month: 'long', year: 'numeric' });
}

function fmtTime(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  return d.toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit' });
}

function fmtDateTime(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  return d.toLocaleString(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit' });
}

/** fmtSize: 512 bytes, 3.4 KB, 12 MB. */
export function fmtSize(n) {
  if (!Number.isFinite(n) || n < 0) return '';
  if (n < 1000) return `${n} byte${n === 1 ? '' : 's'}`;
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)} KB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;
  return `${(n / 1e9).toFixed(1)} GB`;
}

function addresses(list) {
  return (list || []).map((a) => (a.name ? `${a.name} <${a.email}>` : a.email)).join(', ');
}

/**
 * byDay groups messages by local day, newest day first, and orders each day
 * by importance (most important first), then newest first.
 */
export function byDay(ms) {
  const days = new Map();
  for (const m of ms) {
    const k = dayKey(m.date);
    if (!days.has(k)) days.set(k, { title: dayTitle(m.date), at: Date.parse(m.date) || 0, items: [] });
    days.get(k).items.push(m);
  }
  const out = [...days.values()].sort((a, b) => b.at - a.at);
  for (const d of out) {
    d.items.sort((a, b) => ((b.triage && b.triage.importance) || 0) - ((a.triage && a.triage.importance) || 0)
      || (Date.parse(b.date) || 0) - (Date.parse(a.date) || 0));
  }
  return out;
}

class MailView {
  constructor(root, ctx) {
    this.ctx = ctx;
    this.name = (ctx.state.me.persona && ctx.state.me.persona.name) || 'os1';
    this.seq = 0;
    this.listHash = '#/mail'; // where "back to the inbox" goes
    const top = h('header', { class: 'topbar' },
      h('a', { id: 'nav-back', class: 'icon-btn', href: '#/', 'aria-label': 'Back to chat', title: 'Back to chat' }, icon('back')),
      h('div', { class: 'topbar-title' }, h('span', { class: 'companion-title', text: 'Mail' })),
      h('span', { class: 'spacer' }),
      modelStatusLink(ctx.state.model),
      h('a', { id: 'nav-settings', class: 'icon-btn', href: '#/settings/mail', 'aria-label': 'Mail settings', title: 'Mail settings' }, icon('gear')));
    this.page = h('main', { id: 'main', class: 'page mail-page' });
    root.append(h('div', { class: 'page-layout' }, top, h('div', { class: 'page-scroll' }, this.page)));
    // New mail synced or triaged (mail_changed on the user's stream): an
    // inbox on screen reloads itself, unless the user is typing a search.
    this.off = ctx.stream ? ctx.stream.on((ev) => { if (ev.type === 'mail_changed') this.changed(); }) : null;
  }

  changed() {
    if (!this.route || this.route.parts[1]) return; // a message is open
    if (this.route.query.tab === 'tidy') return; // ticks and a batch's results stay put
    if (document.activeElement && document.activeElement.id === 'mail-q') return;
    clearTimeout(this.reload);
    this.reload = setTimeout(() => this.update(this.route, true), 300);
  }

  unmount() {
    if (this.off) this.off();
    clearTimeout(this.reload);
  }

  update(route, quiet) {
    this.route = route;
    this.quiet = !!quiet;
    const seq = ++this.seq;
    const id = route.parts[1];
    if (!quiet) this.page.replaceChildren(h('p', { class: 'loading', text: 'Loading…' }));
    const tab = route.query.tab;
    const done = id ? this.message(seq, id)
      : tab === 'tidy' ? tidyPage(this, seq)
        : tab === 'replies' ? repliesPage(this, seq)
          : this.list(seq, route.query);
    done.catch((ex) => {
      if (seq !== this.seq) return;
      const gone = ex.status === 404;
      this.render(seq, gone ? 'Not found' : "Mail isn't answering",
        h('div', { class: 'notice', role: 'alert' },
          h('p', { text: gone ? "That message isn't here anymore. Its account may have been removed." : ex.message }),
          h('a', { class: 'btn secondary', href: ex.code === 'mail_unavailable' ? '#/' : '#/mail', text: ex.code === 'mail_unavailable' ? 'Back to chat' : 'The inbox' })));
    });
  }

  // render replaces the page with a heading and content, if seq is current.
  render(seq, title, ...children) {
    if (seq !== this.seq) return false;
    document.title = `${title} · os1`;
    const h1 = h('h1', { class: 'page-title', tabindex: '-1', text: title });
    this.page.replaceChildren(h1, ...children.filter((c) => c != null));
    if (!this.quiet) h1.focus({ preventScroll: true }); // a reload for new mail leaves focus where it is
    return true;
  }

  // ---- the inbox and search ----------------------------------------------------

  async list(seq, query) {
    const q = (query.q || '').trim();
    const category = CATEGORIES.some(([c]) => c === query.category) ? query.category : '';
    const onlyUnread = query.unread === '1';
    const hashFor = (next) => {
      const p = new URLSearchParams();
      if (next.q) p.set('q', next.q);
      if (next.category) p.set('category', next.category);
      if (next.unread) p.set('unread', '1');
      const s = p.toString();
      return '#/mail' + (s ? '?' + s : '');
    };
    this.listHash = hashFor({ q, category, unread: onlyUnread });

    const input = h('input', { id: 'mail-q', type: 'search', value: q, placeholder: 'Search mail…', 'aria-label': 'Search mail', autocomplete: 'off', maxlength: 500 });
    const search = h('form', { id: 'mail-search', class: 'mem-search', role: 'search' },
      input, h('button', { type: 'submit', class: 'btn', text: 'Search' }),
      q ? h('a', { class: 'btn ghost', href: '#/mail', text: 'Clear' }) : null);
    search.addEventListener('submit', (e) => { e.preventDefault(); this.ctx.go(hashFor({ q: input.value.trim() })); });

    const cats = h('div', { id: 'mail-categories', class: 'segmented', role: 'radiogroup', 'aria-label': 'Kind of mail' },
      CATEGORIES.map(([value, label]) => {
        const r = h('input', { type: 'radio', name: 'mail-category', id: `mail-cat-${value || 'all'}`, value, checked: !q && value === category });
        r.addEventListener('change', () => this.ctx.go(hashFor({ category: value, unread: onlyUnread })));
        return h('label', { class: 'seg', for: r.id }, r, h('span', { text: label }));
      }));
    const unreadBox = h('input', { id: 'mail-unread', type: 'checkbox', checked: onlyUnread });
    unreadBox.addEventListener('change', () => this.ctx.go(hashFor({ category, unread: unreadBox.checked })));
    const filters = q ? null : h('div', { class: 'mem-filters' }, cats,
      h('label', { class: 'check', for: unreadBox.id }, unreadBox, h('span', { text: 'Unread only' })));

    const status = h('p', { id: 'mail-status', class: 'hint', role: 'status' });
    // data-shows names what the list holds, so a reader (or a test) can tell
    // this list from the one it replaced while the address already changed.
    const listEl = h('div', { id: 'mail-list', class: 'mail-list', dataset: { shows: this.listHash } });
    const err = alertBox();
    const more = h('button', { id: 'mail-more', type: 'button', class: 'btn secondary', text: 'Show older mail', hidden: true });
    const title = q ? `Mail about “${q}”` : category ? CATEGORY_LABEL[category] : 'Mail';
    const intro = q ? null : h('p', { class: 'hint', text: `${this.name} sorts your inbox: what needs you comes first each day, with her reason.` });
    if (!this.render(seq, title, mailTabs('inbox'), intro, search, filters, status, listEl, err, more)) return;

    if (q) {
      const res = await api.get(`/api/mail/search?q=${enc(q)}`);
      if (seq !== this.seq) return;
      const ms = res.messages || [];
      listEl.replaceChildren(h('ul', { class: 'mem-list mail-items' }, ms.map((m) => this.itemEl(m, true))));
      status.textContent = ms.length ? `${ms.length} found` : 'Nothing matches. Try other words.';
      return;
    }

    const all = [];
    const params = new URLSearchParams({ folder: 'INBOX', limit: String(PAGE) });
    if (category) params.set('category', category);
    if (onlyUnread) params.set('unread', '1');
    const load = async () => {
      if (all.length) params.set('before', all[all.length - 1].date);
      const res = await api.get(`/api/mail/messages?${params}`);
      if (seq !== this.seq) return;
      const ms = res.messages || [];
      all.push(...ms);
      more.hidden = ms.length < PAGE;
      if (!all.length) {
        listEl.replaceChildren(await this.emptyEl(seq, category || onlyUnread));
        status.textContent = '';
        return;
      }
      listEl.replaceChildren(...byDay(all).map((d) => h('section', { class: 'mail-day', 'aria-label': d.title },
        h('h2', { class: 'section-title mail-day-title', text: d.title }),
        h('ul', { class: 'mem-list mail-items' }, d.items.map((m) => this.itemEl(m, false))))));
      status.textContent = `${all.length} message${all.length === 1 ? '' : 's'}${more.hidden ? '' : ' so far'}`;
    };
    more.addEventListener('click', () => { err.clear(); busy(more, 'Loading…', load).catch((ex) => err.show(ex.message)); });
    await load();
  }

  // emptyEl says why the list is empty: no account yet, or nothing of this kind.
  async emptyEl(seq, filtered) {
    if (!filtered) {
      let accounts = [];
      try { accounts = (await api.get('/api/mail/accounts')).accounts || []; } catch { /* say the general thing */ }
      if (seq === this.seq && !accounts.length) {
        return h('div', { class: 'notice mail-empty' },
          h('p', { text: `Connect a mail account and ${this.name} will read it, sort it and tell you what needs you.` }),
          h('a', { id: 'mail-connect-link', class: 'btn', href: '#/settings/mail', text: 'Connect an account' }));
      }
    }
    return h('p', { class: 'muted mail-empty', text: filtered ? 'No mail of this kind.' : 'No mail yet. If a sync is running, it will appear here.' });
  }

  itemEl(m, withDate) {
    const t = m.triage || {};
    const from = m.from || {};
    const when = withDate ? fmtDateTime(m.date) : fmtTime(m.date);
    return h('li', { class: 'mem-item mail-item', dataset: { id: m.id, category: t.category || '', unread: unread(m) ? '1' : '', cold: isCold(t) ? '1' : '' } },
      h('a', { class: 'mem-link mail-link', href: `#/mail/${enc(m.id)}` },
        h('span', { class: 'mail-row-top' },
          h('span', { class: 'mail-from', text: sender(m) }),
          from.name && from.email ? h('span', { class: 'mail-from-address', text: from.email }) : null,
          h('span', { class: 'mail-when', text: when })),
        h('span', { class: 'mail-subject', text: m.subject || '(no subject)' }),
        t.summary ? h('span', { class: 'mail-summary', text: t.summary }) : null,
        h('span', { class: 'mem-meta' },
          t.category ? h('span', { class: 'badge mail-category', text: CATEGORY_LABEL[t.category] || t.category }) : h('span', { class: 'badge', text: 'Not sorted yet' }),
          isCold(t) ? coldBadge() : null,
          t.reason ? h('span', { class: 'mail-reason', text: t.reason }) : null,
          (m.parts || []).length ? h('span', { class: 'mail-attach-count', text: `${m.parts.length} attachment${m.parts.length === 1 ? '' : 's'}` }) : null)));
  }

  // ---- one message ---------------------------------------------------------------

  async message(seq, id) {
    const m = await api.get(`/api/mail/messages/${enc(id)}`);
    const t = m.triage || {};
    const rows = [['From', addresses([m.from])]];
    if ((m.reply_to || []).length) rows.push(['Reply to', addresses(m.reply_to)]);
    if ((m.to || []).length) rows.push(['To', addresses(m.to)]);
    if ((m.cc || []).length) rows.push(['Cc', addresses(m.cc)]);
    rows.push(['Date', fmtDateTime(m.date)], ['Folder', m.folder]);
    const headers = h('dl', { id: 'mail-headers', class: 'mem-facts mail-headers' },
      rows.map(([k, v]) => [h('dt', { text: k }), h('dd', { class: 'mail-text-run', text: v })]));

    const triage = t.category || t.reason || t.summary
      ? h('div', { id: 'mail-triage', class: 'mail-triage' },
        h('p', { class: 'mem-meta' },
          t.category ? h('span', { class: 'badge mail-category', text: CATEGORY_LABEL[t.category] || t.category }) : null,
          isCold(t) ? coldBadge() : null,
          t.reason ? h('span', { class: 'mail-reason', text: t.reason }) : null),
        t.summary ? h('p', { class: 'mail-summary', text: t.summary }) : null)
      : null;

    // The body: the server's text of the message, as text. Links in it
    // stay words; nothing in it is fetched or rendered.
    const body = h('pre', { id: 'mail-body', class: 'mail-body', text: m.text || '' });
    const parts = (m.parts || []).length
      ? h('section', { class: 'mail-attachments', 'aria-labelledby': 'mail-attachments-title' },
        h('h2', { id: 'mail-attachments-title', class: 'section-title', text: 'Attachments' }),
        h('ul', { id: 'mail-parts', class: 'plain-list' }, m.parts.map((p) => h('li', { class: 'mail-part' },
          icon('clip'),
          h('span', { class: 'grow mail-part-name', text: p.name || 'unnamed' }),
          h('span', { class: 'hint mail-part-size', text: [p.mime, fmtSize(p.size)].filter(Boolean).join(' · ') })))))
      : null;

    const draft = h('button', { id: 'mail-draft', type: 'button', class: 'btn' }, icon('pencil'), h('span', { text: 'Ask her to draft a reply' }));
    draft.addEventListener('click', () => {
      this.ctx.prefill = draftRequest(m);
      announce('Opening the chat with your request. Send it when it reads right.');
      this.ctx.go('#/');
    });

    this.render(seq, m.subject || '(no subject)',
      h('p', {}, h('a', { id: 'mail-back', class: 'back-link', href: this.listHash, text: '← The inbox' })),
      h('article', { class: 'card mail-message', dataset: { id: m.id } },
        headers, triage, body, parts,
        h('div', { class: 'row' }, draft),
        h('p', { class: 'hint', text: `${this.name} drafts it in the chat; nothing is sent until you approve it there.` })));
  }
}
