// Pure helpers of the writing desk (views/desk.js): the local draft kept
// in localStorage, moving suggestion spans through an edit, and cutting the
// text into plain and marked runs for the highlight layer. Nothing here
// touches the DOM or the network.
//
// Offsets are JavaScript string indexes (UTF-16 code units), the units
// /api/documents/{id}/proofread and /api/spelling answer in.

const DRAFT_PREFIX = 'os1.desk.draft.';

/** draftKey is the localStorage key of one user's draft of one document. */
export function draftKey(userId, docId) {
  return `${DRAFT_PREFIX}${userId}.${docId}`;
}

/** readDraft returns {title, body, base, at} or null. */
export function readDraft(userId, docId) {
  try {
    const raw = localStorage.getItem(draftKey(userId, docId));
    if (!raw) return null;
    const d = JSON.parse(raw);
    if (!d || typeof d.body !== 'string' || typeof d.base !== 'number') return null;
    return { title: typeof d.title === 'string' ? d.title : '', body: d.body, base: d.base, at: d.at || 0 };
  } catch {
    return null;
  }
}

/**
 * writeDraft keeps the text on this device before any request is made, so
 * a network drop, a closed tab or a crash loses no keystroke. It returns
 * false when the browser refused (storage full or disabled).
 */
export function writeDraft(userId, docId, draft) {
  try {
    localStorage.setItem(draftKey(userId, docId), JSON.stringify({ ...draft, at: Date.now() }));
    return true;
  } catch {
    return false;
  }
}

export function clearDraft(userId, docId) {
  try { localStorage.removeItem(draftKey(userId, docId)); } catch { /* nothing kept */ }
}

/**
 * changeOf finds the one region where before and after differ: the common
 * prefix and suffix are kept. {start, oldEnd, newEnd}, or null when equal.
 */
export function changeOf(before, after) {
  if (before === after) return null;
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let ob = before.length;
  let nb = after.length;
  while (ob > start && nb > start && before.charCodeAt(ob - 1) === after.charCodeAt(nb - 1)) { ob--; nb--; }
  return { start, oldEnd: ob, newEnd: nb };
}

/**
 * shiftSpans moves spans ({start, end, ...}) through a change: spans after
 * it move by its length difference, spans before it stay, spans it touches
 * are returned in stale (their text changed under them).
 */
export function shiftSpans(spans, change) {
  if (!change) return { kept: spans, stale: [] };
  const delta = (change.newEnd - change.start) - (change.oldEnd - change.start);
  const kept = [];
  const stale = [];
  for (const s of spans) {
    if (s.end <= change.start) {
      kept.push(s);
    } else if (s.start >= change.oldEnd) {
      kept.push({ ...s, start: s.start + delta, end: s.end + delta });
    } else {
      stale.push(s);
    }
  }
  return { kept, stale };
}

/**
 * applySuggestion replaces s.original by s.replacement in text, only when
 * the span still holds exactly s.original; otherwise null: a suggestion
 * is never applied blindly.
 */
export function applySuggestion(text, s) {
  if (!s || s.start < 0 || s.end > text.length || s.start > s.end) return null;
  if (text.slice(s.start, s.end) !== s.original) return null;
  return text.slice(0, s.start) + s.replacement + text.slice(s.end);
}

/**
 * runs cuts text into [{text, kind, id}] for the highlight layer: kind is
 * '' (plain), 'sugg' (a proofreading suggestion) or 'spell' (a misspelled
 * word). Suggestions win over spelling where they overlap; spans out of
 * range or overlapping an earlier one are skipped.
 */
export function runs(text, suggestions, misspelled) {
  const marks = [];
  for (const s of suggestions || []) marks.push({ start: s.start, end: s.end, kind: 'sugg', id: s.id, rank: 0 });
  for (const m of misspelled || []) marks.push({ start: m.start, end: m.end, kind: 'spell', id: '', rank: 1 });
  marks.sort((a, b) => a.start - b.start || a.rank - b.rank);
  const out = [];
  let at = 0;
  for (const m of marks) {
    if (m.start < at || m.end > text.length || m.end <= m.start) continue;
    if (m.start > at) out.push({ text: text.slice(at, m.start), kind: '', id: '' });
    out.push({ text: text.slice(m.start, m.end), kind: m.kind, id: m.id });
    at = m.end;
  }
  if (at < text.length) out.push({ text: text.slice(at), kind: '', id: '' });
  return out;
}
