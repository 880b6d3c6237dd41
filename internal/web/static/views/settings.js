// Settings (#/settings, #/settings/SECTION): the companion's persona, the
// first-meeting answers, the model connection, mail accounts
// (settings-mail.js), notifications on this device (settings-push.js),
// reminders (settings-reminders.js), calendar (settings-calendar.js), appearance, API tokens,
// security (password, sessions), people (owner: invites, disable, delete,
// reset links) and the account.

import { h, icon, when, copyText, announce } from '../dom.js';
import { api } from '../api.js';
import { field, alertBox, busy, modelStatusLink, validTimeZone, timeZoneList, checkPasswords } from './common.js';
import { modelPanel } from './modelform.js';
import { mailSection } from './settings-mail.js';
import { pushSection } from './settings-push.js';
import { remindersSection } from './settings-reminders.js';
import { calendarSection } from './settings-calendar.js';
import { proactiveSection } from './settings-proactive.js';

const THEME_KEY = 'os1.theme';

export function mount(root, ctx, route) {
  const me = ctx.state.me;
  const isOwner = me.user.role === 'owner';
  const name = (me.persona && me.persona.name) || 'your companion';
  document.title = 'Settings · os1';

  const top = h('header', { class: 'topbar' },
    h('a', { id: 'nav-back', class: 'icon-btn', href: '#/', 'aria-label': 'Back to chat', title: 'Back to chat' }, icon('back')),
    h('div', { class: 'topbar-title' }, h('span', { class: 'companion-title', text: 'Settings' })),
    h('span', { class: 'spacer' }),
    modelStatusLink(ctx.state.model),
    h('a', { id: 'nav-settings', class: 'icon-btn', href: '#/settings', 'aria-label': 'Settings', title: 'Settings', 'aria-current': 'page' }, icon('gear')));

  const sections = [
    personaSection(ctx, name),
    profileSection(ctx),
    modelSection(ctx),
    mailSection(section),
    pushSection(section),
    remindersSection(section),
    proactiveSection(section),
    calendarSection(section),
    appearanceSection(),
    whileReplyingSection(),
    tokensSection(),
    securitySection(ctx),
    isOwner ? peopleSection(ctx) : null,
    accountSection(ctx),
  ].filter(Boolean);

  const version = ctx.state.status && ctx.state.status.version;
  const page = h('main', { id: 'main', class: 'page' },
    h('h1', { class: 'sr-only', tabindex: '-1', text: 'Settings' }),
    ...sections,
    version ? h('p', { class: 'version', text: `os1 ${version}` }) : null);
  root.append(h('div', { class: 'page-layout' }, top, h('div', { class: 'page-scroll' }, page)));

  ctx.refreshMe().then(() => fillFromMe(ctx)).catch(() => {});
  fillFromMe(ctx);

  function focusSection(r) {
    const target = r.parts[1] && root.querySelector(`#settings-${CSS.escape(r.parts[1])}`);
    if (target) {
      target.scrollIntoView({ block: 'start' });
      const hd = target.querySelector('h2');
      if (hd) hd.focus({ preventScroll: true });
    } else {
      page.querySelector('h1').focus({ preventScroll: true });
    }
  }
  focusSection(route);
  return { update: focusSection };
}

function section(id, title, ...children) {
  return h('section', { id: `settings-${id}`, class: 'card', 'aria-labelledby': `settings-${id}-title` },
    h('h2', { id: `settings-${id}-title`, tabindex: '-1', text: title }), ...children);
}

// Fills the persona and profile forms from ctx.state.me.
function fillFromMe(ctx) {
  const me = ctx.state.me;
  const p = me.persona || {};
  const set = (id, v) => { const el = document.getElementById(id); if (el && document.activeElement !== el && !el.dataset.dirty) el.value = v || ''; };
  set('persona-name', p.name);
  set('persona-voice', p.voice);
  set('persona-style', p.style);
  const pr = me.profile || {};
  const a = pr.answers || {};
  set('profile-social', a.social);
  set('profile-matters', a.matters);
  set('profile-sound', a.sound);
  set('profile-timezone', pr.timezone);
}

