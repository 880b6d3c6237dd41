// The "connect a model" step of the first meeting, shown when no language
// model is connected yet. Continue leads to naming.

import { h } from '../dom.js';
import { solo } from './common.js';
import { modelPanel } from './modelform.js';

export function mount(root, ctx) {
  const cont = h('button', { id: 'model-continue', type: 'button', class: 'btn', text: 'Continue', hidden: true });
  cont.addEventListener('click', () => { ctx.state.forceModel = false; ctx.go('#/naming'); });
  let wasConnected = null;
  const panel = modelPanel(ctx, {
    next: cont,
    onStatus: (s) => {
      if (s.connected && wasConnected === false) cont.focus();
      wasConnected = !!s.connected;
    },
  });
  const isOwner = ctx.state.me.user.role === 'owner';
  root.append(solo(h('section', { id: 'model-step', class: 'model-step' },
    h('h1', { class: 'title', tabindex: '-1', text: 'One more thing: a mind to think with' }),
    h('p', { class: 'lede', text: isOwner
      ? 'I talk and think through a language model. Connect one below.'
      : 'I talk and think through a language model, and none is connected yet.' }),
    panel.el)));
  panel.refresh();
  const first = root.querySelector('#model-url') || root.querySelector('#model-recheck');
  if (first) first.focus();
}
