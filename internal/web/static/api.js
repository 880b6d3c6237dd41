// A small fetch wrapper for os1's JSON API (docs/api.md).
//
// - Bodies go out as JSON; JSON answers are parsed; 204 answers give null.
// - Every request that is not GET/HEAD carries X-CSRF-Token, the value last
//   returned by /api/setup, /api/login, /api/invites/accept or /api/me.
//   A 403 csrf_failed refreshes the token from /api/me once and retries.
// - Failures throw ApiError with the server's {error:{code,message}};
//   the message is meant to be shown to the user verbatim.
// - A 401 on a signed-in call tells the app (onAuthLost) so it can show the
//   login screen.

let csrfToken = '';
let authLost = null;

export function setCsrf(token) { csrfToken = token || ''; }
export function csrf() { return csrfToken; }
export function onAuthLost(fn) { authLost = fn; }

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

const NETWORK_MESSAGE = "Can't reach os1. Check that the server is running, then try again.";

function headersFor(method, hasBody, accept = 'application/json') {
  const headers = { Accept: accept };
  if (hasBody) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  return headers;
}

async function errorFrom(res) {
  let data = null;
  try { data = JSON.parse(await res.text()); } catch { /* not JSON */ }
  const retryAfter = Number(res.headers.get('Retry-After')) || 0;
  const e = data && data.error;
  if (e && typeof e.message === 'string' && e.message) {
    return new ApiError(res.status, e.code || 'error', e.message, retryAfter);
  }
  const reason = res.statusText ? ` ${res.statusText}` : '';
  return new ApiError(res.status, 'http_' + res.status, `The server answered ${res.status}${reason}.`, retryAfter);
}

async function refreshCsrf() {
  const res = await fetch('/api/me', { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
  if (!res.ok) return false;
  const me = await res.json();
  setCsrf(me.csrf_token);
  return true;
}

/**
 * request(method, path, body?, opts?) → parsed JSON (or null for 204).
 * opts.quietAuth: a 401 is this call's own answer (login), not a lost session.
 */
export async function request(method, path, body, opts = {}) {
  const hasBody = body !== undefined;
  const init = {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: headersFor(method, hasBody),
  };
  if (hasBody) init.body = JSON.stringify(body);
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', NETWORK_MESSAGE);
  }
  if (res.ok) {
    if (res.status === 204) return null;
    const text = await res.text();
    if (!text) return null;
    try { return JSON.parse(text); } catch { throw new ApiError(res.status, 'bad_response', 'The server sent an answer this page could not read.'); }
  }
  const err = await errorFrom(res);
  if (err.code === 'csrf_failed' && !opts.csrfRetried) {
    let ok = false;
    try { ok = await refreshCsrf(); } catch { /* fall through */ }
    if (ok) return request(method, path, body, { ...opts, csrfRetried: true });
  }
  if (res.status === 401 && !opts.quietAuth && authLost) authLost(err);
  throw err;
}

export const api = {
  get: (path, opts) => request('GET', path, undefined, opts),
  post: (path, body = {}, opts) => request('POST', path, body, opts),
  put: (path, body = {}, opts) => request('PUT', path, body, opts),
  patch: (path, body = {}, opts) => request('PATCH', path, body, opts),
  del: (path, opts) => request('DELETE', path, undefined, opts),
};

/**
 * postStream(path, body, onEvent, signal) runs a turn over HTTP: it POSTs and
 * reads the text/event-stream answer, calling onEvent with each event's JSON.
 * Used when the WebSocket is unavailable. Throws ApiError when the request
 * itself fails.
 */
export async function postStream(path, body, onEvent, signal) {
  let res;
  try {
    res = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      cache: 'no-store',
      headers: headersFor('POST', true, 'text/event-stream'),
      body: JSON.stringify(body ?? {}),
      signal,
    });
  } catch {
    throw new ApiError(0, 'network', NETWORK_MESSAGE);
  }
  if (!res.ok) {
    const err = await errorFrom(res);
    if (res.status === 401 && authLost) authLost(err);
    throw err;
  }
  if (!res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch {
      throw new ApiError(0, 'network', 'The connection dropped while the reply was streaming.');
    }
    if (chunk.done) break;
    buf += chunk.value.replace(/\r\n?/g, '\n');
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
      if (!data) continue;
      try { onEvent(JSON.parse(data)); } catch { /* skip a malformed event */ }
    }
  }
}
