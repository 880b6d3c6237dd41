// Attachments in the composer and the transcript: an attach button, drag
// and drop, and pasted images put files in a tray above the message box;
// sending takes them (base64 in the send frame, docs/attachments.md); a
// user message shows its files as chips, images as thumbnails. Names are
// shown as text nodes only. Methods of the Chat view; `this` is the Chat.

import { h, icon } from '../dom.js';

// The server's limits (internal/attach), checked here too for a quick answer.
const MAX_FILES = 4;
const MAX_TEXT = 256 << 10;
const MAX_IMAGE = 5 << 20;
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

function size(n) {
  if (n < 1024) return `${n} bytes`;
  if (n < 1 << 20) return `${+(n / 1024).toFixed(1)} KB`;
  return `${+(n / (1 << 20)).toFixed(1)} MB`;
}

// sniffImage names an image type from its first bytes, as the server
// decides (never from the file's name): '' when the bytes are no image it takes.
function sniffImage(b) {
  const at = (i, s) => [...s].every((c, k) => b[i + k] === c.charCodeAt(0));
  if (at(0, '\x89PNG\r\n\x1a\n')) return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (at(0, 'GIF87a') || at(0, 'GIF89a')) return 'image/gif';
  if (at(0, 'RIFF') && at(8, 'WEBPVP')) return 'image/webp';
  return '';
}

// isText mirrors the server's test: UTF-8 without NUL or other control bytes
// (tab, newlines, form feed and escape allowed).
function isText(b) {
  try { new TextDecoder('utf-8', { fatal: true }).decode(b); } catch { return false; }
  return !b.some((c) => c < 0x20 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 0x1b);
}

function base64(buf) {
  const bytes = new Uint8Array(buf);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export const attachMethods = {
  // setupAttach adds the attach button and the tray to the composer.
  setupAttach() {
    this.attached = [];
    this.fileInput = h('input', { type: 'file', multiple: true, hidden: true, id: 'attach-input' });
    this.fileInput.addEventListener('change', () => { this.addFiles([...this.fileInput.files]); this.fileInput.value = ''; });
    // An SVG icon, not an emoji: a system without an emoji font shows a box.
    this.attachBtn = h('button', { type: 'button', id: 'attach', class: 'attach-btn', 'aria-label': 'Attach files', title: 'Attach text files or images' }, icon('clip'));
    this.attachBtn.addEventListener('click', () => this.fileInput.click());
    this.tray = h('div', { class: 'attach-tray', hidden: true, 'aria-label': 'Attached files' });
    this.form.prepend(this.attachBtn, this.fileInput);
    // The form is not in the page yet (chat.js builds it first): the tray
    // goes above it on its first render (renderTray).
    this.form.addEventListener('dragover', (e) => { e.preventDefault(); this.form.classList.add('dropping'); });
    this.form.addEventListener('dragleave', () => this.form.classList.remove('dropping'));
    this.form.addEventListener('drop', (e) => {
      e.preventDefault();
      this.form.classList.remove('dropping');
      this.addFiles([...(e.dataTransfer && e.dataTransfer.files || [])]);
    });
    this.composer.addEventListener('paste', (e) => {
      const files = [...(e.clipboardData && e.clipboardData.files || [])].filter((f) => f.type.startsWith('image/'));
      if (files.length) { e.preventDefault(); this.addFiles(files); }
    });
  },

  hasAttachments() { return !!(this.attached && this.attached.length); },

  async addFiles(files) {
    for (const f of files) {
      if (this.attached.length >= MAX_FILES) {
        this.showComposerError(`You can attach up to ${MAX_FILES} files to one message.`);
        break;
      }
      const name = f.name || 'pasted-image.png';
      if (!f.size) {
        this.showComposerError(`File ${name} is empty.`);
        continue;
      }
      // The server's checks, here for a quick answer before anything is
      // sent: the type from the bytes, then the size for that type.
      const head = new Uint8Array(await f.slice(0, 16).arrayBuffer());
      const image = IMAGE_TYPES.has(sniffImage(head));
      const limit = image ? MAX_IMAGE : MAX_TEXT;
      if (f.size > limit) {
        this.showComposerError(`File ${name} is ${size(f.size)}; ${image ? 'images' : 'text files'} can be at most ${size(limit)}.`);
        continue;
      }
      const buf = await f.arrayBuffer();
      if (!image && !isText(new Uint8Array(buf))) {
        this.showComposerError(`File ${name} is neither a text file nor a PNG, JPEG, GIF or WebP image.`);
        continue;
      }
      const data = base64(buf);
      // A data: URL, not a blob: one: the page's CSP allows img-src 'self' data: only.
      const a = { name, data, size: f.size, image, url: image ? `data:${sniffImage(head)};base64,${data}` : '' };
      this.attached.push(a);
    }
    this.renderTray();
    this.updateComposer();
  },

  renderTray() {
    if (!this.tray.isConnected && this.form.parentNode) this.form.before(this.tray);
    this.tray.replaceChildren(...this.attached.map((a, i) => {
      const remove = h('button', { type: 'button', class: 'chip-remove', 'aria-label': `Remove ${a.name}`, title: 'Remove' });
      remove.textContent = '×';
      remove.addEventListener('click', () => { this.attached.splice(i, 1); this.renderTray(); this.updateComposer(); });
      return h('span', { class: 'attach-chip pending' }, ...this.chipBody(a), remove);
    }));
    this.tray.hidden = !this.attached.length;
  },

  // takeAttachments empties the tray: the frame's files and the chips to show.
  takeAttachments() {
    const files = this.attached || [];
    this.attached = [];
    if (this.tray) this.renderTray();
    return {
      frame: files.map((a) => ({ name: a.name, data: a.data })),
      shown: files.map((a) => ({ name: a.name, size: a.size, image: a.image, url: a.url })),
    };
  },

  chipBody(a) {
    const parts = [];
    if (a.image && a.url) parts.push(h('img', { class: 'attach-thumb', src: a.url, alt: '' }));
    parts.push(h('span', { class: 'attach-name', text: a.name }));
    if (a.size) parts.push(h('span', { class: 'attach-size', text: size(a.size) }));
    return parts;
  },

  // attachmentChips renders a message's files under its bubble.
  appendAttachmentChips(el, m) {
    if (!m || !Array.isArray(m.attachments) || !m.attachments.length) return;
    const chips = m.attachments.map((a) => {
      const body = this.chipBody(a);
      if (!a.url || !a.url.startsWith('/')) return h('span', { class: 'attach-chip' }, ...body);
      return h('a', { class: 'attach-chip', href: a.url, target: '_blank', rel: 'noopener' }, ...body);
    });
    el.append(h('div', { class: 'msg-attachments' }, ...chips));
  },
};
