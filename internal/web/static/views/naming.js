// Naming: the companion chooses her own name through the model
// (POST /api/persona/name). The UI never invents one: on failure it shows
// the server's message and a retry button.

import { h, announce, prefersReducedMotion } from '../dom.js';
import { api } from '../api.js';
import { solo, alertBox } from './common.js';

export function mount(root, ctx) {
  const who = ctx.state.me.user.display_name || ctx.state.me.user.username;
  const stage = h('div', { class: 'naming-stage', 'aria-live': 'polite' });
  root.append(solo(h('section', { id: 'naming', class: 'naming' }, stage)));
  let alive = true;

  async function choose() {
    const orb = h('div', { class: 'orb', 'aria-hidden': 'true' });
    stage.replaceChildren(h('div', { class: 'fade-in naming-wait' }, orb,
      h('p', { class: 'naming-status', text: 'Choosing a name…' })));
    stage.dataset.state = 'choosing';
    const started = Date.now();
    let persona;
    try {
      persona = await api.post('/api/persona/name', {});
    } catch (ex) {
      if (!alive) return;
      failed(ex);
      return;
    }
    // Let the moment breathe a little, even when the model is quick.
    const wait = prefersReducedMotion() ? 0 : Math.max(0, 1400 - (Date.now() - started));
    await new Promise((r) => setTimeout(r, wait));
    if (!alive) return;
    if (!persona || !persona.name) {
      failed({ message: 'The model did not give me a name. Please try again.' });
      return;
    }
    ctx.state.me.persona = persona;
    ctx.state.me.named = true;
    reveal(persona.name);
  }

  function reveal(name) {
    const start = h('button', { id: 'start-chat', type: 'button', class: 'btn', text: 'Start talking' });
    start.addEventListener('click', () => ctx.go('#/'));
    const heading = h('h1', { class: 'reveal', tabindex: '-1' },
      "Hi, I'm ", h('span', { id: 'companion-name', class: 'name', text: name }), '.');
    stage.dataset.state = 'named';
    stage.replaceChildren(h('div', { class: 'reveal-wrap' },
      h('div', { class: 'orb still', 'aria-hidden': 'true' }),
      heading,
      h('p', { class: 'lede reveal-sub', text: `It's good to meet you, ${who}.` }),
      h('div', { class: 'row center reveal-actions' }, start)));
    document.title = `${name} · os1`;
    announce(`Hi, I'm ${name}.`);
    start.focus({ preventScroll: true });
  }

  function failed(ex) {
    stage.dataset.state = 'failed';
    const err = alertBox();
    err.show(ex.message);
    const retry = h('button', { id: 'naming-retry', type: 'button', class: 'btn', text: 'Try again' });
    retry.addEventListener('click', choose);
    const row = h('div', { class: 'row center' }, retry);
    if (ex.code === 'no_model') {
      const connect = h('button', { type: 'button', class: 'btn secondary', text: 'Connect a model' });
      connect.addEventListener('click', () => { ctx.state.forceModel = true; ctx.state.model = null; ctx.go('#/model'); });
      row.append(connect);
    }
    stage.replaceChildren(h('div', { class: 'fade-in' },
      h('h1', { class: 'title', tabindex: '-1', text: "I couldn't choose a name just now" }),
      err, row));
    retry.focus();
  }

  choose();
  return { unmount() { alive = false; } };
}
