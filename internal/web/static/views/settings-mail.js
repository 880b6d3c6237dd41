// Settings → Mail (#/settings/mail): the user's connected mail accounts
// (IMAP + SMTP, docs/mail.md), each with its last sync, its last error, a
// "Sync now" with a progress bar, and remove; and the form that connects
// one. The password goes to the server once (POST /api/mail/accounts): the
// field is emptied as soon as the form is sent and the server never sends it
// back.

import { h, icon, when, announce } from '../dom.js';
import { api } from '../api.js';
import { field, alertBox, busy } from './common.js';

const enc = encodeURIComponent;

// The usual ports for each security, per protocol.
const PORTS = {
  imap: { tls: 993, starttls: 143, none: 143 },
  smtp: { tls: 465, starttls: 587, none: 587 },
};
const SECURITY = [['tls', 'TLS'], ['starttls', 'STARTTLS'], ['none', 'None (this machine only)']];
const PHASE = { connecting: 'Connecting…', fetching: 'Reading your mail…', triaging: 'Sorting what matters…' };
const POLL_MS = 1000;

// sentence makes an error's text a sentence: a capital first letter and a
// full stop (the sync's errors are Go errors, not sentences).
export function sentence(s) {
  s = String(s || '').trim();
  if (!s) return s;
  s = s[0].toUpperCase() + s.slice(1);
  return /[.?!]$/.test(s) ? s : s + '.';
}

export function mailSection(section) {
  const err = alertBox();
  const list = h('ul', { id: 'mail-accounts', class: 'plain-list' });
  const polls = new Map(); // account id → timer

  function stopPolls() {
    for (const t of polls.values()) clearTimeout(t);
    polls.clear();
  }

  async function load() {
    try {
      const res = await api.get('/api/mail/accounts');
      render(res.accounts || []);
    } catch (ex) {
      list.replaceChildren();
      err.show(ex.message);
    }
  }

  function render(accounts) {
    stopPolls();
    if (!accounts.length) {
      list.replaceChildren(h('li', { class: 'muted', text: 'No mail accounts yet. Connect one below.' }));
      return;
    }
    const items = accounts.map(accountItem);
    list.replaceChildren(...items);
    for (const li of items) li.follow(); // a sync may be running already (the first one starts on connect)
  }

  function accountItem(a) {
    const status = h('div', { class: 'hint mail-account-status' });
    const lastErr = h('p', { class: 'mail-account-error', role: 'alert', hidden: true });
    const bar = h('progress', { class: 'mail-progress', max: 1, value: 0, hidden: true, 'aria-label': `Sync of ${a.address}` });
    const barText = h('p', { class: 'hint mail-progress-text', role: 'status' });
    const sync = h('button', { type: 'button', class: 'btn secondary small mail-sync', text: 'Sync now' });
    const del = h('button', { type: 'button', class: 'btn ghost small mail-remove', 'aria-label': `Remove ${a.address}` }, icon('trash'), h('span', { text: 'Remove' }));
    const li = h('li', { class: 'mail-account', dataset: { id: a.id, address: a.address } },
      h('div', { class: 'grow' },
        h('div', { class: 'token-name', text: a.name && a.name !== a.address ? `${a.name} · ${a.address}` : a.address }),
        status, lastErr, bar, barText),
      h('div', { class: 'row tight' }, sync, del));

    const showAccount = (x) => {
      const synced = x.last_sync_at ? `last synced ${when(x.last_sync_at)}` : 'not synced yet';
      status.textContent = `${x.imap.host}:${x.imap.port} · ${synced}`;
      lastErr.textContent = x.last_error ? sentence(x.last_error) : '';
      lastErr.hidden = !x.last_error;
    };
    showAccount(a);

    // follow polls the sync's progress until it ends.
    const follow = async () => {
      polls.delete(a.id);
      if (!li.isConnected) return;
      let p;
      try {
        p = await api.get(`/api/mail/accounts/${enc(a.id)}/sync`);
      } catch (ex) {
        barText.textContent = ex.message;
        bar.hidden = true;
        sync.disabled = false;
        return;
      }
      showProgress(p);
      if (p.running && li.isConnected) polls.set(a.id, setTimeout(follow, POLL_MS));
    };

    const showProgress = (p) => {
      li.dataset.phase = p.phase || '';
      if (p.running) {
        sync.disabled = true;
        bar.hidden = false;
        if (p.total > 0) {
          bar.max = p.total;
          bar.value = Math.min(p.done, p.total);
        } else {
          bar.removeAttribute('value'); // indeterminate until the total is known
        }
        const counted = p.total > 0 ? ` ${p.done} of ${p.total}` : '';
        barText.textContent = (PHASE[p.phase] || 'Syncing…') + counted;
        return;
      }
      sync.disabled = false;
      bar.hidden = true;
      if (p.phase === 'failed') {
        barText.textContent = '';
        showAccount({ ...a, last_sync_at: p.ended_at || a.last_sync_at, last_error: p.error || 'The sync failed.' });
      } else if (p.phase === 'done') {
        barText.textContent = p.total ? `Synced: ${p.total} message${p.total === 1 ? '' : 's'} read.` : 'Synced.';
        showAccount({ ...a, last_sync_at: p.ended_at || a.last_sync_at, last_error: '' });
        announce(`${a.address} is up to date.`);
      }
    };

    sync.addEventListener('click', async () => {
      err.clear();
      try {
        const p = await busy(sync, 'Starting…', () => api.post(`/api/mail/accounts/${enc(a.id)}/sync`, {}));
        showProgress(p);
        clearTimeout(polls.get(a.id));
        polls.set(a.id, setTimeout(follow, POLL_MS));
      } catch (ex) { err.show(ex.message); }
    });

    del.addEventListener('click', async () => {
      if (del.dataset.confirm !== '1') {
        del.dataset.confirm = '1';
        del.lastChild.textContent = 'Remove it and its mail from os1?';
        del.classList.add('danger-text');
        return;
      }
      err.clear();
      try {
        await busy(del, null, () => api.del(`/api/mail/accounts/${enc(a.id)}`));
        clearTimeout(polls.get(a.id));
        polls.delete(a.id);
        li.remove();
        announce(`Removed ${a.address}. Nothing was deleted on the mail server.`);
        if (!list.children.length) render([]);
      } catch (ex) { err.show(ex.message); }
    });

    li.follow = follow;
    return li;
  }

  const form = connectForm(async (a) => {
    announce(`Connected ${a.address}. Reading its mail now.`);
    await load();
    const li = list.querySelector(`.mail-account[data-id="${CSS.escape(a.id)}"]`);
    if (li) li.scrollIntoView({ block: 'center' });
  });
  // Back from an OAuth sign-in (finishMailOAuth): say how it went.
  const back = new URLSearchParams(location.hash.split('?')[1] || '');
  if (back.get('mail_error')) err.show(sentence(back.get('mail_error')));
  if (back.get('mail_connected')) announce(`Connected ${back.get('mail_connected')}. Reading its mail now.`);
  load();
  return section('mail', 'Mail',
    h('p', { class: 'hint', text: 'Connect your own mail accounts. She reads them to sort what matters and drafts replies; nothing is sent without your yes. Removing an account forgets its mail here; nothing is deleted on the server.' }),
    list, err, rulesPart(), oauthPart(form), form);
}

