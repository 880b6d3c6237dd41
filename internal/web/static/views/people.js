// People (#/contacts): the user's contacts merged with the people she
// remembers — one person with all of their handles (emails, phones,
// addresses), birthday, other names and relation ("sister"). Add a person,
// edit a person's handles, birthday and relation (a person memory knows
// without a contact gets one, linked to them), remove a contact, import a
// .vcf file (every card that cannot be read is named), export, and sync
// with the address books of the calendar accounts (CardDAV). The API is
// /api/contacts (docs/contacts.md).
//
// Names and handles can come from a DAV server: everything is put on the
// page as text (h's text, textContent), never as markup, and no handle is
// followed or loaded.

import { h, icon, announce } from '../dom.js';
import { api, csrf } from '../api.js';
import { alertBox, busy, field, modelStatusLink } from './common.js';

const enc = encodeURIComponent;
let formSeq = 0;
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const KINDS = [['email', 'Email'], ['phone', 'Phone'], ['address', 'Address']];

export function mount(root, ctx, route) {
  const view = new PeopleView(root, ctx);
  view.update(route);
  return view;
}

/** splitNames reads "Cathy, Cat" as a list of names. */
export function splitNames(s) {
  return String(s || '').split(',').map((x) => x.trim()).filter(Boolean);
}

/** birthdayText says a birthday as people read it: "12 April 1990", "12 April". */
export function birthdayText(b) {
  const m = /^(\d{4}|-)-?(\d{2})-(\d{2})$/.exec(String(b || ''));
  if (!m) return String(b || '');
  const month = MONTHS[Number(m[2]) - 1];
  if (!month) return String(b);
  const day = `${Number(m[3])} ${month}`;
  return m[1] === '-' ? day : `${day} ${m[1]}`;
}

class PeopleView {
  constructor(root, ctx) {
    this.ctx = ctx;
    this.seq = 0;
    this.contacts = new Map();
    const top = h('header', { class: 'topbar' },
      h('a', { id: 'nav-back', class: 'icon-btn', href: '#/', 'aria-label': 'Back to chat', title: 'Back to chat' }, icon('back')),
      h('div', { class: 'topbar-title' }, h('span', { class: 'companion-title', text: 'People' })),
      h('span', { class: 'spacer' }),
      modelStatusLink(ctx.state.model));
    this.page = h('main', { id: 'main', class: 'page ppl-page' });
    root.append(h('div', { class: 'page-layout' }, top, h('div', { class: 'page-scroll' }, this.page)));
    this.err = alertBox();
    this.result = h('div', { id: 'ppl-result', class: 'cal-import-result', role: 'status', hidden: true });
    this.list = h('ul', { id: 'ppl-list', class: 'plain-list ppl-list', 'aria-live': 'polite' });
    this.addForm = this.personForm(null);
    this.addForm.hidden = true;
    document.title = 'People · os1';
    const h1 = h('h1', { class: 'page-title', tabindex: '-1', text: 'People' });
    this.page.replaceChildren(h1,
      h('p', { class: 'hint', text: `Your contacts and the people ${(ctx.state.me && ctx.state.me.persona && ctx.state.me.persona.name) || 'she'} remembers, as one list. Ask in chat: “when is Ana's birthday?”` }),
      this.tools(), this.addForm, this.importPart(), this.err, this.result, this.list);
    h1.focus({ preventScroll: true });
  }

  update() { this.load(); }

  unmount() { this.seq++; }

