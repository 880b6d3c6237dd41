// os1 web UI: boot, hash routing and the gates that lead a new user from
// setup through the first meeting to chat.
//
// Routes (location.hash):
//   #/setup?token=T   create the owner account (only while setup is required)
//   #/login           sign in
//   #/invite/T        accept an invite
//   #/reset/T         choose a new password with a one-time reset link
//   #/meeting         first meeting (questions, time zone)
//   #/model           connect a language model (before naming, if none)
//   #/naming          she chooses her name
//   #/ , #/c/ID       chat: a new conversation, or conversation ID
//   #/settings[/S]    settings, optionally scrolled to section S
//   #/memory[?q=…], #/memory/ID, #/people[/ID]   what she remembers (views/memory.js)
//   #/mail[?category=…|?q=…], #/mail/ID   the triaged inbox (views/mail.js)
//   #/mail?tab=tidy|replies              Tidy up and Replies (views/mail-tidy.js)
//   #/calendar                           the agenda, add an event, .ics import and export (views/calendar.js)
//   #/contacts                           People: contacts merged with memory's people, handles, birthdays (views/people.js)
//   #/desk, #/desk/ID                    the writing desk: documents, autosave, spelling, proofreading, versions (views/desk.js)
//   #/book, #/book/ID                    books of letters: pick, order, build EPUB/PDF, preview, send (views/book.js)
//
// The server's state decides the screen, not the hash: not set up → setup;
// signed out → login (or invite); not onboarded → meeting; not named → model
// (when no model is connected) then naming; otherwise chat or settings.
// <body data-screen="…"> names the screen shown.

import { api, setCsrf, onAuthLost } from './api.js';
import { TurnStream } from './stream.js';
import { onTurnEvent as reminderAlert } from './reminder-alert.js';
import { h } from './dom.js';
import { updateModelStatus } from './views/common.js';
import { forgetThisDevice } from './views/settings-push.js';
import * as setupView from './views/setup.js';
import * as loginView from './views/login.js';
import * as inviteView from './views/invite.js';
import * as resetView from './views/reset.js';
import * as meetingView from './views/meeting.js';
import * as modelView from './views/model.js';
import * as namingView from './views/naming.js';
import * as chatView from './views/chat.js';
import * as settingsView from './views/settings.js';
import * as memoryView from './views/memory.js';
import * as mailView from './views/mail.js';
import * as calendarView from './views/calendar.js';
import * as peopleView from './views/people.js';
import * as deskView from './views/desk.js';
import * as bookView from './views/book.js';
import { finishMailOAuth } from './views/settings-mail.js';

const appEl = document.getElementById('app');

const state = {
  status: null, // GET /api/status
  me: null, // GET /api/me
  model: null, // model status
  forceModel: false, // show the model step even if the last status said connected
};

let current = { screen: '', view: null };
let stream = null;
let routeSeq = 0;