const PROVIDER_NAMES = { google: 'Google', microsoft: 'Microsoft' };

// oauthPart offers "Sign in with …" for the OAuth providers the owner
// configured ([[mail.oauth]]); hidden when there are none. The address comes
// from the form's address field; the provider's page sends the browser back
// to #/mail-oauth, which finishes the sign-in (finishMailOAuth).
function oauthPart(form) {
  const err = alertBox();
  const buttons = h('div', { class: 'row mail-oauth-buttons' });
  const part = h('div', { class: 'mail-oauth', hidden: true },
    h('p', { class: 'token-name', text: 'Sign in with your provider' }),
    h('p', { class: 'hint', text: 'Type the email address in the form below, then sign in with its provider: no password is stored, only a token you can revoke there.' }),
    buttons, err);
  api.get('/api/mail/oauth').then((res) => {
    const providers = (res && res.providers) || [];
    if (!providers.length) return;
    buttons.replaceChildren(...providers.map((p) => {
      const b = h('button', { type: 'button', class: 'btn secondary', dataset: { provider: p }, text: `Sign in with ${PROVIDER_NAMES[p] || p}` });
      b.addEventListener('click', async () => {
        err.clear();
        const address = form.querySelector('#mail-address');
        if (!address.value.trim()) { err.show('Type the account\u2019s email address in the form first.'); address.focus(); return; }
        try {
          const r = await busy(b, 'Opening…', () => api.post('/api/mail/oauth/start', {
            provider: p, address: address.value.trim(), name: form.querySelector('#mail-name').value.trim(),
            sync_days: Number(form.querySelector('#mail-days').value) || 0,
          }));
          location.assign(r.url);
        } catch (ex) { err.show(ex.message); }
      });
      return b;
    }));
    part.hidden = false;
  }).catch(() => { /* no mail on this server */ });
  return part;
}

