// Settings → Calendar (#/settings/calendar): the user's CalDAV accounts
// (each with its last sync and last error, "Sync now" with what the sync
// did, conflicts included, and remove) and the form that connects one (URL,
// username, password: the password goes to the server once and never comes
// back; the field is emptied as soon as the form is sent); and read-only
// subscriptions to .ics addresses (a holidays calendar), each with its last
// fetch, the events it could not read, "Refresh" and remove, and the form
// that adds one. The API is /api/calendar (docs/calendar.md).
//
// Names, errors and event titles come from servers: they are set as text
// only, never as markup.

import { h, icon, when, announce } from '../dom.js';
import { api } from '../api.js';
import { field, alertBox, busy } from './common.js';
import { sentence } from './settings-mail.js';

const enc = encodeURIComponent;

/** syncLine says what a CalDAV sync did, in words. */
export function syncLine(rep) {
  const n = (k, one, many) => `${k} ${k === 1 ? one : many}`;
  let s = `Synced ${n(rep.calendars || 0, 'calendar', 'calendars')}: ${rep.pulled || 0} in, ${rep.pushed || 0} out, ${rep.deleted || 0} deleted`;
  const c = (rep.conflicts || []).length;
  if (c) s += `, ${n(c, 'conflict', 'conflicts')} (both versions kept)`;
  return s + '.';
}

/** feedLine says what a subscription's fetch did, in words. */
export function feedLine(rep) {
  if (rep.not_modified) return 'Unchanged since the last fetch.';
  return `Fetched: ${rep.added || 0} new, ${rep.updated || 0} updated, ${rep.removed || 0} removed.`;
}

export function calendarSection(section) {
  return section('calendar', 'Calendar',
    h('p', { class: 'hint', text: 'Your calendars on other servers, synced both ways, and calendars you follow read-only. Your agenda is in ' },
      h('a', { href: '#/calendar', text: 'Calendar' }), '.'),
    accountsPart(), subscriptionsPart());
}

// problems lists lines (conflicts, unreadable events) under a heading.
function problems(cls, title, lines) {
  if (!lines.length) return null;
  return h('div', { class: `cal-problems ${cls}` },
    h('p', { class: 'hint', text: title }),
    h('ul', { class: 'plain-list' }, ...lines.map((x) => h('li', { class: 'hint', text: x }))));
}