  tools() {
    this.addBtn = h('button', { id: 'ppl-add', type: 'button', class: 'btn', 'aria-expanded': 'false', 'aria-controls': 'ppl-form-new' },
      icon('plus'), h('span', { text: 'Add a person' }));
    this.addBtn.addEventListener('click', () => {
      this.addForm.hidden = !this.addForm.hidden;
      this.addBtn.setAttribute('aria-expanded', String(!this.addForm.hidden));
      if (!this.addForm.hidden) this.addForm.querySelector('.ppl-name').focus();
    });
    const importBtn = h('button', { id: 'ppl-import', type: 'button', class: 'btn secondary', text: 'Import .vcf' });
    importBtn.addEventListener('click', () => this.file.click());
    const sync = h('button', { id: 'ppl-sync', type: 'button', class: 'btn ghost', text: 'Sync now' });
    sync.addEventListener('click', async () => {
      this.err.clear();
      try {
        const rep = await busy(sync, 'Syncing…', () => api.post('/api/contacts/sync', {}));
        const line = rep.accounts
          ? `Synced ${rep.books} address book${rep.books === 1 ? '' : 's'}: ${rep.pulled} in, ${rep.pushed} out, ${rep.deleted} deleted.`
          : 'No account to sync: connect one in Settings → Calendar (its server keeps your address books too).';
        this.showResult(line, [...(rep.conflicts || []), ...(rep.errors || [])]);
        await this.load();
      } catch (ex) { this.err.show(ex.message); }
    });
    return h('div', { class: 'row cal-tools' }, this.addBtn, importBtn,
      h('a', { id: 'ppl-export', class: 'btn secondary', href: '/api/contacts/export.vcf', download: 'contacts.vcf', text: 'Export .vcf' }), sync);
  }

  showResult(line, items) {
    this.result.replaceChildren(h('p', { text: line }),
      items.length ? h('ul', { class: 'plain-list cal-import-errors' }, ...items.map((x) => h('li', { class: 'hint', text: x }))) : null);
    this.result.hidden = false;
    announce(line);
  }

  importPart() {
    this.file = h('input', { id: 'ppl-import-file', type: 'file', accept: '.vcf,.vcard,text/vcard', class: 'sr-only', tabindex: '-1', 'aria-hidden': 'true' });
    this.file.addEventListener('change', async () => {
      const f = this.file.files && this.file.files[0];
      this.file.value = '';
      if (!f) return;
      this.err.clear();
      this.result.hidden = true;
      try {
        const res = await fetch('/api/contacts/import', {
          method: 'POST', credentials: 'same-origin', cache: 'no-store', body: await f.text(),
          headers: { Accept: 'application/json', 'Content-Type': 'text/vcard', 'X-CSRF-Token': csrf() },
        });
        let data = null;
        try { data = await res.json(); } catch { /* not JSON */ }
        if (!res.ok) {
          const msg = data && data.error && data.error.message;
          this.err.show(typeof msg === 'string' && msg ? msg : `The import failed (the server answered ${res.status}).`);
          return;
        }
        const errors = data.errors || [];
        this.showResult(`Imported ${data.imported} contact${data.imported === 1 ? '' : 's'} from ${f.name}` +
          (data.updated ? `, updated ${data.updated}` : '') + (errors.length ? `; ${errors.length} could not be read:` : '.'), errors);
        await this.load();
      } catch {
        this.err.show("Can't reach os1. Check that the server is running, then try again.");
      }
    });
    return this.file;
  }

  async load() {
    const seq = ++this.seq;
    try {
      const data = await api.get('/api/contacts');
      if (seq !== this.seq) return;
      this.contacts = new Map((data.contacts || []).map((c) => [c.id, c]));
      this.fillBooks(data.books || []);
      const people = data.people || [];
      this.list.replaceChildren(...(people.length
        ? people.map((p) => this.item(p))
        : [h('li', { class: 'muted', text: 'No one yet. Add a person, import a .vcf file, or sync your address book.' })]));
    } catch (ex) {
      if (seq !== this.seq) return;
      this.err.show(ex.code === 'contacts_unavailable' ? 'Contacts are not enabled on this server.' : ex.message);
    }
  }