// finishMailOAuth completes a sign-in the provider sent back to #/mail-oauth
// (with this page's session, which the provider's redirect could not carry)
// and returns the hash to show next.
export async function finishMailOAuth(query) {
  if (query.error) return '#/settings/mail?mail_error=' + enc(`The provider did not connect the account (${query.error}).`);
  try {
    const a = await api.post('/api/mail/oauth/finish', { state: query.state || '', code: query.code || '' });
    return '#/settings/mail?mail_connected=' + enc(a.address);
  } catch (ex) {
    return '#/settings/mail?mail_error=' + enc(ex.message);
  }
}

// rulesPart lists the user's mail rules as she understood them, each with
// delete, and a form to write a new one: "Try it" shows which recent
// messages it would touch (a dry run, nothing kept), "Add" keeps it. She
// also takes rules in the chat (mail_add_rule, after the user's yes).
function rulesPart() {
  const list = h('ul', { id: 'mail-rules', class: 'plain-list' });
  const err = alertBox();
  const triage = h('p', { id: 'mail-triage', class: 'hint' });
  const text = h('input', { id: 'mail-rule-text', type: 'text', maxlength: 500, autocomplete: 'off',
    placeholder: 'e.g. archive newsletters unless they\u2019re from the climbing club' });
  const tryBtn = h('button', { id: 'mail-rule-try', type: 'button', class: 'btn secondary', text: 'Try it' });
  const addBtn = h('button', { id: 'mail-rule-add', type: 'submit', class: 'btn', text: 'Add rule' });
  const preview = h('div', { id: 'mail-rule-preview', class: 'hint', role: 'status' });
  const form = h('form', { id: 'mail-rule-form', class: 'form', novalidate: true },
    field('A new rule, in your own words', text), h('div', { class: 'row' }, tryBtn, addBtn), preview);
  const part = h('div', { class: 'mail-rules' },
    h('p', { class: 'token-name', text: 'Your mail rules' }),
    h('p', { class: 'hint', text: 'Rules in your own words, with how she understood them. They decide before her own sorting. You can also tell her one in the chat.' }),
    triage, list, err, form);

  api.get('/api/mail/triage').then((t) => {
    triage.textContent = t.mode === 'model'
      ? `She sorts new mail with the model: ${Number(t.used_today).toLocaleString()} of ${Number(t.daily_tokens).toLocaleString()} tokens used today; past that, by rules.`
      : 'She sorts new mail by rules, without the model.';
  }).catch(() => { triage.hidden = true; });

  function ruleItem(r) {
    const del = h('button', { type: 'button', class: 'btn ghost small mail-rule-delete', 'aria-label': `Delete the rule “${r.text}”` }, icon('trash'), h('span', { text: 'Delete' }));
    const understood = r.understood && r.understood.summary;
    const li = h('li', { class: 'mail-rule', dataset: { id: r.id } },
      h('div', { class: 'grow' },
        h('div', { class: 'mail-rule-text', text: `“${r.text}”` }),
        understood ? h('div', { class: 'hint', text: `She understood: ${understood}${r.enabled ? '' : ' (off)'}` }) : null),
      del);
    del.addEventListener('click', async () => {
      if (del.dataset.confirm !== '1') {
        del.dataset.confirm = '1';
        del.lastChild.textContent = 'Really delete?';
        del.classList.add('danger-text');
        return;
      }
      err.clear();
      try {
        await busy(del, null, () => api.del(`/api/mail/rules/${enc(r.id)}`));
        li.remove();
        announce('Deleted the rule.');
      } catch (ex) { err.show(ex.message); }
    });
    return li;
  }

  api.get('/api/mail/rules').then((res) => {
    list.replaceChildren(...((res && res.rules) || []).map(ruleItem));
  }).catch(() => { part.hidden = true; /* no mail on this server: the accounts list says so */ });

  tryBtn.addEventListener('click', async () => {
    err.clear();
    if (!text.value.trim()) { text.focus(); return; }
    try {
      const res = await busy(tryBtn, 'Trying…', () => api.post('/api/mail/rules/dry-run', { text: text.value.trim() }));
      const hits = res.hits || [];
      preview.replaceChildren(
        h('p', { text: `She understands: ${(res.understood && res.understood.summary) || ''}` }),
        h('p', { text: hits.length ? `Of your recent mail it would change ${hits.length}:` : 'It would change none of your recent mail.' }),
        hits.length ? h('ul', { class: 'plain-list' }, ...hits.slice(0, 10).map((x) => h('li', { class: 'mail-rule-hit', text: `${(x.From && (x.From.name || x.From.email)) || ''} — “${x.Subject || ''}”: ${x.Change || ''}` }))) : null);
    } catch (ex) { err.show(ex.message); }
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.clear();
    if (!text.value.trim()) { text.focus(); return; }
    try {
      const r = await busy(addBtn, 'Adding…', () => api.post('/api/mail/rules', { text: text.value.trim() }));
      list.append(ruleItem(r));
      text.value = '';
      preview.replaceChildren();
      announce(`Added the rule. She understood: ${r.understood && r.understood.summary}`);
    } catch (ex) { err.show(ex.message); }
  });
  return part;
}

