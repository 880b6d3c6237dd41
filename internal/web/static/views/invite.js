// Invite accept (#/invite/TOKEN): a new member creates their account.

import { h } from '../dom.js';
import { api, setCsrf } from '../api.js';
import { solo, field, alertBox, busy, checkPasswords } from './common.js';

export function mount(root, ctx, route) {
  const token = route.parts[1] || '';
  if (ctx.state.me) {
    const out = h('button', { type: 'button', class: 'btn secondary', text: 'Sign out' });
    out.addEventListener('click', () => ctx.logout(location.hash));
    root.append(solo(
      h('h1', { class: 'title', tabindex: '-1', text: 'You have an invite' }),
      h('p', { class: 'lede', text: `You're signed in as ${ctx.state.me.user.display_name || ctx.state.me.user.username}. To accept this invite as a new person, sign out first.` }),
      h('div', { class: 'row' }, out, h('a', { class: 'btn ghost', href: '#/', text: 'Back to chat' }))));
    return;
  }
  // A used or expired link says so before anyone fills in the form.
  const view = { gone: false, unmount() { this.gone = true; } };
  const checking = h('p', { class: 'lede', role: 'status', text: 'Checking your invite…' });
  root.append(checking);
  checkThenShow(root, ctx, token, checking, view);
  return view;
}

async function checkThenShow(root, ctx, token, checking, view) {
  let early = '';
  try {
    if (!token) throw new Error('This invite link is incomplete. Ask for a new one.');
    await api.post('/api/invites/check', { token }, { quietAuth: true });
  } catch (ex) {
    if (view.gone) return;
    if (!token || ex.status === 403) {
      checking.remove();
      root.append(solo(
        h('h1', { class: 'title', tabindex: '-1', text: 'This invite can’t be used' }),
        h('p', { class: 'lede invite-unusable', role: 'alert', text: ex.message }),
        h('div', { class: 'row' }, h('a', { class: 'btn secondary', href: '#/login', text: 'I already have an account' }))));
      root.querySelector('h1').focus();
      return;
    }
    early = ex.message; // busy or offline: show the form, and why it may not work
  }
  if (view.gone) return;
  checking.remove();
  const err = alertBox();
  const display = h('input', { id: 'invite-display-name', type: 'text', autocomplete: 'name', required: true });
  const username = h('input', { id: 'invite-username', type: 'text', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true });
  const pw = h('input', { id: 'invite-password', type: 'password', autocomplete: 'new-password', minlength: 10, required: true });
  const pw2 = h('input', { id: 'invite-password2', type: 'password', autocomplete: 'new-password', minlength: 10, required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-block', text: 'Create my account' });
  const form = h('form', { id: 'invite-form', class: 'form', novalidate: true },
    field('Your name', display, 'What should your companion call you?'),
    field('Username', username),
    field('Password', pw, 'At least 10 characters.'),
    field('Password again', pw2),
    err, submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.clear();
    if (!token) { err.show('This invite link is incomplete. Ask for a new one.'); return; }
    if (!display.value.trim()) { err.show('Please tell us your name.'); display.focus(); return; }
    if (!username.value.trim()) { err.show('Please choose a username.'); username.focus(); return; }
    const bad = checkPasswords(pw.value, pw2.value);
    if (bad) { err.show(bad); return; }
    try {
      const res = await busy(submit, 'Creating…', () => api.post('/api/invites/accept', {
        token, display_name: display.value.trim(), username: username.value.trim(), password: pw.value,
      }, { quietAuth: true }));
      setCsrf(res.csrf_token);
      ctx.signedIn(res);
      ctx.go('#/meeting');
    } catch (ex) {
      err.show(ex.message);
    }
  });

  root.append(solo(
    h('h1', { class: 'title', tabindex: '-1', text: "You're invited" }),
    h('p', { class: 'lede', text: 'Create your account to meet a companion of your own.' }),
    form));
  if (early) err.show(early);
  display.focus();
}