function dirtyOnInput(...els) {
  for (const el of els) el.addEventListener('input', () => { el.dataset.dirty = '1'; });
}

function saved(el, text = 'Saved.') {
  el.textContent = text;
  el.hidden = false;
  clearTimeout(el._t);
  el._t = setTimeout(() => { el.hidden = true; }, 4000);
}

function personaSection(ctx, name) {
  const nameIn = h('input', { id: 'persona-name', type: 'text', autocomplete: 'off', maxlength: 80 });
  const voice = h('input', { id: 'persona-voice', type: 'text', autocomplete: 'off', maxlength: 200 });
  const style = h('textarea', { id: 'persona-style', rows: 4, maxlength: 4000 });
  dirtyOnInput(nameIn, voice, style);
  const err = alertBox();
  const ok = h('p', { class: 'ok-note', role: 'status', hidden: true });
  const save = h('button', { id: 'persona-save', type: 'submit', class: 'btn', text: 'Save' });
  const rechoose = h('button', { id: 'persona-rename', type: 'button', class: 'btn ghost', text: 'Let her choose a new name' });
  let confirming = false;
  rechoose.addEventListener('click', async () => {
    err.clear();
    if (!confirming) {
      confirming = true;
      rechoose.textContent = 'Yes, choose again';
      rechoose.classList.add('danger-text');
      return;
    }
    confirming = false;
    rechoose.classList.remove('danger-text');
    try {
      const p = await busy(rechoose, 'Choosing…', () => api.post('/api/persona/name', { again: true }));
      ctx.state.me.persona = p;
      nameIn.value = p.name || '';
      delete nameIn.dataset.dirty;
      saved(ok, `She chose “${p.name}”.`);
      announce(`She chose ${p.name}.`);
    } catch (ex) {
      err.show(ex.message);
    }
    rechoose.textContent = 'Let her choose a new name';
  });
  const form = h('form', { id: 'persona-form', class: 'form', novalidate: true },
    field('Name', nameIn),
    field('Voice', voice, 'How she sounds, e.g. warm and calm, playful, brisk.'),
    field('Style', style, 'Anything else about how she should talk with you.'),
    err, ok,
    h('div', { class: 'row' }, save, rechoose));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.clear();
    const body = { name: nameIn.value.trim(), voice: voice.value.trim(), style: style.value.trim() };
    if (!body.name) { err.show('She needs a name.'); nameIn.focus(); return; }
    try {
      const p = await busy(save, 'Saving…', () => api.put('/api/persona', body));
      ctx.state.me.persona = p;
      for (const el of [nameIn, voice, style]) delete el.dataset.dirty;
      saved(ok);
    } catch (ex) { err.show(ex.message); }
  });
  return section('companion', 'Companion', h('p', { class: 'hint', text: `Who ${name} is, and how she talks with you.` }), form);
}

function profileSection(ctx) {
  const social = h('textarea', { id: 'profile-social', rows: 2, maxlength: 2000 });
  const matters = h('textarea', { id: 'profile-matters', rows: 2, maxlength: 2000 });
  const sound = h('textarea', { id: 'profile-sound', rows: 2, maxlength: 2000 });
  const tz = h('input', { id: 'profile-timezone', type: 'text', list: 'profile-tz-list', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' });
  dirtyOnInput(social, matters, sound, tz);
  const err = alertBox();
  const ok = h('p', { class: 'ok-note', role: 'status', hidden: true });
  const save = h('button', { id: 'profile-save', type: 'submit', class: 'btn', text: 'Save' });
  const form = h('form', { id: 'profile-form', class: 'form', novalidate: true },
    field('How social are you these days?', social),
    field('What matters most to you right now?', matters),
    field('How would you like her to sound?', sound),
    field('Time zone', tz), timeZoneList('profile-tz-list'),
    err, ok, h('div', { class: 'row' }, save));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.clear();
    if (!validTimeZone(tz.value.trim())) { err.show("That time zone isn't one I know. Try a name like Europe/Berlin."); tz.focus(); return; }
    const prev = (ctx.state.me.profile && ctx.state.me.profile.answers) || {};
    const body = {
      answers: { ...prev, social: social.value.trim(), matters: matters.value.trim(), sound: sound.value.trim() },
      timezone: tz.value.trim(),
    };
    try {
      const p = await busy(save, 'Saving…', () => api.put('/api/profile', body));
      ctx.state.me.profile = p;
      for (const el of [social, matters, sound, tz]) delete el.dataset.dirty;
      saved(ok);
    } catch (ex) { err.show(ex.message); }
  });
  return section('about', 'About you', h('p', { class: 'hint', text: 'Your answers from the first meeting. She keeps them in mind.' }), form);
}