function accountsPart() {
  const err = alertBox();
  const list = h('ul', { id: 'cal-accounts', class: 'plain-list' });

  async function load() {
    try {
      const res = await api.get('/api/calendar/accounts');
      const as = res.accounts || [];
      list.replaceChildren(...(as.length ? as.map(item)
        : [h('li', { class: 'muted', text: 'No CalDAV account yet. Connect one below (Nextcloud, Fastmail, iCloud, Radicale…).' })]));
    } catch (ex) {
      list.replaceChildren();
      err.show(ex.message);
    }
  }

  function item(a) {
    const status = h('div', { class: 'hint cal-account-status' });
    const lastErr = h('p', { class: 'mail-account-error', role: 'alert', hidden: true });
    const report = h('div', { class: 'cal-sync-report', role: 'status' });
    const sync = h('button', { type: 'button', class: 'btn secondary small cal-sync', text: 'Sync now', 'aria-label': `Sync ${a.name} now` });
    const del = h('button', { type: 'button', class: 'btn ghost small cal-account-remove', 'aria-label': `Remove ${a.name}` }, icon('trash'), h('span', { text: 'Remove' }));
    const li = h('li', { class: 'cal-account', dataset: { id: a.id } },
      h('div', { class: 'grow' },
        h('div', { class: 'token-name', text: a.name }),
        status, lastErr, report),
      h('div', { class: 'row tight' }, sync, del));
    const show = (x) => {
      status.textContent = `${x.url} · ${x.last_sync_at ? `last synced ${when(x.last_sync_at)}` : 'not synced yet'}`;
      lastErr.textContent = x.last_error ? sentence(x.last_error) : '';
      lastErr.hidden = !x.last_error;
    };
    show(a);
    sync.addEventListener('click', async () => {
      err.clear();
      report.replaceChildren();
      try {
        const rep = await busy(sync, 'Syncing…', () => api.post(`/api/calendar/accounts/${enc(a.id)}/sync`));
        const line = syncLine(rep);
        report.replaceChildren(h('p', { class: 'hint cal-sync-line', text: line }),
          problems('cal-conflicts', 'Edited on both sides:', (rep.conflicts || []).map((c) => `“${c.summary}”: ${c.rule}`)),
          problems('cal-unreadable', 'Events the server holds that os1 could not read:', rep.errors || []));
        show({ ...a, last_sync_at: new Date().toISOString(), last_error: '' });
        announce(line);
      } catch (ex) {
        show({ ...a, last_error: ex.message });
      }
    });
    del.addEventListener('click', async () => {
      if (del.dataset.confirm !== '1') {
        del.dataset.confirm = '1';
        del.lastChild.textContent = 'Remove it? (nothing is deleted on the server)';
        del.classList.add('danger-text');
        return;
      }
      err.clear();
      try {
        await busy(del, null, () => api.del(`/api/calendar/accounts/${enc(a.id)}`));
        announce(`Removed ${a.name}.`);
        await load();
      } catch (ex) { err.show(ex.message); }
    });
    return li;
  }

  const formErr = alertBox();
  const url = h('input', { id: 'cal-account-url', type: 'url', required: true, placeholder: 'https://cloud.example.org/remote.php/dav', autocomplete: 'url' });
  const user = h('input', { id: 'cal-account-user', type: 'text', required: true, autocomplete: 'username' });
  const pw = h('input', { id: 'cal-account-password', type: 'password', required: true, autocomplete: 'current-password' });
  const name = h('input', { id: 'cal-account-name', type: 'text', autocomplete: 'off' });
  const add = h('button', { id: 'cal-account-add', type: 'submit', class: 'btn', text: 'Connect' });
  const form = h('form', { id: 'cal-account-form', class: 'form', novalidate: true },
    h('h4', { text: 'Connect a CalDAV account' }),
    field('Server address', url, 'https://, or http:// on this machine'),
    h('div', { class: 'row' }, field('Username', user), field('Password', pw)),
    field('Name (optional)', name),
    formErr, h('div', { class: 'row' }, add));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    formErr.clear();
    if (!url.value.trim() || !user.value || !pw.value) {
      formErr.show('The server address, username and password are all needed.');
      return;
    }
    const body = { url: url.value.trim(), username: user.value, password: pw.value, name: name.value.trim() };
    pw.value = ''; // sent once; never kept in the page
    try {
      const a = await busy(add, 'Connecting…', () => api.post('/api/calendar/accounts', body));
      url.value = ''; user.value = ''; name.value = '';
      announce(`Connected ${a.name}. Sync it now to bring its events in.`);
      await load();
    } catch (ex) { formErr.show(ex.message); }
  });

  load();
  return h('div', { class: 'cal-settings-part' }, h('h3', { text: 'CalDAV accounts' }), list, err, form);
}