  item(p) {
    const contact = (p.contact_ids || []).map((id) => this.contacts.get(id)).find(Boolean);
    const li = h('li', { class: 'ppl-item', dataset: { contact: contact?.id || '', entity: p.entity_id || '' } });
    const handles = (p.handles || []).map((x) => h('li', { class: 'ppl-handle-line' },
      h('span', { class: 'badge', text: x.label ? `${x.kind} · ${x.label}` : x.kind }), ' ', h('span', { class: 'ppl-value', text: x.value })));
    const edit = h('button', { type: 'button', class: 'btn ghost small ppl-edit', text: contact ? 'Edit' : 'Add details', 'aria-label': `Edit ${p.name}` });
    const body = h('div', { class: 'grow' },
      h('div', { class: 'ppl-name-line' }, h('strong', { class: 'ppl-person', text: p.name }),
        p.relation ? h('span', { class: 'badge ppl-relation', text: p.relation }) : null,
        p.entity_id ? h('span', { class: 'badge', text: 'remembered', title: `${(this.ctx.state.me && this.ctx.state.me.persona && this.ctx.state.me.persona.name) || 'She'} knows them from your conversations` }) : null),
      (p.other_names || []).length ? h('div', { class: 'hint', text: `Also: ${p.other_names.join(', ')}` }) : null,
      p.birthday ? h('div', { class: 'hint ppl-birthday', text: `Birthday: ${birthdayText(p.birthday)}` }) : null,
      handles.length ? h('ul', { class: 'plain-list ppl-handles' }, ...handles) : h('div', { class: 'hint', text: 'No email, phone or address yet.' }));
    li.append(body, edit);
    if (contact) li.append(this.removeBtn(contact, li));
    edit.addEventListener('click', () => {
      const open = li.querySelector('form');
      if (open) { open.remove(); return; }
      const init = contact
        ? { ...contact, relation: contact.relation || p.relation, birthday: contact.birthday || '' }
        : { name: p.name, other_names: p.other_names, relation: p.relation, entity_id: p.entity_id, handles: [] };
      const f = this.personForm(init, contact?.id);
      li.append(f);
      f.querySelector('.ppl-name').focus();
    });
    return li;
  }

  // fillBooks offers the synced address books a new person can be kept in.
  fillBooks(books) {
    if (!this.bookSelect) return;
    const keep = this.bookSelect.value;
    this.bookSelect.replaceChildren(h('option', { value: '', text: 'os1 only' }),
      ...books.map((b) => h('option', { value: JSON.stringify([b.account_id, b.path]), text: `Address book ${b.path}` })));
    this.bookSelect.value = [...this.bookSelect.options].some((o) => o.value === keep) ? keep : '';
    this.bookField.hidden = !books.length;
  }

  removeBtn(c, li) {
    const b = h('button', { type: 'button', class: 'btn ghost small ppl-remove', text: 'Remove contact', 'aria-label': `Remove the contact ${c.name}` });
    b.addEventListener('click', async () => {
      if (b.dataset.confirm !== '1') {
        b.dataset.confirm = '1';
        b.textContent = 'Remove it for good?';
        b.classList.add('danger-text');
        return;
      }
      this.err.clear();
      try {
        await busy(b, null, () => api.del(`/api/contacts/${enc(c.id)}`));
        li.remove();
        announce(`Removed ${c.name}.`);
        await this.load();
      } catch (ex) { this.err.show(ex.message); }
    });
    return b;
  }

  handleRow(x) {
    const kind = h('select', { class: 'ppl-kind', 'aria-label': 'Kind' },
      ...KINDS.map(([v, label]) => h('option', { value: v, selected: v === (x.kind || 'email'), text: label })));
    const value = h('input', { class: 'ppl-value-input', type: 'text', maxlength: 500, autocomplete: 'off', 'aria-label': 'Email, phone or address', value: x.value || '' });
    const label = h('input', { class: 'ppl-label', type: 'text', maxlength: 40, autocomplete: 'off', placeholder: 'home, work…', 'aria-label': 'Label', value: x.label || '' });
    const rm = h('button', { type: 'button', class: 'btn ghost small ppl-handle-remove', text: 'Remove', 'aria-label': 'Remove this handle' });
    const row = h('div', { class: 'row ppl-handle' }, kind, value, label, rm);
    rm.addEventListener('click', () => row.remove());
    return row;
  }