function parseHash() {
  let raw = location.hash.replace(/^#/, '');
  if (!raw.startsWith('/')) raw = '/' + raw;
  const q = raw.indexOf('?');
  const pathPart = q >= 0 ? raw.slice(0, q) : raw;
  const query = Object.fromEntries(new URLSearchParams(q >= 0 ? raw.slice(q + 1) : ''));
  const parts = pathPart.split('/').filter(Boolean).map((p) => {
    try { return decodeURIComponent(p); } catch { return p; }
  });
  return { name: parts[0] || '', parts, query, id: parts[0] === 'c' ? parts[1] || null : null };
}

function show(screen, view, route) {
  if (current.screen === screen && current.view && current.view.update) {
    current.view.update(route);
    return;
  }
  if (current.view && current.view.unmount) current.view.unmount();
  appEl.replaceChildren();
  document.body.dataset.screen = screen;
  if (screen !== 'chat' && screen !== 'settings' && screen !== 'memory' && screen !== 'mail') document.title = 'os1';
  current = { screen, view: null };
  current.view = view.mount(appEl, ctx, route) || {};
  if (!appEl.contains(document.activeElement)) {
    const heading = appEl.querySelector('h1[tabindex]');
    if (heading) heading.focus({ preventScroll: true });
  }
}

// gate shows a screen the server's state requires and makes the hash say so.
function gate(screen, view, route) {
  const want = '#/' + screen;
  if (location.hash !== want) history.replaceState(null, '', want);
  show(screen, view, route);
}

function startStream() {
  if (stream) return;
  stream = new TurnStream({
    checkAuth: async () => {
      try {
        const st = await api.get('/api/status');
        if (!st.authenticated) lostSession();
      } catch { /* server away; keep retrying */ }
    },
  });
  // A turn is a real model call: its outcome may change the model status.
  stream.on((ev) => { if (ev.type === 'turn_done' || ev.type === 'error') ctx.refreshModel(); });
  // A reminder that fires shows above any view (reminder-alert.js).
  stream.on(reminderAlert);
  stream.start();
}

function stopStream() {
  if (stream) stream.stop();
  stream = null;
  // Signed out: the reminders shown were this user's.
  const banners = document.getElementById('reminder-banners');
  if (banners) banners.remove();
}

function lostSession() {
  stopStream();
  state.status = null;
  state.me = null;
  state.model = null;
  setCsrf('');
  if (current.screen !== 'login' && current.screen !== 'setup' && current.screen !== 'invite' && current.screen !== 'reset') {
    ctx.afterLogin = /^#\/(c\/|settings|memory|people|mail|calendar|contacts|desk|book)/.test(location.hash) ? location.hash : '#/';
  }
  route();
}

async function route() {
  const seq = ++routeSeq;
  const r = parseHash();
  try {
    if (!state.status) state.status = await api.get('/api/status');
    if (seq !== routeSeq) return;
    const st = state.status;

    if (st.setup_required) {
      stopStream();
      if (r.name !== 'setup') history.replaceState(null, '', '#/setup');
      return show('setup', setupView, r);
    }
    if (!st.authenticated) {
      stopStream();
      if (r.name === 'invite') return show('invite', inviteView, r);
      if (r.name === 'reset') return show('reset', resetView, r);
      if (r.name !== 'login') history.replaceState(null, '', '#/login');
      return show('login', loginView, r);
    }

    if (!state.me) {
      const me = await api.get('/api/me');
      if (seq !== routeSeq) return;
      state.me = me;
      setCsrf(me.csrf_token);
    }
    if (!state.model && st.model) state.model = st.model;
    if (r.name === 'invite') return show('invite', inviteView, r);
    if (r.name === 'reset') return show('reset', resetView, r);

    const me = state.me;
    if (!me.onboarded) return gate('meeting', meetingView, r);
    if (!me.named) {
      if (!state.model || state.forceModel || !state.model.connected) {
        state.model = await api.get('/api/model');
        if (seq !== routeSeq) return;
      }
      if (!state.model.connected || state.forceModel) return gate('model', modelView, r);
      return gate('naming', namingView, r);
    }

    startStream();
    if (r.name === 'settings') return show('settings', settingsView, r);
    if (r.name === 'memory' || r.name === 'people') return show('memory', memoryView, r);
    if (r.name === 'mail') return show('mail', mailView, r);
    if (r.name === 'calendar') return show('calendar', calendarView, r);
    if (r.name === 'contacts') return show('contacts', peopleView, r);
    if (r.name === 'desk') return show('desk', deskView, r);
    if (r.name === 'book') return show('book', bookView, r);
    if (r.name === 'mail-oauth') { // the provider sent the browser back: finish with this session
      const next = await finishMailOAuth(r.query);
      if (seq !== routeSeq) return;
      history.replaceState(null, '', next);
      return route();
    }
    if (r.name !== 'c' && r.name !== '') history.replaceState(null, '', '#/');
    return show('chat', chatView, r);
  } catch (e) {
    if (seq !== routeSeq) return;
    if (e.status === 401) {
      state.status = null;
      state.me = null;
      return; // onAuthLost already re-routes
    }
    showFatal(e);
  }
}

function showFatal(e) {
  if (current.view && current.view.unmount) current.view.unmount();
  current = { screen: 'error', view: null };
  document.body.dataset.screen = 'error';
  const again = h('button', { type: 'button', class: 'btn', text: 'Try again' });
  again.addEventListener('click', () => { state.status = null; state.me = null; route(); });
  appEl.replaceChildren(h('main', { class: 'solo', id: 'main' },
    h('div', { class: 'solo-inner fade-in' },
      h('h1', { class: 'title', tabindex: '-1', text: "os1 isn't answering" }),
      h('p', { class: 'alert alert-error', role: 'alert', text: e.message || String(e) }),
      again)));
  again.focus();
}

// ctx is what views get to talk to the app.
const ctx = {
  state,
  afterLogin: '',
  prefill: '', // text the chat puts in its composer once (mail's "draft a reply")
  get stream() { return stream; },
  go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  replace(hash) { history.replaceState(null, '', hash); },
  reroute: () => route(),
  signedIn(res) {
    setCsrf(res.csrf_token);
    state.status = { ...(state.status || {}), setup_required: false, authenticated: true };
    state.me = null;
    state.model = null;
    const back = ctx.afterLogin;
    ctx.afterLogin = '';
    return back;
  },
  async refreshMe() {
    try {
      const me = await api.get('/api/me');
      state.me = me;
      setCsrf(me.csrf_token);
      return me;
    } catch (e) {
      state.me = null;
      throw e;
    }
  },
  async refreshModel() {
    try { ctx.setModel(await api.get('/api/model')); } catch { /* keep the last known status */ }
  },
  setModel(m) {
    state.model = m;
    updateModelStatus(document.getElementById('model-status'), m);
  },
  async logout(next = '#/login') {
    await forgetThisDevice(); // the next person here must not get this user's reminders
    try { await api.post('/api/logout', {}); } catch { /* signed out locally anyway */ }
    stopStream();
    state.status = null;
    state.me = null;
    state.model = null;
    setCsrf('');
    ctx.go(next);
  },
};

onAuthLost(() => lostSession());
window.addEventListener('hashchange', () => route());
route();
