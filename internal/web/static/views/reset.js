// Password reset (#/reset/TOKEN): a one-time link from the owner or
// `os1 user reset-password` sets a new password; then the user signs in.

import { h } from '../dom.js';
import { api } from '../api.js';
import { solo, field, alertBox, busy, checkPasswords } from './common.js';

export function mount(root, ctx, route) {
  const token = route.parts[1] || '';
  const err = alertBox();
  const pw = h('input', { id: 'reset-password', type: 'password', autocomplete: 'new-password', minlength: 10, required: true });
  const pw2 = h('input', { id: 'reset-password2', type: 'password', autocomplete: 'new-password', minlength: 10, required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-block', text: 'Set my password' });
  const form = h('form', { id: 'reset-form', class: 'form', novalidate: true },
    field('New password', pw, 'At least 10 characters.'),
    field('New password again', pw2),
    err, submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.clear();
    if (!token) { err.show('This reset link is incomplete. Ask the owner for a new one.'); return; }
    const bad = checkPasswords(pw.value, pw2.value);
    if (bad) { err.show(bad); pw.focus(); return; }
    try {
      const res = await busy(submit, 'Saving…', () => api.post('/api/password/reset', { token, password: pw.value }, { quietAuth: true }));
      root.replaceChildren(solo(
        h('h1', { class: 'title', tabindex: '-1', text: 'Password set' }),
        h('p', { class: 'lede', text: `You can sign in as ${res.username} with your new password now. Other sessions were signed out.` }),
        h('div', { class: 'row' }, h('a', { id: 'reset-login', class: 'btn', href: '#/login', text: 'Sign in' }))));
    } catch (ex) {
      err.show(ex.message);
    }
  });

  root.append(solo(
    h('h1', { class: 'title', tabindex: '-1', text: 'Choose a new password' }),
    h('p', { class: 'lede', text: 'This link works once. Choosing a password signs you out everywhere else.' }),
    form));
  pw.focus();
}