function modelSection(ctx) {
  const panel = modelPanel(ctx, { settings: true });
  panel.refresh();
  return section('model', 'Language model', panel.el);
}

function appearanceSection() {
  let current = 'system';
  try { current = localStorage.getItem(THEME_KEY) || 'system'; } catch { /* default */ }
  const opts = [['system', 'Match this device'], ['light', 'Light'], ['dark', 'Dark']];
  const group = h('div', { class: 'segmented', role: 'radiogroup', 'aria-labelledby': 'settings-appearance-title' },
    opts.map(([value, label]) => {
      const input = h('input', { type: 'radio', name: 'theme', id: `theme-${value}`, value, checked: current === value });
      input.addEventListener('change', () => applyTheme(value));
      return h('label', { class: 'seg', for: `theme-${value}` }, input, h('span', { text: label }));
    }));
  return section('appearance', 'Appearance', group);
}

// While she replies: what a message sent during her reply does. Kept in
// this browser (views/chat-composer.js reads it at each send).
function whileReplyingSection() {
  const key = 'os1.whileReplying';
  let current = 'queue';
  try { current = localStorage.getItem(key) === 'interrupt' ? 'interrupt' : 'queue'; } catch { /* default */ }
  const opts = [['queue', 'Wait for her to finish'], ['interrupt', 'Interrupt her']];
  const group = h('div', { class: 'segmented', role: 'radiogroup', 'aria-labelledby': 'settings-replying-title' },
    opts.map(([value, label]) => {
      const input = h('input', { type: 'radio', name: 'while-replying', id: `while-replying-${value}`, value, checked: current === value });
      input.addEventListener('change', () => {
        try {
          if (value === 'queue') localStorage.removeItem(key);
          else localStorage.setItem(key, value);
        } catch { /* not kept */ }
      });
      return h('label', { class: 'seg', for: `while-replying-${value}` }, input, h('span', { text: label }));
    }));
  return section('replying', 'While she replies',
    h('p', { class: 'hint', text: 'A message you send while she is still answering either waits its turn (you can remove it until it goes) or stops her reply and goes at once. Saved in this browser.' }),
    group);
}

function applyTheme(value) {
  try {
    if (value === 'system') localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, value);
  } catch { /* not persisted */ }
  if (value === 'system') document.documentElement.removeAttribute('data-theme');
  else document.documentElement.setAttribute('data-theme', value);
}

