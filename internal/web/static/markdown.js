// Minimal, safe rendering of message text. Only a few markdown forms are
// recognised (``` fenced code ```, `code`, **bold**, *italic* / _italic_ and
// bare http(s) links); everything else stays literal text. The output is
// built from DOM nodes and textContent, never HTML strings, so message
// content cannot inject markup. Line breaks survive through CSS
// (white-space: pre-wrap) on the container.

import { h } from './dom.js';

const INLINE = /(`[^`\n]+`)|(\*\*(?=\S)[^*\n]*?\S\*\*)|(\*(?=[^\s*])[^*\n]*?[^\s*]\*|\*[^\s*]\*)|((?<![\p{L}\p{N}_])_(?=\S)[^_\n]*?\S_(?![\p{L}\p{N}_]))|(https?:\/\/[^\s<>"'`]+)/gu;

function inline(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const s = m[0];
    if (m[1]) out.push(h('code', { text: s.slice(1, -1) }));
    else if (m[2]) out.push(h('strong', null, inline(s.slice(2, -2))));
    else if (m[3] || m[4]) out.push(h('em', null, inline(s.slice(1, -1))));
    else if (m[5]) {
      // Leave trailing punctuation outside the link.
      const url = s.replace(/[.,;:!?)\]]+$/, '');
      out.push(link(url));
      if (url.length < s.length) out.push(s.slice(url.length));
    }
    last = m.index + s.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function link(url) {
  let ok = false;
  try { ok = ['http:', 'https:'].includes(new URL(url).protocol); } catch { ok = false; }
  if (!ok) return url;
  return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer nofollow', text: url });
}

/** renderText(el, text) replaces el's content with text, lightly formatted. */
export function renderText(el, text) {
  const nodes = [];
  const parts = String(text ?? '').split(/^```[^\n]*\n?/m);
  // parts alternate: text, code, text, code, … (an unclosed fence stays code).
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      nodes.push(h('pre', { class: 'code-block' }, h('code', { text: part.replace(/\n$/, '') })));
    } else if (part) {
      nodes.push(...inline(i > 0 ? part.replace(/^\n/, '') : part));
    }
  });
  el.replaceChildren(...nodes.map((n) => (typeof n === 'string' ? document.createTextNode(n) : n)));
}
