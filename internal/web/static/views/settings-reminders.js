// Settings → Reminders (#/settings/reminders): what is scheduled (when, in
// the user's zone; what; reminder or wake-up call), each with "Snooze 10
// min" and "Cancel" (asks once more); quiet hours (from–to) with save; and,
// for this browser, whether a reminder that fires while os1 is open is
// spoken aloud and may show a system notification (reminder-alert.js); and
// whether reminders are also emailed to the user (emailPart).
// Reminders are set by asking her in chat, or with POST /api/reminders.

import { h, announce } from '../dom.js';
import { api } from '../api.js';
import { field, alertBox, busy } from './common.js';
import { SPEAK_KEY } from '../reminder-alert.js';

const enc = encodeURIComponent;
const SNOOZE_MIN = 10;

export function remindersSection(section) {
  const err = alertBox();
  const list = h('ul', { id: 'reminders-list', class: 'plain-list' });

  async function load() {
    try {
      const res = await api.get('/api/reminders');
      render(res.reminders || []);
    } catch (ex) {
      list.replaceChildren();
      err.show(ex.message);
    }
  }

  function render(rs) {
    if (!rs.length) {
      list.replaceChildren(h('li', { class: 'muted', text: 'Nothing scheduled. Ask her in chat: “remind me to call mum at six”.' }));
      return;
    }
    rs.sort((a, b) => String(a.due).localeCompare(String(b.due)));
    list.replaceChildren(...rs.map(item));
  }

  function item(r) {
    const kind = r.wake ? 'Wake-up call' : 'Reminder';
    const whenEl = h('div', { class: 'hint reminder-when', text: `${kind} · ${r.local || r.due}` });
    const note = r.note || r.shift;
    const snooze = h('button', { type: 'button', class: 'btn secondary small reminder-snooze', text: `Snooze ${SNOOZE_MIN} min`, 'aria-label': `Snooze “${r.text}” ${SNOOZE_MIN} minutes` });
    const cancel = h('button', { type: 'button', class: 'btn ghost small reminder-cancel', text: 'Cancel', 'aria-label': `Cancel “${r.text}”` });
    const li = h('li', { class: 'reminder-item', dataset: { id: r.id, kind: r.wake ? 'wake' : 'reminder' } },
      h('div', { class: 'grow' },
        h('div', { class: 'token-name reminder-what', text: r.text }),
        whenEl,
        note ? h('div', { class: 'hint reminder-note', text: note }) : null),
      h('div', { class: 'row tight' }, snooze, cancel));

    snooze.addEventListener('click', async () => {
      err.clear();
      try {
        const x = await busy(snooze, 'Snoozing…', () => api.post(`/api/reminders/${enc(r.id)}/snooze`, { minutes: SNOOZE_MIN }));
        announce(`Snoozed until ${x.local}.`);
        await load();
      } catch (ex) { err.show(ex.message); }
    });
    cancel.addEventListener('click', async () => {
      if (cancel.dataset.confirm !== '1') {
        cancel.dataset.confirm = '1';
        cancel.textContent = 'Cancel it for good?';
        cancel.classList.add('danger-text');
        return;
      }
      err.clear();
      try {
        await busy(cancel, null, () => api.del(`/api/reminders/${enc(r.id)}`));
        li.remove();
        announce(`Cancelled “${r.text}”.`);
        if (!list.children.length) render([]);
      } catch (ex) { err.show(ex.message); }
    });
    return li;
  }

  // A reminder that fired leaves the list (reminder-alert.js says so).
  const onFired = () => { if (list.isConnected) load(); else window.removeEventListener('os1:reminder', onFired); };
  window.addEventListener('os1:reminder', onFired);

  load();
  return section('reminders', 'Reminders',
    h('p', { class: 'hint', text: 'What she will remind you of, and when (in your time zone). Ask her in chat to set one.' }),
    list, err, quietPart(), emailPart(), devicePart());
}