function subscriptionsPart() {
  const err = alertBox();
  const list = h('ul', { id: 'cal-subscriptions', class: 'plain-list' });

  async function load() {
    try {
      const res = await api.get('/api/calendar/subscriptions');
      const subs = res.subscriptions || [];
      list.replaceChildren(...(subs.length ? subs.map(item)
        : [h('li', { class: 'muted', text: 'No subscriptions yet. Add an .ics address below, such as your country’s holidays.' })]));
    } catch (ex) {
      list.replaceChildren();
      err.show(ex.message);
    }
  }

  function item(c) {
    const status = h('div', { class: 'hint cal-sub-status' });
    const lastErr = h('p', { class: 'mail-account-error', role: 'alert', hidden: true });
    const report = h('div', { class: 'cal-sub-report', role: 'status' });
    const refresh = h('button', { type: 'button', class: 'btn secondary small cal-sub-refresh', text: 'Refresh', 'aria-label': `Refresh ${c.name}` });
    const del = h('button', { type: 'button', class: 'btn ghost small cal-sub-remove', 'aria-label': `Unsubscribe from ${c.name}` }, icon('trash'), h('span', { text: 'Unsubscribe' }));
    const li = h('li', { class: 'cal-sub', dataset: { id: c.id } },
      h('div', { class: 'grow' },
        h('div', { class: 'token-name', text: c.name }),
        h('div', { class: 'hint cal-sub-url', text: c.url }),
        status, lastErr, report),
      h('div', { class: 'row tight' }, refresh, del));
    const show = (x, errors) => {
      status.textContent = `Read-only · ${x.fetched_at ? `fetched ${when(x.fetched_at)}` : 'not fetched yet'}`;
      lastErr.textContent = x.fetch_error ? sentence(x.fetch_error) : '';
      lastErr.hidden = !x.fetch_error;
      report.replaceChildren(problems('cal-unreadable', 'Events in the file os1 could not read:', errors || []) || '');
    };
    show(c, c.feed_errors);
    refresh.addEventListener('click', async () => {
      err.clear();
      try {
        const rep = await busy(refresh, 'Fetching…', () => api.post(`/api/calendar/subscriptions/${enc(c.id)}/refresh`));
        show({ ...c, fetched_at: new Date().toISOString(), fetch_error: '' }, rep.errors);
        report.prepend(h('p', { class: 'hint cal-sub-line', text: feedLine(rep) }));
        announce(feedLine(rep));
      } catch (ex) {
        show({ ...c, fetch_error: ex.message }, c.feed_errors);
      }
    });
    del.addEventListener('click', async () => {
      if (del.dataset.confirm !== '1') {
        del.dataset.confirm = '1';
        del.lastChild.textContent = 'Unsubscribe and remove its events?';
        del.classList.add('danger-text');
        return;
      }
      err.clear();
      try {
        await busy(del, null, () => api.del(`/api/calendar/subscriptions/${enc(c.id)}`));
        announce(`Unsubscribed from ${c.name}.`);
        await load();
      } catch (ex) { err.show(ex.message); }
    });
    return li;
  }

  const formErr = alertBox();
  const result = h('div', { id: 'cal-sub-result', role: 'status' });
  const url = h('input', { id: 'cal-sub-url', type: 'url', required: true, placeholder: 'https://…/holidays.ics', autocomplete: 'off' });
  const name = h('input', { id: 'cal-sub-name', type: 'text', autocomplete: 'off' });
  const add = h('button', { id: 'cal-sub-add', type: 'submit', class: 'btn', text: 'Subscribe' });
  const form = h('form', { id: 'cal-sub-form', class: 'form', novalidate: true },
    h('h4', { text: 'Subscribe to a calendar' }),
    field('Address of the .ics file', url, 'https:// or webcal:// — fetched now and every 6 hours; os1 never changes it'),
    field('Name (optional)', name),
    formErr, result, h('div', { class: 'row' }, add));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    formErr.clear();
    result.replaceChildren();
    if (!url.value.trim()) { formErr.show('Give the address of the .ics file.'); return; }
    try {
      const res = await busy(add, 'Fetching…', () => api.post('/api/calendar/subscriptions', { url: url.value.trim(), name: name.value.trim() }));
      url.value = ''; name.value = '';
      const line = `Subscribed to ${res.subscription.name}. ${feedLine(res.report)}`;
      result.replaceChildren(h('p', { class: 'hint', text: line }));
      announce(line);
      await load();
    } catch (ex) { formErr.show(ex.message); }
  });

  load();
  return h('div', { class: 'cal-settings-part' }, h('h3', { text: 'Subscriptions' }), list, err, form);
}
