// Pieces shared by several screens.

import { h, icon } from '../dom.js';

/** The brand mark: the icon and the word "os1". */
export function brand() {
  return h('div', { class: 'brand' },
    h('img', { src: '/icon.svg', alt: '', width: 28, height: 28, class: 'brand-icon' }),
    h('span', { class: 'brand-word', text: 'os1' }));
}

/** A calm, centred single-column page for sign-in and first-meeting screens. */
export function solo(...children) {
  return h('main', { class: 'solo', id: 'main' },
    h('div', { class: 'solo-inner fade-in' }, brand(), ...children));
}

/** A labelled form field. input must have an id. */
export function field(label, input, hint) {
  const hintEl = hint ? h('p', { class: 'hint', id: input.id + '-hint', text: hint }) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: input.id, text: label }), input, hintEl);
}

/**
 * An alert region that shows error messages verbatim. show(msg) / clear().
 * role=alert so screen readers hear it at once.
 */
export function alertBox(kind = 'error') {
  const el = h('div', { class: `alert alert-${kind}`, role: kind === 'error' ? 'alert' : 'status', hidden: true });
  el.show = (msg) => { el.textContent = msg; el.hidden = !msg; };
  el.clear = () => el.show('');
  return el;
}

/** Puts a button into a busy state while fn runs; restores it after. */
export async function busy(button, label, fn) {
  const old = button.textContent;
  const wasDisabled = button.disabled;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  if (label) button.textContent = label;
  try {
    return await fn();
  } finally {
    button.disabled = wasDisabled;
    button.removeAttribute('aria-busy');
    if (label) button.textContent = old;
  }
}

/** Validates a new password pair; returns an error message or ''. */
export function checkPasswords(pw, pw2) {
  if ([...pw].length < 10) return 'Please use a password of at least 10 characters.';
  if (pw !== pw2) return "The two passwords don't match.";
  return '';
}

/** An icon-only button with an accessible name. */
export function iconButton(name, label, props = {}) {
  return h('button', { type: 'button', class: 'icon-btn', 'aria-label': label, title: label, ...props }, icon(name));
}

/**
 * The model-connection indicator for the top bar: a dot (green connected and
 * answering, amber none or not answering, with the reason in its title)
 * linking to the model settings. Carries id model-status,
 * data-connected="true|false" and data-reachable="true|false".
 */
export function modelStatusLink(model) {
  const a = h('a', { id: 'model-status', class: 'model-status', href: '#/settings/model' },
    h('span', { class: 'dot', 'aria-hidden': 'true' }),
    h('span', { class: 'model-status-text' }));
  updateModelStatus(a, model);
  return a;
}

export function updateModelStatus(a, model) {
  if (!a) return;
  const connected = !!(model && model.connected);
  // An older server sends no "reachable": trust "connected" then.
  const reachable = connected && model.reachable !== false;
  a.dataset.connected = String(connected);
  a.dataset.reachable = String(reachable);
  const text = connected ? (model.model || 'Model connected') : 'No model';
  a.querySelector('.model-status-text').textContent = text;
  const name = model && model.model ? `: ${model.model}` : '';
  let label = 'No language model connected. Open model settings.';
  if (reachable) label = `Language model connected${name}. Open model settings.`;
  else if (connected) label = `Language model not answering${name}. ${model.last_error || ''} Open model settings.`.replace(/\s+/g, ' ');
  a.setAttribute('aria-label', label);
  a.title = label;
}

/** Checks that tz is a time zone this browser knows. */
export function validTimeZone(tz) {
  if (!tz) return false;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function detectedTimeZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch { return 'UTC'; }
}

/** A <datalist> of the browser's IANA time zones (empty if unsupported). */
export function timeZoneList(id) {
  const list = h('datalist', { id });
  let zones = [];
  try { zones = Intl.supportedValuesOf('timeZone'); } catch { zones = []; }
  for (const z of zones) list.append(h('option', { value: z }));
  return list;
}

export function localTimeIn(tz) {
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone: tz, hour: 'numeric', minute: '2-digit', weekday: 'long' }).format(new Date());
  } catch {
    return '';
  }
}
