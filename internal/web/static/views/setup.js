// Setup: create the owner account with the one-time token that `os1 serve`
// printed as a link (#/setup?token=…).

import { h } from '../dom.js';
import { api, setCsrf } from '../api.js';
import { solo, field, alertBox, busy, checkPasswords } from './common.js';

export function mount(root, ctx, route) {
  const token = route.query.token || '';
  const err = alertBox();
  const tokenInput = h('input', { id: 'setup-token', name: 'token', type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', required: true });
  const display = h('input', { id: 'setup-display-name', name: 'display_name', type: 'text', autocomplete: 'name', required: true });
  const username = h('input', { id: 'setup-username', name: 'username', type: 'text', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true });
  const pw = h('input', { id: 'setup-password', name: 'password', type: 'password', autocomplete: 'new-password', minlength: 10, required: true });
  const pw2 = h('input', { id: 'setup-password2', name: 'password2', type: 'password', autocomplete: 'new-password', minlength: 10, required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-block', text: 'Create my account' });

  const form = h('form', { id: 'setup-form', class: 'form', novalidate: true },
    token ? null : field('Setup code', tokenInput, 'The code from the link that os1 serve printed in your terminal.'),
    field('Your name', display, 'What should I call you?'),
    field('Username', username),
    field('Password', pw, 'At least 10 characters.'),
    field('Password again', pw2),
    err,
    submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.clear();
    const body = {
      token: token || tokenInput.value.trim(),
      display_name: display.value.trim(),
      username: username.value.trim(),
      password: pw.value,
    };
    if (!body.token) { err.show('Please enter the setup code from your terminal.'); tokenInput.focus(); return; }
    if (!body.display_name) { err.show('Please tell me your name.'); display.focus(); return; }
    if (!body.username) { err.show('Please choose a username.'); username.focus(); return; }
    const bad = checkPasswords(pw.value, pw2.value);
    if (bad) { err.show(bad); (pw.value.length < 10 ? pw : pw2).focus(); return; }
    try {
      const res = await busy(submit, 'Creating…', () => api.post('/api/setup', body, { quietAuth: true }));
      setCsrf(res.csrf_token);
      ctx.signedIn(res);
      ctx.go('#/meeting');
    } catch (ex) {
      err.show(ex.message);
    }
  });

  root.append(solo(
    h('h1', { class: 'title', tabindex: '-1', text: 'Welcome to os1' }),
    h('p', { class: 'lede', text: "Let's create your account. You'll be the owner of this os1 and can invite others later." }),
    form));
  (token ? display : tokenInput).focus();
}
