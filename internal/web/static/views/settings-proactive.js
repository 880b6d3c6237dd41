// Settings → Speaking first (#/settings/proactive): when os1 may start a
// conversation on her own (docs/proactive.md). The daily budget (messages
// and model tokens, a hard cap), how long before a meeting, which triggers
// she may speak about (the others are muted), the opt-in check-in after a
// long silence, quiet hours (the same as Reminders'), what today used, and
// the log of what she sent and held back, with why. Everything is the
// signed-in user's own (GET/PUT /api/proactive/settings, GET
// /api/proactive/log); every text is set as text, never as HTML.

import { h, announce } from '../dom.js';
import { api } from '../api.js';
import { field, alertBox, busy } from './common.js';

const LABELS = {
  meeting: 'A meeting about to start',
  mail: 'An important email that just arrived',
  followup: 'A follow-up she promised (“how did the interview go?”)',
  birthday: 'A birthday of someone you know',
  silence: 'A check-in after a long silence',
  reminder: 'A reminder you set',
};

const HOLDS = {
  budget: 'daily budget',
  quiet_hours: 'quiet hours',
  muted: 'muted',
  stale: 'too late',
};

export function proactiveSection(section) {
  const err = alertBox();
  const count = h('input', { id: 'proactive-count', type: 'number', min: '0', max: '50', step: '1', required: true });
  const tokens = h('input', { id: 'proactive-tokens', type: 'number', min: '0', max: '200000', step: '100', required: true });
  const lead = h('input', { id: 'proactive-lead', type: 'number', min: '1', max: '240', step: '1', required: true });
  const checkIn = h('input', { id: 'proactive-checkin', type: 'checkbox', role: 'switch' });
  const days = h('input', { id: 'proactive-silence', type: 'number', min: '1', max: '60', step: '1', required: true });
  const from = h('input', { id: 'proactive-quiet-from', type: 'time' });
  const to = h('input', { id: 'proactive-quiet-to', type: 'time' });
  const triggers = h('div', { id: 'proactive-triggers', class: 'stack', role: 'group', 'aria-label': 'What she may speak first about' });
  const usage = h('p', { id: 'proactive-usage', class: 'hint', role: 'status' });
  const save = h('button', { type: 'submit', class: 'btn secondary', text: 'Save' });
  const boxes = {};

  const form = h('form', { id: 'proactive-form', class: 'form', novalidate: true },
    h('h3', { text: 'What she may write about' }), triggers,
    h('h3', { text: 'Daily budget' }),
    h('div', { class: 'row' },
      field('Messages a day', count, 'Reminders you set do not count.'),
      field('Model tokens a day', tokens, 'A hard cap: a message is stopped when it is reached.')),
    usage,
    h('h3', { text: 'Timing' }),
    h('div', { class: 'row' },
      field('Minutes before a meeting', lead),
      field('Days of silence before a check-in', days)),
    h('label', { class: 'check', for: 'proactive-checkin' }, checkIn, h('span', { text: 'Check in after a long silence' })),
    h('div', { class: 'row' }, field('Quiet from', from), field('Quiet to', to)),
    h('p', { class: 'hint', text: 'Quiet hours are shared with Reminders. A message due in them waits until they end, or is dropped when it would be too late by then.' }),
    err, h('div', { class: 'row' }, save));

  function fill(v) {
    count.value = v.daily_count;
    tokens.value = v.daily_tokens;
    lead.value = v.meeting_lead_minutes;
    checkIn.checked = !!v.check_in;
    days.value = v.silence_days;
    const m = /^(\d\d:\d\d)-(\d\d:\d\d)$/.exec(v.quiet_hours || '');
    from.value = m ? m[1] : '';
    to.value = m ? m[2] : '';
    const muted = new Set(v.muted || []);
    triggers.replaceChildren(...(v.triggers || []).filter((t) => t !== 'silence').map((t) => {
      const box = h('input', { id: `proactive-on-${t}`, type: 'checkbox', checked: !muted.has(t), dataset: { trigger: t } });
      boxes[t] = box;
      return h('label', { class: 'check', for: box.id }, box, h('span', { text: LABELS[t] || t }));
    }));
    usage.textContent = `Today: ${v.sent_today} of ${v.daily_count} messages, about ${v.tokens_today} of ${v.daily_tokens} tokens.`;
  }

  const list = h('ul', { id: 'proactive-log', class: 'plain-list' });
  function renderLog(entries) {
    if (!entries.length) {
      list.replaceChildren(h('li', { class: 'muted', text: 'Nothing yet. What she sends, and what she holds back, shows here.' }));
      return;
    }
    list.replaceChildren(...entries.map((e) => {
      const when = new Date(e.at).toLocaleString([], { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
      const what = e.outcome === 'sent' ? 'Sent' : e.outcome === 'held' ? `Held back (${HOLDS[e.hold] || e.hold})` : 'Failed';
      const extra = [e.note, e.outcome === 'sent' && e.counted ? `about ${e.tokens} tokens` : ''].filter(Boolean).join(' · ');
      return h('li', { class: 'proactive-entry', dataset: { outcome: e.outcome, trigger: e.trigger } },
        h('div', { class: 'token-name', text: e.reason }),
        h('div', { class: 'hint', text: `${what} · ${LABELS[e.trigger] || e.trigger} · ${when}` }),
        extra ? h('div', { class: 'hint', text: extra }) : null);
    }));
  }

  async function load() {
    try {
      const [v, l] = await Promise.all([api.get('/api/proactive/settings'), api.get('/api/proactive/log?limit=50')]);
      fill(v);
      renderLog(l.log || []);
    } catch (ex) { err.show(ex.message); }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.clear();
    if (!from.value !== !to.value) {
      err.show('Give both quiet times, or neither for no quiet hours.');
      return;
    }
    const muted = Object.entries(boxes).filter(([, b]) => !b.checked).map(([t]) => t);
    const body = {
      daily_count: Number(count.value), daily_tokens: Number(tokens.value), meeting_lead_minutes: Number(lead.value),
      check_in: checkIn.checked, silence_days: Number(days.value), muted,
      quiet_hours: from.value ? `${from.value}-${to.value}` : 'off',
    };
    try {
      const v = await busy(save, 'Saving…', () => api.put('/api/proactive/settings', body));
      fill(v);
      announce('Saved.');
    } catch (ex) { err.show(ex.message); }
  });

  load();
  return section('proactive', 'Speaking first',
    h('p', { class: 'hint', text: 'When she may start a conversation on her own. Each message says why she wrote.' }),
    form, h('h3', { text: 'What she sent and held back' }), list);
}