// emailPart: "Also email me reminders" (off by default). When on and a mail
// account is connected, each reminder that fires is also mailed to the
// user's own address from it (docs/reminders.md).
function emailPart() {
  const err = alertBox();
  const box = h('input', { id: 'reminders-email', type: 'checkbox', role: 'switch', disabled: true });
  const note = h('p', { id: 'reminders-email-status', class: 'hint', role: 'status' });
  const show = (r) => {
    box.checked = !!r.on;
    box.disabled = false;
    note.textContent = r.address
      ? `Reminders and wake-up calls are mailed to ${r.address}, from that address, with nothing but the reminder in them.`
      : 'Connect a mail account (Settings → Mail) for reminders to be mailed to you.';
  };
  api.get('/api/reminders/email').then(show).catch((ex) => err.show(ex.message));
  box.addEventListener('change', async () => {
    err.clear();
    try {
      const r = await api.put('/api/reminders/email', { on: box.checked });
      show(r);
      announce(r.on ? 'Reminders will be emailed to you too.' : 'Reminders will not be emailed.');
    } catch (ex) {
      box.checked = !box.checked;
      err.show(ex.message);
    }
  });
  return h('div', { class: 'reminders-email' },
    h('h3', { text: 'By email' }),
    h('label', { class: 'check', for: 'reminders-email' }, box, h('span', { text: 'Also email me reminders' })),
    note, err);
}

// quietPart: quiet hours, "22:00-07:00" or "off". A reminder due in them
// waits until they end; a wake-up call rings anyway.
function quietPart() {
  const err = alertBox();
  const from = h('input', { id: 'quiet-from', type: 'time' });
  const to = h('input', { id: 'quiet-to', type: 'time' });
  const save = h('button', { type: 'submit', class: 'btn secondary', text: 'Save quiet hours' });
  const form = h('form', { id: 'quiet-form', class: 'form', novalidate: true },
    h('h3', { text: 'Quiet hours' }),
    h('p', { class: 'hint', text: 'Reminders due in them wait until they end; wake-up calls ring anyway. Leave both empty for none.' }),
    h('div', { class: 'row' }, field('From', from), field('To', to)),
    err, h('div', { class: 'row' }, save));
  const fill = (q) => {
    const m = /^(\d\d:\d\d)-(\d\d:\d\d)$/.exec(q || '');
    from.value = m ? m[1] : '';
    to.value = m ? m[2] : '';
  };
  api.get('/api/reminders/quiet-hours').then((r) => fill(r.quiet_hours)).catch((ex) => err.show(ex.message));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.clear();
    if (!from.value !== !to.value) {
      err.show('Give both times, or neither for no quiet hours.');
      return;
    }
    const q = from.value ? `${from.value}-${to.value}` : 'off';
    try {
      const r = await busy(save, 'Saving…', () => api.put('/api/reminders/quiet-hours', { quiet_hours: q }));
      fill(r.quiet_hours);
      announce(r.quiet_hours === 'off' ? 'No quiet hours.' : `Quiet hours saved: ${r.quiet_hours}.`);
    } catch (ex) { err.show(ex.message); }
  });
  return form;
}

// devicePart: in this browser, speak a reminder aloud, and allow system
// notifications for one that fires while os1's tab is hidden.
function devicePart() {
  let on = false;
  try { on = localStorage.getItem(SPEAK_KEY) === '1'; } catch { /* off */ }
  const speak = h('input', { id: 'reminders-speak', type: 'checkbox', role: 'switch', checked: on, disabled: !window.speechSynthesis });
  speak.addEventListener('change', () => {
    try {
      if (speak.checked) localStorage.setItem(SPEAK_KEY, '1');
      else localStorage.removeItem(SPEAK_KEY);
    } catch { /* not kept */ }
  });
  const note = h('p', { id: 'reminders-notify-status', class: 'hint', role: 'status' });
  const allow = h('button', { id: 'reminders-notify', type: 'button', class: 'btn secondary', text: 'Allow notifications', hidden: true });
  const show = () => {
    if (!('Notification' in window)) {
      note.textContent = 'This browser cannot show notifications.';
      return;
    }
    const p = Notification.permission;
    note.textContent = p === 'granted' ? 'A reminder that fires while this tab is hidden shows a notification.'
      : p === 'denied' ? 'Notifications are blocked for os1 in this browser’s settings.'
        : 'Allow notifications to see a reminder while this tab is hidden.';
    allow.hidden = p !== 'default';
  };
  allow.addEventListener('click', async () => {
    try { await Notification.requestPermission(); } catch { /* answered no */ }
    show();
  });
  show();
  return h('div', { class: 'reminders-device' },
    h('h3', { text: 'On this device' }),
    h('label', { class: 'check', for: 'reminders-speak' }, speak, h('span', { text: 'Read reminders aloud when they fire' })),
    note, allow);
}