  // personForm adds a person (id unset) or edits contact id; init fills it.
  personForm(init, id) {
    init = init || {};
    const uid = `ppl-f${++formSeq}`;
    const err = alertBox();
    const name = h('input', { id: `${uid}-name`, class: 'ppl-name', type: 'text', required: true, maxlength: 200, autocomplete: 'off', value: init.name || '' });
    const other = h('input', { id: `${uid}-other`, class: 'ppl-other', type: 'text', maxlength: 400, autocomplete: 'off', value: (init.other_names || []).join(', ') });
    const relation = h('input', { id: `${uid}-relation`, class: 'ppl-relation-input', type: 'text', maxlength: 60, autocomplete: 'off', placeholder: 'sister, friend…', value: init.relation || '' });
    const birthday = h('input', { id: `${uid}-birthday`, class: 'ppl-birthday-input', type: 'text', maxlength: 10, autocomplete: 'off', placeholder: 'YYYY-MM-DD', value: init.birthday || '' });
    const rows = h('div', { class: 'ppl-handles-edit' }, ...(init.handles || []).map((x) => this.handleRow(x)));
    if (!id && !(init.handles || []).length) rows.append(this.handleRow({}));
    const more = h('button', { type: 'button', class: 'btn ghost small ppl-add-handle', text: 'Add an email, phone or address' });
    more.addEventListener('click', () => { const r = this.handleRow({}); rows.append(r); r.querySelector('input').focus(); });
    let bookField = null;
    if (!id && !init.entity_id) {
      this.bookSelect = h('select', { id: `${uid}-book`, class: 'ppl-book' }, h('option', { value: '', text: 'os1 only' }));
      bookField = this.bookField = field('Keep in', this.bookSelect, 'A synced address book gets the card at the next sync');
      bookField.hidden = true;
    }
    const save = h('button', { type: 'submit', class: 'btn ppl-save', text: id ? 'Save' : 'Add' });
    const cancel = h('button', { type: 'button', class: 'btn ghost', text: 'Cancel' });
    const f = h('form', { id: id ? null : 'ppl-form-new', class: 'form card ppl-form', novalidate: true },
      field('Name', name),
      h('div', { class: 'row' }, field('Other names', other, 'Comma between them'), field('Who they are to you', relation),
        field('Birthday', birthday, 'YYYY-MM-DD, or --MM-DD without the year')),
      h('fieldset', { class: 'ppl-handles-set' }, h('legend', { text: 'How to reach them' }), rows, more),
      bookField, err, h('div', { class: 'row' }, save, cancel));
    cancel.addEventListener('click', () => { if (id || init.entity_id) f.remove(); else { f.hidden = true; this.addBtn.setAttribute('aria-expanded', 'false'); } });
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.clear();
      if (!name.value.trim()) { err.show('Give the person a name.'); name.focus(); return; }
      const handles = [...rows.querySelectorAll('.ppl-handle')].map((r) => ({
        kind: r.querySelector('.ppl-kind').value, value: r.querySelector('.ppl-value-input').value.trim(), label: r.querySelector('.ppl-label').value.trim(),
      })).filter((x) => x.value);
      const body = { name: name.value.trim(), other_names: splitNames(other.value), relation: relation.value.trim(), birthday: birthday.value.trim(), handles };
      try {
        if (id) {
          await busy(save, 'Saving…', () => api.patch(`/api/contacts/${enc(id)}`, body));
          announce(`Saved ${body.name}.`);
        } else {
          if (init.entity_id) body.entity_id = init.entity_id;
          if (bookField && this.bookSelect.value) [body.account_id, body.book] = JSON.parse(this.bookSelect.value);
          await busy(save, 'Adding…', () => api.post('/api/contacts', body));
          announce(`Added ${body.name}.`);
          if (f.id === 'ppl-form-new') {
            f.hidden = true;
            this.addBtn.setAttribute('aria-expanded', 'false');
            name.value = ''; other.value = ''; relation.value = ''; birthday.value = '';
            rows.replaceChildren(this.handleRow({}));
          }
        }
        if (f.id !== 'ppl-form-new') f.remove();
        await this.load();
      } catch (ex) { err.show(ex.message); }
    });
    return f;
  }
}
