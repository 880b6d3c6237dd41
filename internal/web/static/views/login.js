// Login for existing users.

import { h } from '../dom.js';
import { api, setCsrf } from '../api.js';
import { solo, field, alertBox, busy } from './common.js';

export function mount(root, ctx) {
  const err = alertBox();
  const username = h('input', { id: 'login-username', name: 'username', type: 'text', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true });
  const pw = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-block', text: 'Sign in' });
  const form = h('form', { id: 'login-form', class: 'form', novalidate: true },
    field('Username', username), field('Password', pw), err, submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.clear();
    if (!username.value.trim() || !pw.value) { err.show('Please enter your username and password.'); return; }
    try {
      const res = await busy(submit, 'Signing in…', () =>
        api.post('/api/login', { username: username.value.trim(), password: pw.value }, { quietAuth: true }));
      setCsrf(res.csrf_token);
      const back = ctx.signedIn(res);
      ctx.go(back || '#/');
    } catch (ex) {
      let msg = ex.message;
      if (ex.status === 429 && ex.retryAfter && !/\d/.test(msg)) msg += ` Try again in ${ex.retryAfter} seconds.`;
      err.show(msg);
      pw.select();
    }
  });

  root.append(solo(
    h('h1', { class: 'title', tabindex: '-1', text: 'Welcome back' }),
    h('p', { class: 'lede', text: 'Sign in to continue.' }),
    form));
  username.focus();
}
