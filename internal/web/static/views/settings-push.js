// Settings → Notifications: "Notifications on this device" subscribes this
// browser to Web Push (the service worker sw.js shows what arrives while no
// os1 tab is open) with the server's VAPID key, and tells the server; off
// unsubscribes both. The switch is on only when this browser's
// subscription is one the signed-in user registered.

import { h, announce } from '../dom.js';
import { api } from '../api.js';
import { alertBox, busy } from './common.js';

function keyBytes(b64url) {
  const s = b64url.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(s + '='.repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function supported() {
  return window.isSecureContext && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

// forgetThisDevice ends this browser's subscription (on the server and in
// the browser) before signing out, so the next person to use this browser
// does not see the previous user's reminders. Never throws.
export async function forgetThisDevice() {
  try {
    if (!supported()) return;
    const reg = await navigator.serviceWorker.getRegistration('/');
    const sub = reg ? await reg.pushManager.getSubscription() : null;
    if (!sub) return;
    const res = await api.get('/api/push/subscriptions');
    const mine = (res.subscriptions || []).find((x) => x.endpoint === sub.endpoint);
    if (mine) await api.del(`/api/push/subscriptions/${encodeURIComponent(mine.id)}`);
    await sub.unsubscribe();
  } catch { /* signing out goes on regardless */ }
}

export function pushSection(section) {
  const err = alertBox();
  const note = h('p', { id: 'push-status', class: 'hint', role: 'status' });
  const toggle = h('input', { id: 'push-toggle', type: 'checkbox', role: 'switch', disabled: true });
  const test = h('button', { id: 'push-test', type: 'button', class: 'btn secondary', text: 'Send a test notification', hidden: true });

  async function registration() {
    const reg = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
    await navigator.serviceWorker.ready;
    return reg;
  }

  // serverSub is the user's server-side record of this browser's subscription.
  async function serverSub(sub) {
    if (!sub) return null;
    const res = await api.get('/api/push/subscriptions');
    return (res.subscriptions || []).find((x) => x.endpoint === sub.endpoint) || null;
  }

  async function refresh() {
    err.clear();
    if (!supported()) {
      note.textContent = 'This browser cannot receive notifications from os1 here (it needs https, or localhost, and a browser with Web Push).';
      return;
    }
    try {
      const reg = await navigator.serviceWorker.getRegistration('/');
      const sub = reg ? await reg.pushManager.getSubscription() : null;
      const on = Notification.permission === 'granted' && !!(await serverSub(sub));
      toggle.checked = on;
      toggle.disabled = false;
      test.hidden = !on;
      note.textContent = on ? 'On: reminders reach this device even when no os1 tab is open.'
        : Notification.permission === 'denied' ? 'Notifications are blocked for this site in the browser\u2019s settings.'
          : 'Off for this device.';
    } catch (ex) { err.show(ex.message); }
  }

  async function turnOn() {
    if (await Notification.requestPermission() !== 'granted') {
      throw new Error('The browser did not allow notifications for os1.');
    }
    const reg = await registration();
    const { public_key: key } = await api.get('/api/push/key');
    let sub = await reg.pushManager.getSubscription();
    // A subscription made with another key (the server's was replaced) cannot be reused.
    if (sub && sub.options && sub.options.applicationServerKey) {
      const old = new Uint8Array(sub.options.applicationServerKey);
      const want = keyBytes(key);
      if (old.length !== want.length || old.some((b, i) => b !== want[i])) { await sub.unsubscribe(); sub = null; }
    }
    if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
    await api.post('/api/push/subscriptions', sub.toJSON());
  }

  async function turnOff() {
    const reg = await navigator.serviceWorker.getRegistration('/');
    const sub = reg ? await reg.pushManager.getSubscription() : null;
    const mine = await serverSub(sub);
    if (mine) await api.del(`/api/push/subscriptions/${encodeURIComponent(mine.id)}`);
    if (sub) await sub.unsubscribe();
  }

  toggle.addEventListener('change', async () => {
    err.clear();
    const want = toggle.checked;
    toggle.disabled = true;
    try {
      if (want) await turnOn(); else await turnOff();
      announce(want ? 'Notifications are on for this device.' : 'Notifications are off for this device.');
    } catch (ex) { err.show(ex.message); }
    await refresh();
  });

  test.addEventListener('click', async () => {
    err.clear();
    try {
      const res = await busy(test, 'Sending…', () => api.post('/api/push/test', {}));
      note.textContent = res.error || `Sent to ${res.sent} device${res.sent === 1 ? '' : 's'}.`;
    } catch (ex) { err.show(ex.message); }
  });

  refresh();
  return section('notifications', 'Notifications',
    h('p', { class: 'hint', text: 'Reminders and wake-ups can reach this device as system notifications, even when os1 is closed.' }),
    h('label', { class: 'check', for: 'push-toggle' }, toggle, h('span', { text: 'Notifications on this device' })),
    note, h('div', { class: 'row' }, test), err);
}
