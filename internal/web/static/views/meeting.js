// The first meeting: before she chooses her name, the companion asks a few
// questions, one at a time, then confirms the time zone. Each answer is saved
// as it is given (PUT /api/profile), so a reload resumes where it stopped;
// the last step sends finish:true.

import { h, isTouch } from '../dom.js';
import { api } from '../api.js';
import { solo, alertBox, busy, validTimeZone, detectedTimeZone, timeZoneList, localTimeIn } from './common.js';

const QUESTIONS = [
  {
    key: 'social',
    q: 'How social are you these days?',
    hint: "Out every night, happily on your own, or somewhere in between. There's no wrong answer.",
  },
  {
    key: 'matters',
    q: 'What matters most to you right now?',
    hint: 'A person, a project, a feeling. Whatever comes to mind first.',
  },
  {
    key: 'sound',
    q: 'How would you like me to sound?',
    hint: 'For example: warm and calm, playful, brisk.',
  },
];
const STEPS = QUESTIONS.length + 1; // + time zone

export function mount(root, ctx) {
  const me = ctx.state.me;
  const profile = me.profile || {};
  const answers = { ...(profile.answers || {}) };
  let timezone = profile.timezone && validTimeZone(profile.timezone) ? profile.timezone : detectedTimeZone();
  let step = QUESTIONS.findIndex((q) => answers[q.key] == null);
  if (step < 0) step = QUESTIONS.length;
  const who = me.user.display_name || me.user.username;

  const stage = h('div', { class: 'meeting' });
  root.append(solo(stage));

  async function save(finish) {
    const body = { answers, timezone };
    if (finish) body.finish = true;
    return api.put('/api/profile', body);
  }

  function progress() {
    const dots = [];
    for (let i = 0; i < STEPS; i++) dots.push(h('span', { class: 'pdot' + (i < step ? ' done' : i === step ? ' now' : '') }));
    return h('div', { class: 'progress', role: 'img', 'aria-label': `Step ${step + 1} of ${STEPS}` }, dots);
  }

  function render() {
    const err = alertBox();
    const back = step > 0 ? h('button', { type: 'button', class: 'btn ghost', text: 'Back' }) : null;
    if (back) back.addEventListener('click', () => { step--; render(); });
    const next = h('button', { id: 'meeting-next', type: 'submit', class: 'btn', text: step === STEPS - 1 ? 'Finish' : 'Next' });
    const form = h('form', { id: 'meeting-form', class: 'meeting-form', novalidate: true });
    const heading = h('h1', { class: 'meeting-q', id: 'meeting-q', tabindex: '-1' });
    let input;
    let intro = null;
    let hint;

    if (step < QUESTIONS.length) {
      const q = QUESTIONS[step];
      if (step === 0) intro = h('p', { class: 'meeting-intro', text: `Hello, ${who}. I'm new here. Before I choose a name, I'd like to get to know you a little.` });
      heading.textContent = q.q;
      hint = h('p', { class: 'hint', id: 'meeting-hint', text: q.hint });
      input = h('textarea', { id: 'meeting-answer', name: q.key, rows: 3, 'aria-labelledby': 'meeting-q', 'aria-describedby': 'meeting-hint', class: 'meeting-answer', maxlength: 2000 });
      input.value = answers[q.key] || '';
      input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
      });
      form.append(input);
    } else {
      heading.textContent = 'And where in the world is your day happening?';
      hint = h('p', { class: 'hint', id: 'meeting-hint', text: "I guessed your time zone from this device. Change it if it's wrong." });
      const now = h('p', { class: 'tz-now', 'aria-live': 'polite' });
      input = h('input', { id: 'meeting-timezone', name: 'timezone', type: 'text', list: 'tz-list', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', 'aria-labelledby': 'meeting-q', 'aria-describedby': 'meeting-hint', class: 'meeting-answer' });
      input.value = timezone;
      const showNow = () => {
        const tz = input.value.trim();
        now.textContent = validTimeZone(tz) ? `It's ${localTimeIn(tz)} there.` : "I don't know that time zone yet. Try a name like Europe/Berlin or America/New_York.";
      };
      input.addEventListener('input', showNow);
      showNow();
      form.append(input, timeZoneList('tz-list'), now);
    }
    form.append(err, h('div', { class: 'row meeting-actions' }, back, h('span', { class: 'spacer' }), next));

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.clear();
      if (step < QUESTIONS.length) {
        answers[QUESTIONS[step].key] = input.value.trim();
        try {
          await busy(next, null, () => save(false));
        } catch (ex) { err.show(ex.message); return; }
        step++;
        render();
        return;
      }
      const tz = input.value.trim();
      if (!validTimeZone(tz)) { err.show("I don't recognise that time zone. Please pick one from the list."); input.focus(); return; }
      timezone = tz;
      try {
        await busy(next, 'Saving…', () => save(true));
      } catch (ex) { err.show(ex.message); return; }
      stage.replaceChildren(h('div', { class: 'fade-in' },
        h('h1', { class: 'meeting-q', tabindex: '-1', text: `Thank you, ${who}.` }),
        h('p', { class: 'lede', text: 'That helps. Give me a moment.' })));
      try { await ctx.refreshMe(); } catch { /* route() will fetch again */ }
      setTimeout(() => ctx.go('#/'), 900);
    });

    stage.replaceChildren(h('div', { class: 'fade-in step' }, progress(), intro, heading, hint, form));
    if (isTouch()) heading.focus(); else { input.focus(); if (input.select && step === QUESTIONS.length) input.select(); }
  }

  render();
}