// connectForm is the "Connect an account" form; done gets the new account.
function connectForm(done) {
  const address = h('input', { id: 'mail-address', type: 'email', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', placeholder: 'you@example.com', required: true });
  const name = h('input', { id: 'mail-name', type: 'text', autocomplete: 'off', maxlength: 80, placeholder: 'e.g. Personal' });
  const imap = endpoint('imap', 'IMAP (incoming)', 'imap.example.com', 'tls');
  const smtp = endpoint('smtp', 'SMTP (sending)', 'smtp.example.com', 'starttls');
  const user = h('input', { id: 'mail-username', type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' });
  const pw = h('input', { id: 'mail-password', type: 'password', autocomplete: 'new-password', required: true });
  const days = h('input', { id: 'mail-days', type: 'number', min: 1, max: 3650, step: 1, value: '90', inputmode: 'numeric' });
  const err = alertBox();
  const submit = h('button', { id: 'mail-connect', type: 'submit', class: 'btn', text: 'Connect' });

  const form = h('form', { id: 'mail-form', class: 'form mail-form', novalidate: true },
    h('p', { class: 'token-name', text: 'Connect an account' }),
    field('Email address', address),
    field('Label', name, 'Optional: how she should call this account.'),
    imap.el, smtp.el,
    field('Username', user, 'Leave empty to sign in with the email address.'),
    field('Password or app password', pw, 'Many providers want an app password here. It is stored encrypted and never shown again.'),
    field('Days of mail to read', days, 'How far back the first sync reaches.'),
    err, h('div', { class: 'row' }, submit));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.clear();
    const password = pw.value;
    pw.value = ''; // sent once, never kept in the page
    const body = {
      address: address.value.trim(),
      name: name.value.trim(),
      imap: imap.value(),
      smtp: smtp.value(),
      username: user.value.trim(),
      password,
      sync_days: Number(days.value) || 0,
    };
    if (!body.address) { err.show('Enter the email address of the account.'); address.focus(); return; }
    if (!body.imap.host) { err.show('Enter the IMAP server\u2019s host name (your provider\u2019s help pages name it).'); imap.host.focus(); return; }
    if (!password) { err.show('Enter the password or app password.'); pw.focus(); return; }
    if (!Number.isInteger(body.sync_days) || body.sync_days < 1 || body.sync_days > 3650) { err.show('Days of mail to read must be between 1 and 3650.'); days.focus(); return; }
    try {
      const a = await busy(submit, 'Connecting…', () => api.post('/api/mail/accounts', body));
      for (const el of [address, name, user]) el.value = '';
      imap.reset();
      smtp.reset();
      days.value = '90';
      await done(a);
    } catch (ex) {
      err.show(ex.message);
      pw.focus();
    }
  });
  return form;
}

// endpoint is a host, port and security for one protocol. The port follows
// the security's usual port until the user types one of their own.
function endpoint(kind, legend, placeholder, security) {
  const host = h('input', { id: `mail-${kind}-host`, type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', placeholder });
  const port = h('input', { id: `mail-${kind}-port`, type: 'number', min: 1, max: 65535, step: 1, value: String(PORTS[kind][security]), inputmode: 'numeric' });
  const sec = h('select', { id: `mail-${kind}-security` },
    SECURITY.map(([v, label]) => h('option', { value: v, text: label, selected: v === security })));
  let typed = false;
  port.addEventListener('input', () => { typed = true; });
  sec.addEventListener('change', () => { if (!typed) port.value = String(PORTS[kind][sec.value]); });
  const el = h('fieldset', { class: 'mail-endpoint' },
    h('legend', { text: legend }),
    h('div', { class: 'mail-endpoint-row' },
      field('Host', host, kind === 'smtp' ? 'Leave empty to use the IMAP host.' : null),
      field('Port', port),
      field('Security', sec)));
  return {
    el, host,
    value: () => ({ host: host.value.trim(), port: Number(port.value) || 0, security: sec.value }),
    reset() {
      host.value = '';
      sec.value = security;
      port.value = String(PORTS[kind][security]);
      typed = false;
    },
  };
}
