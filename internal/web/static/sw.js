// os1's service worker (issue 13): shows the notifications the server
// pushes (reminders, wake-ups) while no os1 tab is open, and a click
// focuses an open os1 tab or opens one at the notification's page.
//
// It is registered from Settings → Notifications at /sw.js, so its scope is
// the whole app ("/"). It caches nothing and answers no fetch: pages always
// come from the server. It only opens pages of this origin.
'use strict';

self.addEventListener('install', () => { self.skipWaiting(); });
self.addEventListener('activate', (event) => { event.waitUntil(self.clients.claim()); });

// sameOrigin turns a link from a message into a URL of this app, or the
// app's start page when it is missing or points elsewhere.
function sameOrigin(link) {
  try {
    const url = new URL(typeof link === 'string' && link ? link : '/', self.location.origin);
    if (url.origin === self.location.origin) return url.href;
  } catch { /* not a URL */ }
  return new URL('/', self.location.origin).href;
}

self.addEventListener('push', (event) => {
  let msg = {};
  if (event.data) {
    try { msg = event.data.json() || {}; } catch { msg = { body: event.data.text() }; }
  }
  const title = typeof msg.title === 'string' && msg.title ? msg.title : 'os1';
  const options = {
    body: typeof msg.body === 'string' ? msg.body : '',
    icon: '/icon.svg',
    badge: '/icon.svg',
    data: { url: sameOrigin(msg.url) },
  };
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = sameOrigin(event.notification.data && event.notification.data.url);
  event.waitUntil((async () => {
    const tabs = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const tab = tabs.find((c) => new URL(c.url).origin === self.location.origin);
    if (!tab) {
      await self.clients.openWindow(target);
      return;
    }
    await tab.focus();
    if (tab.url !== target && 'navigate' in tab) {
      try { await tab.navigate(target); } catch { /* an uncontrolled tab: focusing it is enough */ }
    }
  })());
});