function tokensSection() {
  const list = h('ul', { id: 'tokens', class: 'plain-list' });
  const err = alertBox();
  const nameIn = h('input', { id: 'token-name', type: 'text', autocomplete: 'off', maxlength: 80, placeholder: 'e.g. laptop terminal' });
  const create = h('button', { id: 'token-create', type: 'submit', class: 'btn', text: 'Create token' });
  const fresh = h('div', { id: 'token-new', class: 'secret-box', hidden: true });

  async function load() {
    try {
      const res = await api.get('/api/tokens');
      render(res.tokens || []);
    } catch (ex) { err.show(ex.message); }
  }

  function render(tokens) {
    if (!tokens.length) { list.replaceChildren(h('li', { class: 'muted', text: 'No tokens yet.' })); return; }
    list.replaceChildren(...tokens.map((t) => {
      const del = h('button', { type: 'button', class: 'btn ghost small token-delete', 'aria-label': `Delete token “${t.name}”` }, icon('trash'), h('span', { text: 'Delete' }));
      const li = h('li', { class: 'token', dataset: { id: t.id } },
        h('div', { class: 'grow' },
          h('div', { class: 'token-name', text: t.name || t.id }),
          h('div', { class: 'hint', text: `Created ${when(t.created_at)} · ${t.last_used_at ? `last used ${when(t.last_used_at)}` : 'never used'}` })),
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
          await busy(del, null, () => api.del(`/api/tokens/${encodeURIComponent(t.id)}`));
          li.remove();
          announce(`Deleted token ${t.name}.`);
          if (!list.children.length) render([]);
          else list.querySelector('button')?.focus();
        } catch (ex) { err.show(ex.message); }
      });
      return li;
    }));
  }

  const form = h('form', { id: 'token-form', class: 'inline-form', novalidate: true },
    field('Name', nameIn), create);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.clear();
    const n = nameIn.value.trim();
    if (!n) { err.show('Give the token a name so you can tell it apart later.'); nameIn.focus(); return; }
    try {
      const res = await busy(create, 'Creating…', () => api.post('/api/tokens', { name: n }));
      nameIn.value = '';
      showSecret(fresh, 'token', res.token, 'Copy this token now. It won\u2019t be shown again.', `Use it as: Authorization: Bearer ${res.token.slice(0, 8)}…`);
      load();
    } catch (ex) { err.show(ex.message); }
  });
  load();
  return section('tokens', 'API tokens',
    h('p', { class: 'hint', text: 'Tokens let scripts and the os1 command line talk to your companion as you.' }),
    list, form, err, fresh);
}

// Shows a secret value once, with a copy button. idBase gives #idBase-value / #idBase-copy.
function showSecret(box, idBase, value, lead, note) {
  const input = h('input', { id: `${idBase}-value`, type: 'text', readOnly: true, value, class: 'mono', 'aria-label': 'Value to copy', spellcheck: 'false' });
  const copy = h('button', { id: `${idBase}-copy`, type: 'button', class: 'btn secondary' }, icon('copy'), h('span', { text: 'Copy' }));
  copy.addEventListener('click', async () => {
    const ok = await copyText(value, input);
    copy.lastChild.textContent = ok ? 'Copied' : 'Select and copy';
    announce(ok ? 'Copied to the clipboard.' : 'Could not copy. The text is selected; copy it yourself.');
    setTimeout(() => { copy.lastChild.textContent = 'Copy'; }, 2500);
  });
  box.replaceChildren(h('p', { class: 'secret-lead', text: lead }), h('div', { class: 'copy-row' }, input, copy), note ? h('p', { class: 'hint', text: note }) : null);
  box.hidden = false;
  input.focus();
  input.select();
}

