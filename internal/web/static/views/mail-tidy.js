// Mail's clean-up and reply tracking (#/mail?tab=tidy, #/mail?tab=replies),
// parts of the Mail view (views/mail.js). The API is /api/mail/unsubscribe,
// /api/mail/archive-suggestions, /api/mail/archive and /api/mail/replies
// (docs/mail.md).
//
// Tidy up proposes; nothing changes until the user approves a batch once:
// they tick the lists (or senders), read one confirmation that names every
// target, and only then is the batch posted; each row then says what became
// of it. Everything a message gave (names, addresses, subjects, links) is
// put on the page as text: an unsubscribe page os1 cannot post to is shown
// as an address to copy, never as a link, so nothing from an email becomes
// something to click or fetch.

import { h, announce, copyText } from '../dom.js';
import { api } from '../api.js';
import { alertBox, busy } from './common.js';

const enc = encodeURIComponent;

/** The tabs of the Mail view; current is 'inbox', 'tidy' or 'replies'. */
export function mailTabs(current) {
  const at = (id) => (current === id ? 'page' : null);
  return h('nav', { id: 'mail-tabs', class: 'tabs mail-tabs', 'aria-label': 'Mail' },
    h('a', { id: 'mail-tab-inbox', class: 'tab', href: '#/mail', 'aria-current': at('inbox'), text: 'Inbox' }),
    h('a', { id: 'mail-tab-tidy', class: 'tab', href: '#/mail?tab=tidy', 'aria-current': at('tidy'), text: 'Tidy up' }),
    h('a', { id: 'mail-tab-replies', class: 'tab', href: '#/mail?tab=replies', 'aria-current': at('replies'), text: 'Replies' }));
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function fmtDate(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  const sameYear = d.getFullYear() === new Date().getFullYear();
  return d.toLocaleDateString(undefined, sameYear ? { day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short', year: 'numeric' });
}

/** hostOf is the host of an https address, or the address itself when it does not parse. */
export function hostOf(target) {
  try { return new URL(target).host || target; } catch { return target; }
}

/**
 * howText says how os1 would unsubscribe from a candidate: by a one-click
 * request to its host, by mail to its address, or not at all (the user
 * opens the page themselves).
 */
export function howText(c) {
  switch (c.method) {
    case 'one-click': return `One-click unsubscribe at ${hostOf(c.target)}`;
    case 'mailto': return `By mail to ${c.target}`;
    default: return `os1 can't do this one: open it yourself (${hostOf(c.target)})`;
  }
}

// showResult shows what became of one row of an approved batch. A row
// done is closed; one failed or left to the user is unticked, so a second
// batch is a choice made again.
function showResult(li, r) {
  li.dataset.status = r.status;
  const box = li.querySelector('.tidy-result');
  const label = { done: 'Done', failed: 'Failed', manual: 'Your turn' }[r.status] || r.status;
  const url = r.status === 'manual' && r.url ? h('code', { class: 'tidy-url mail-text-run', text: r.url }) : null;
  let copy = null;
  if (url) {
    copy = h('button', { type: 'button', class: 'btn ghost tidy-copy', text: 'Copy the address' });
    copy.addEventListener('click', async () => announce(await copyText(r.url) ? 'Copied.' : 'Copying failed: select the address and copy it.'));
  }
  box.replaceChildren(
    h('p', { class: 'tidy-result-line' }, h('span', { class: 'badge tidy-status', text: label }), ' ',
      h('span', { class: 'tidy-message mail-text-run', text: r.message || '' })),
    url ? h('div', { class: 'row tight tidy-manual' }, url, copy) : null);
  box.hidden = false;
  const cb = li.querySelector('input[type="checkbox"]');
  if (cb) {
    cb.checked = false;
    cb.disabled = r.status === 'done';
  }
}

/**
 * batch builds one proposal with checkboxes, a review button and the single
 * confirmation. spec: id, items, key(item), rowEl(item, checkbox), ticked(item),
 * confirmTitle(n), targetText(item), goLabel(n), post(keys) → results.
 */
function batch(spec) {
  const err = alertBox();
  const rows = new Map();
  const list = h('ul', { id: `${spec.id}-list`, class: 'mem-list tidy-list' }, spec.items.map((it, i) => {
    const cb = h('input', { type: 'checkbox', id: `${spec.id}-${i}`, checked: spec.ticked(it), dataset: { sender: spec.key(it) } });
    const li = spec.rowEl(it, cb);
    li.dataset.sender = spec.key(it);
    li.append(h('div', { class: 'tidy-result', role: 'status', hidden: true }));
    rows.set(spec.key(it), { it, cb, li });
    return li;
  }));
  const review = h('button', { id: `${spec.id}-review`, type: 'button', class: 'btn' });
  const count = () => [...rows.values()].filter((r) => r.cb.checked && !r.cb.disabled);
  const label = () => {
    const n = count().length;
    review.textContent = spec.reviewLabel(n);
    review.disabled = n === 0;
  };
  list.addEventListener('change', label);
  label();

  const confirm = h('section', { id: `${spec.id}-confirm`, class: 'card tidy-confirm', role: 'alertdialog', 'aria-labelledby': `${spec.id}-confirm-title`, hidden: true });
  review.addEventListener('click', () => {
    err.clear();
    const chosen = count();
    if (!chosen.length) return;
    const go = h('button', { id: `${spec.id}-go`, type: 'button', class: 'btn', text: spec.goLabel(chosen.length) });
    const cancel = h('button', { id: `${spec.id}-cancel`, type: 'button', class: 'btn secondary', text: 'Cancel' });
    confirm.replaceChildren(
      h('h2', { id: `${spec.id}-confirm-title`, text: spec.confirmTitle(chosen.length) }),
      h('ul', { class: 'plain-list tidy-targets' }, chosen.map((r) => h('li', { class: 'tidy-target mail-text-run', text: spec.targetText(r.it) }))),
      spec.confirmHint ? h('p', { class: 'hint', text: spec.confirmHint }) : null,
      h('div', { class: 'row' }, go, cancel));
    confirm.hidden = false;
    review.hidden = true;
    const close = () => { confirm.hidden = true; confirm.replaceChildren(); review.hidden = false; label(); };
    cancel.addEventListener('click', () => { close(); review.focus(); });
    confirm.onkeydown = (e) => { if (e.key === 'Escape' && !cancel.disabled) cancel.click(); };
    go.addEventListener('click', async () => {
      cancel.disabled = true;
      try {
        const res = await busy(go, 'Working…', () => spec.post(chosen.map((r) => spec.key(r.it))));
        const results = res.results || [];
        for (const r of results) {
          const row = rows.get(r.sender);
          if (row) showResult(row.li, r);
        }
        const done = results.filter((r) => r.status === 'done').length;
        announce(`${done} of ${results.length} done.`);
        close();
      } catch (ex) {
        cancel.disabled = false;
        err.show(ex.message);
      }
    });
    go.focus();
  });
  return [list, err, h('div', { class: 'row' }, review), confirm];
}

/** tidyPage renders Tidy up: the unsubscribe proposal and the archive suggestions. */
export async function tidyPage(view, seq) {
  const [uns, arch] = await Promise.all([api.get('/api/mail/unsubscribe'), api.get('/api/mail/archive-suggestions')]);
  const cands = uns.candidates || [];
  const sugs = arch.suggestions || [];

  const unsub = h('section', { id: 'tidy-unsub', class: 'tidy-section', 'aria-labelledby': 'tidy-unsub-title' },
    h('h2', { id: 'tidy-unsub-title', class: 'section-title', text: 'Unsubscribe' }));
  if (!cands.length) {
    unsub.append(h('p', { class: 'muted tidy-empty', text: 'No mailing lists with an unsubscribe address in your mail.' }));
  } else {
    unsub.append(h('p', { class: 'hint', text: 'Lists you never read are ticked. Nothing happens until you confirm.' }),
      ...batch({
        id: 'tidy-unsub',
        items: cands,
        key: (c) => c.sender,
        ticked: (c) => c.read === 0 && !c.warning,
        rowEl: (c, cb) => h('li', { class: 'mem-item tidy-row', dataset: { method: c.method || '', read: String(c.read) } },
          h('div', { class: 'tidy-row-top' },
            h('label', { class: 'check', for: cb.id }, cb, h('span', { class: 'tidy-name mail-text-run', text: c.name || c.from })),
            c.from && c.from !== c.name ? h('span', { class: 'mail-from-address', text: c.from }) : null),
          h('p', { class: 'mem-meta' },
            h('span', { class: 'badge tidy-counts', text: `${c.read} of ${plural(c.messages, 'message', 'messages')} read` }),
            c.newest ? h('span', { class: 'tidy-newest', text: `newest ${fmtDate(c.newest)}` }) : null,
            h('span', { class: 'tidy-how mail-text-run', text: howText(c) })),
          (c.subjects || []).length ? h('p', { class: 'mail-summary tidy-subjects', text: c.subjects.join(' · ') }) : null,
          c.warning ? h('p', { class: 'alert alert-error tidy-warning', role: 'note', text: c.warning }) : null),
        reviewLabel: (n) => (n ? `Unsubscribe from ${plural(n, 'list', 'lists')}…` : 'Tick the lists to leave'),
        confirmTitle: (n) => `Unsubscribe from ${plural(n, 'list', 'lists')}?`,
        targetText: (c) => `${c.name || c.from}: ${c.method === 'one-click' ? `one-click request to ${hostOf(c.target)}`
          : c.method === 'mailto' ? `mail to ${c.target}` : `you open ${c.target} yourself`}`,
        confirmHint: 'os1 sends each request from the account the list writes to; lists it cannot leave for you are shown with their page to open.',
        goLabel: (n) => `Unsubscribe from ${plural(n, 'list', 'lists')}`,
        post: (senders) => api.post('/api/mail/unsubscribe', { senders }),
      }));
  }

  const archive = h('section', { id: 'tidy-archive', class: 'tidy-section', 'aria-labelledby': 'tidy-archive-title' },
    h('h2', { id: 'tidy-archive-title', class: 'section-title', text: 'Archive what you never read' }));
  if (!sugs.length) {
    archive.append(h('p', { class: 'muted tidy-empty', text: 'No sender whose mail you leave unread, run after run.' }));
  } else {
    archive.append(h('p', { class: 'hint', text: 'Their mail moves from your inbox to the archive on your mail server. Nothing is deleted.' }),
      ...batch({
        id: 'tidy-archive',
        items: sugs,
        key: (s) => s.sender,
        ticked: () => true,
        rowEl: (s, cb) => h('li', { class: 'mem-item tidy-row' },
          h('div', { class: 'tidy-row-top' },
            h('label', { class: 'check', for: cb.id }, cb, h('span', { class: 'tidy-name mail-text-run', text: s.name || s.sender })),
            s.name ? h('span', { class: 'mail-from-address', text: s.sender }) : null),
          h('p', { class: 'mem-meta' },
            h('span', { class: 'badge tidy-counts', text: `${s.unread} unread in a row` }),
            h('span', { class: 'tidy-moves', text: `${plural(s.messages, 'message', 'messages')} in your inbox` }),
            s.newest ? h('span', { class: 'tidy-newest', text: `newest ${fmtDate(s.newest)}` }) : null),
          (s.subjects || []).length ? h('p', { class: 'mail-summary tidy-subjects', text: s.subjects.join(' · ') }) : null),
        reviewLabel: (n) => (n ? `Archive mail from ${plural(n, 'sender', 'senders')}…` : 'Tick the senders to archive'),
        confirmTitle: (n) => `Archive mail from ${plural(n, 'sender', 'senders')}?`,
        targetText: (s) => `${s.name ? `${s.name} <${s.sender}>` : s.sender}: ${plural(s.messages, 'message', 'messages')}`,
        goLabel: (n) => `Archive mail from ${plural(n, 'sender', 'senders')}`,
        post: (senders) => api.post('/api/mail/archive', { senders }),
      }));
  }

  view.render(seq, 'Tidy up', mailTabs('tidy'),
    h('p', { class: 'hint', text: `${view.name} finds the lists you could leave and the mail you never open. You approve each batch once.` }),
    unsub, archive);
}

function ageText(days) {
  if (days <= 0) return 'today';
  if (days === 1) return 'yesterday';
  return `${days} days ago`;
}

function replyItem(r, kind) {
  const m = r.message || {};
  const from = m.from || {};
  const who = kind === 'owed'
    ? (from.name || from.email || 'Unknown sender')
    : `to ${(m.to || []).map((a) => a.name || a.email).join(', ') || 'no one'}`;
  return h('li', { class: 'mem-item reply-item', dataset: { id: m.id || '', overdue: r.nudge ? '1' : '' } },
    h('a', { class: 'mem-link mail-link reply-link', href: `#/mail/${enc(m.id || '')}` },
      h('span', { class: 'mail-row-top' },
        h('span', { class: 'mail-from reply-who', text: who }),
        h('span', { class: 'mail-when reply-age', text: ageText(r.age_days) })),
      h('span', { class: 'mail-subject', text: m.subject || '(no subject)' }),
      r.nudge ? h('span', { class: 'reply-nudge', text: r.nudge }) : h('span', { class: 'hint reply-calm', text: 'Not overdue yet.' })));
}

/** repliesPage renders Replies: what the user owes an answer to, and what they wait on. */
export async function repliesPage(view, seq) {
  const res = await api.get('/api/mail/replies');
  const section = (id, title, items, kind, empty) => h('section', { id, class: 'tidy-section', 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title`, class: 'section-title', text: `${title} (${items.length})` }),
    items.length ? h('ul', { class: 'mem-list mail-items' }, items.map((r) => replyItem(r, kind))) : h('p', { class: 'muted', text: empty }));
  view.render(seq, 'Replies', mailTabs('replies'),
    h('p', { class: 'hint', text: `${view.name} keeps track of the questions in your mail: the oldest first, with a nudge once one waits too long.` }),
    section('replies-owed', 'You owe an answer', res.owed || [], 'owed', 'Nothing waits for your answer.'),
    section('replies-awaiting', 'Waiting on others', res.awaiting || [], 'awaiting', 'You are not waiting on anyone.'));
}
