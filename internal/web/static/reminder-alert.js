// Reminders that fire while a page is open: os1 starts a turn itself whose
// reply carries a reason ("Reminder: …" or "Wake-up call: …", docs/api.md
// "Turns os1 starts"). alertReminder shows it in a banner above whatever view
// is open, plays a short beep (Web Audio, made here), speaks it when the
// user allowed that (Settings → Reminders), and shows a system notification
// when the tab is hidden and notifications are allowed. A wake-up call
// rings instead of beeping: wakeup-call.js shows the incoming call.

import { h } from './dom.js';
import { ring, WAKE_PREFIX, onTurnEvent as wakeupEvent } from './wakeup-call.js';

export const SPEAK_KEY = 'os1.reminders.speak';
const PREFIX = /^(Reminder|Wake-up call): /;
const seen = new Set(); // message ids already shown

/** reminderLine returns the reminder's words from a turn event, or ''. */
export function reminderLine(ev) {
  if (!ev || (ev.type !== 'assistant_start' && ev.type !== 'assistant_done')) return '';
  const m = ev.message;
  if (!m || typeof m.reason !== 'string' || !PREFIX.test(m.reason)) return '';
  return m.reason;
}

/** onTurnEvent is a TurnStream listener. */
export function onTurnEvent(ev) {
  wakeupEvent(ev); // the reply of an answered wake-up call (wakeup-call.js)
  const line = reminderLine(ev);
  if (!line) return;
  const id = ev.message.id || line;
  if (seen.has(id)) return;
  seen.add(id);
  show(line, ev.conversation_id || ev.message.conversation_id || '');
}

function show(line, convId) {
  const wake = WAKE_PREFIX.test(line);
  let box = document.getElementById('reminder-banners');
  if (!box) {
    box = h('div', { id: 'reminder-banners', class: 'reminder-banners', role: 'alert', 'aria-live': 'assertive' });
    document.body.append(box);
  }
  const open = h('a', { class: 'btn secondary small reminder-open', href: convId ? `#/c/${encodeURIComponent(convId)}` : '#/', text: 'Open' });
  const close = h('button', { type: 'button', class: 'btn ghost small reminder-dismiss', text: 'Dismiss' });
  const banner = h('div', { class: 'reminder-banner' },
    h('span', { class: 'reminder-text grow', text: line }), open, close);
  const dismiss = () => banner.remove();
  close.addEventListener('click', dismiss);
  open.addEventListener('click', dismiss);
  box.append(banner);
  if (wake) ring(line, convId); // a wake-up rings like a call (wakeup-call.js); the banner stays as its record
  else {
    beep();
    speak(line);
  }
  notify(line, convId);
  window.dispatchEvent(new CustomEvent('os1:reminder', { detail: { line } }));
}

/** beep plays two short tones; silent where Web Audio is missing or blocked. */
export function beep() {
  try {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return;
    const ac = new AC();
    const t = ac.currentTime;
    for (const [i, f] of [[0, 880], [1, 1320]]) {
      const o = ac.createOscillator();
      const g = ac.createGain();
      o.type = 'sine';
      o.frequency.value = f;
      g.gain.setValueAtTime(0.0001, t + i * 0.2);
      g.gain.exponentialRampToValueAtTime(0.2, t + i * 0.2 + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.2 + 0.18);
      o.connect(g).connect(ac.destination);
      o.start(t + i * 0.2);
      o.stop(t + i * 0.2 + 0.2);
    }
    setTimeout(() => { try { ac.close(); } catch { /* closed */ } }, 1000);
  } catch { /* no sound is not an error */ }
}

function speak(line) {
  try {
    if (localStorage.getItem(SPEAK_KEY) !== '1' || !window.speechSynthesis) return;
    window.speechSynthesis.speak(new SpeechSynthesisUtterance(line));
  } catch { /* no voice is not an error */ }
}

function notify(line, convId) {
  try {
    if (document.visibilityState !== 'hidden' || !('Notification' in window) || Notification.permission !== 'granted') return;
    const n = new Notification('os1', { body: line, tag: 'os1-reminder-' + convId });
    n.onclick = () => { window.focus(); if (convId) location.hash = `#/c/${encodeURIComponent(convId)}`; n.close(); };
  } catch { /* some browsers only notify from a service worker */ }
}