function peopleSection(ctx) {
  const err = alertBox();
  const users = h('ul', { id: 'users', class: 'plain-list' });
  const inviteBtn = h('button', { id: 'invite-create', type: 'button', class: 'btn' }, icon('plus'), h('span', { text: 'Create invite link' }));
  const box = h('div', { id: 'invite-new', class: 'secret-box', hidden: true });
  inviteBtn.addEventListener('click', async () => {
    err.clear();
    try {
      const res = await busy(inviteBtn, null, () => api.post('/api/invites', {}));
      const exp = res.expires_at ? new Date(res.expires_at) : null;
      showSecret(box, 'invite', res.url, 'Send this link to the person you want to invite.',
        exp && !Number.isNaN(exp.getTime()) ? `It expires ${exp.toLocaleString()}.` : '');
    } catch (ex) { err.show(ex.message); }
  });
  const resetBox = h('div', { id: 'reset-new', class: 'secret-box', hidden: true });
  async function load() {
    try {
      const res = await api.get('/api/users');
      const me = ctx.state.me.user.id;
      users.replaceChildren(...(res.users || []).map((u) => memberItem(u, u.id === me)));
    } catch (ex) { err.show(ex.message); }
  }
  // memberItem is one person, with the owner's actions on members.
  function memberItem(u, self) {
    const seen = u.last_seen_at ? `last seen ${when(u.last_seen_at)}` : 'never seen';
    const status = u.disabled ? ' · disabled' : '';
    const li = h('li', { class: 'user', dataset: { id: u.id, username: u.username, disabled: u.disabled ? '1' : '' } },
      h('div', { class: 'grow' },
        h('div', { class: 'token-name', text: `${u.display_name || u.username}${self ? ' (you)' : ''}` }),
        h('div', { class: 'hint', text: `@${u.username} · ${u.role}${status} · joined ${when(u.created_at)} · ${seen}` })));
    if (self) return li;
    const who = u.display_name || u.username;
    const act = async (btn, fn, done) => {
      err.clear();
      try { await busy(btn, null, fn); announce(done); load(); } catch (ex) { err.show(ex.message); }
    };
    const toggle = h('button', { type: 'button', class: `btn ghost small ${u.disabled ? 'user-enable' : 'user-disable'}`, text: u.disabled ? 'Enable' : 'Disable' });
    toggle.addEventListener('click', () => act(toggle,
      () => api.post(`/api/users/${encodeURIComponent(u.id)}/${u.disabled ? 'enable' : 'disable'}`, {}),
      u.disabled ? `${who} can sign in again.` : `${who} is disabled and signed out everywhere.`));
    const reset = h('button', { type: 'button', class: 'btn ghost small user-reset', text: 'Password reset link' });
    reset.addEventListener('click', async () => {
      err.clear();
      try {
        const res = await busy(reset, null, () => api.post(`/api/users/${encodeURIComponent(u.id)}/reset-link`, {}));
        const exp = res.expires_at ? new Date(res.expires_at) : null;
        showSecret(resetBox, 'reset', res.url, `Give this one-time link to ${who} to choose a new password.`,
          exp && !Number.isNaN(exp.getTime()) ? `It works once and expires ${exp.toLocaleString()}.` : '');
      } catch (ex) { err.show(ex.message); }
    });
    const del = h('button', { type: 'button', class: 'btn ghost small user-delete', 'aria-label': `Delete ${who} and all their data` }, icon('trash'), h('span', { text: 'Delete' }));
    del.addEventListener('click', () => {
      if (del.dataset.confirm !== '1') {
        del.dataset.confirm = '1';
        del.lastChild.textContent = 'Delete everything of theirs?';
        del.classList.add('danger-text');
        return;
      }
      act(del, () => api.del(`/api/users/${encodeURIComponent(u.id)}`), `Deleted ${who} and all their data.`);
    });
    li.append(h('div', { class: 'row' }, toggle, reset, del));
    return li;
  }
  load();
  return section('people', 'People',
    h('p', { class: 'hint', text: 'Everyone you invite gets a companion of their own. Deleting someone removes their conversations and memories for good.' }),
    users, h('div', { class: 'row' }, inviteBtn), box, resetBox, err);
}

// securitySection: change the password, see where you are signed in, and
// sign out other sessions (their open connections close at once).
function securitySection(ctx) {
  const err = alertBox();
  const ok = h('p', { class: 'ok-note', role: 'status', hidden: true });
  const cur = h('input', { id: 'password-current', type: 'password', autocomplete: 'current-password', required: true });
  const pw = h('input', { id: 'password-new', type: 'password', autocomplete: 'new-password', minlength: 10, required: true });
  const pw2 = h('input', { id: 'password-new2', type: 'password', autocomplete: 'new-password', minlength: 10, required: true });
  const save = h('button', { id: 'password-save', type: 'submit', class: 'btn', text: 'Change password' });
  const form = h('form', { id: 'password-form', class: 'form', novalidate: true },
    field('Current password', cur), field('New password', pw, 'At least 10 characters.'), field('New password again', pw2),
    h('div', { class: 'row' }, save));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.clear();
    if (!cur.value) { err.show('Enter your current password first.'); cur.focus(); return; }
    const bad = checkPasswords(pw.value, pw2.value);
    if (bad) { err.show(bad); pw.focus(); return; }
    try {
      const res = await busy(save, 'Changing…', () => api.put('/api/password', { current: cur.value, new: pw.value }));
      cur.value = pw.value = pw2.value = '';
      saved(ok, res && res.ended ? `Password changed. ${res.ended} other session${res.ended === 1 ? ' was' : 's were'} signed out.` : 'Password changed.');
      load();
    } catch (ex) { err.show(ex.message); }
  });

  const list = h('ul', { id: 'sessions', class: 'plain-list' });
  const others = h('button', { id: 'sessions-revoke-others', type: 'button', class: 'btn secondary', text: 'Sign out everywhere else' });
  others.addEventListener('click', async () => {
    err.clear();
    try {
      const res = await busy(others, 'Signing out…', () => api.post('/api/sessions/revoke-others', {}));
      saved(ok, `Signed out ${res.ended} other session${res.ended === 1 ? '' : 's'}.`);
      load();
    } catch (ex) { err.show(ex.message); }
  });
  async function load() {
    try {
      const res = await api.get('/api/sessions');
      const sessions = res.sessions || [];
      list.replaceChildren(...sessions.map(sessionItem));
      others.hidden = !sessions.some((x) => !x.current);
    } catch (ex) { err.show(ex.message); }
  }
  function sessionItem(x) {
    const used = x.last_used_at ? `last used ${when(x.last_used_at)}` : 'not used yet';
    const where = [device(x.user_agent), x.address].filter(Boolean).join(' · ');
    const li = h('li', { class: 'session', dataset: { id: x.id, current: x.current ? '1' : '' } },
      h('div', { class: 'grow' },
        h('div', { class: 'token-name', text: x.current ? `${where || 'This browser'} (this one)` : (where || 'A browser') }),
        h('div', { class: 'hint', text: `Signed in ${when(x.created_at)} · ${used}` })));
    if (x.current) return li;
    const end = h('button', { type: 'button', class: 'btn ghost small session-end', text: 'Sign out' });
    end.addEventListener('click', async () => {
      err.clear();
      try {
        await busy(end, null, () => api.del(`/api/sessions/${encodeURIComponent(x.id)}`));
        li.remove();
        announce('Signed that session out.');
        others.hidden = !list.querySelector('.session-end');
      } catch (ex) { err.show(ex.message); }
    });
    li.append(end);
    return li;
  }
  load();
  return section('security', 'Security',
    h('p', { class: 'token-name', text: 'Password' }), form,
    h('p', { class: 'token-name', text: 'Where you are signed in' }),
    h('p', { class: 'hint', text: 'Signing a session out closes its open chats and calls at once. API tokens are listed above.' }),
    list, h('div', { class: 'row' }, others), err, ok);
}

// device names a browser from its User-Agent, roughly ("Firefox on Linux").
function device(ua) {
  if (!ua) return '';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrome\//.test(ua) ? 'Chrome'
    : /Safari\//.test(ua) ? 'Safari' : ua.split(/[\s/]/)[0];
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS'
    : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : '';
  return os ? `${browser} on ${os}` : browser;
}

function accountSection(ctx) {
  const u = ctx.state.me.user;
  const out = h('button', { id: 'logout', type: 'button', class: 'btn secondary', text: 'Sign out' });
  out.addEventListener('click', () => busy(out, 'Signing out…', () => ctx.logout()));
  return section('account', 'Account',
    h('p', { text: `Signed in as ${u.display_name || u.username} (@${u.username}, ${u.role}).` }),
    h('div', { class: 'row' }, out));
}
