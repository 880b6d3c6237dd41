// Calendar (#/calendar): the agenda of every calendar the user has (the
// local one, CalDAV calendars, subscriptions), in the user's time zone as
// the server reads it: Today, This week (the next six days) and Next (the
// four weeks after), all-day events first in their day, a repeating event's
// occurrences each on its day, each with the calendar it comes from. Add
// an event to the local calendar (a date, a time or none for all day, a
// length), remove a one-off event (of a CalDAV calendar too, at the next
// sync; never of a subscription), import an .ics file (every event that cannot be
// read is named) and export the local calendar. Accounts and subscriptions
// are in Settings → Calendar (settings-calendar.js). The API is
// /api/calendar (docs/api.md).
//
// Event text can come from other people (invitations, subscriptions):
// everything is put on the page as text (h's text, textContent), never as
// markup, and nothing an event says is followed or loaded.

import { h, icon, announce } from '../dom.js';
import { api, csrf } from '../api.js';
import { alertBox, busy, field, modelStatusLink } from './common.js';

const enc = encodeURIComponent;
const NEXT_DAYS = 28;

export function mount(root, ctx, route) {
  const view = new CalendarView(root, ctx);
  view.update(route);
  return view;
}

/** dayOf is the user's-zone date (YYYY-MM-DD) of a time the server wrote in that zone. */
export function dayOf(iso) {
  return String(iso || '').slice(0, 10);
}

/** addDays adds n days to a YYYY-MM-DD date. */
export function addDays(day, n) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** dayTitle names a YYYY-MM-DD date: "Saturday 5 December". */
export function dayTitle(day) {
  const [y, m, d] = day.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d, 12));
  if (Number.isNaN(t.getTime())) return day;
  return t.toLocaleDateString(undefined, { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long' });
}

/** timeOf is an occurrence's time as the user reads it: "14:30–15:15", or "All day". */
export function timeOf(o) {
  if (o.all_day) {
    const last = addDays(dayOf(o.end), -1);
    return last > dayOf(o.start) ? `All day, until ${dayTitle(last)}` : 'All day';
  }
  const s = String(o.start).slice(11, 16);
  const e = String(o.end).slice(11, 16);
  const sameDay = dayOf(o.start) === dayOf(o.end);
  return e && (e !== s || !sameDay) ? `${s}–${e}${sameDay ? '' : ' (next day)'}` : s;
}

/** group puts occurrences into days, all-day ones first in each, then by start. */
export function group(occ, floor) {
  const days = new Map();
  for (const o of occ) {
    let d = dayOf(o.start);
    if (floor && d < floor) d = floor; // began before the span: shown on its first day
    if (!days.has(d)) days.set(d, []);
    days.get(d).push(o);
  }
  const out = [...days.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  for (const [, items] of out) {
    items.sort((a, b) => (b.all_day ? 1 : 0) - (a.all_day ? 1 : 0) || String(a.start).localeCompare(String(b.start)));
  }
  return out;
}

class CalendarView {
  constructor(root, ctx) {
    this.ctx = ctx;
    this.seq = 0;
    const top = h('header', { class: 'topbar' },
      h('a', { id: 'nav-back', class: 'icon-btn', href: '#/', 'aria-label': 'Back to chat', title: 'Back to chat' }, icon('back')),
      h('div', { class: 'topbar-title' }, h('span', { class: 'companion-title', text: 'Calendar' })),
      h('span', { class: 'spacer' }),
      modelStatusLink(ctx.state.model),
      h('a', { id: 'nav-settings', class: 'icon-btn', href: '#/settings/calendar', 'aria-label': 'Calendar settings', title: 'Calendar settings' }, icon('gear')));
    this.page = h('main', { id: 'main', class: 'page cal-page' });
    root.append(h('div', { class: 'page-layout' }, top, h('div', { class: 'page-scroll' }, this.page)));
    this.err = alertBox();
    this.agenda = h('div', { id: 'cal-agenda', class: 'cal-agenda' });
    document.title = 'Calendar · os1';
    const h1 = h('h1', { class: 'page-title', tabindex: '-1', text: 'Calendar' });
    this.page.replaceChildren(h1, this.tools(), this.form(), this.importPart(), this.err, this.agenda);
    h1.focus({ preventScroll: true });
  }

  update() {
    this.load();
  }

  unmount() { this.seq++; }

  tools() {
    this.addBtn = h('button', { id: 'cal-add', type: 'button', class: 'btn', 'aria-expanded': 'false', 'aria-controls': 'cal-form' },
      icon('plus'), h('span', { text: 'Add an event' }));
    this.addBtn.addEventListener('click', () => this.toggleForm());
    const importBtn = h('button', { id: 'cal-import', type: 'button', class: 'btn secondary', text: 'Import .ics' });
    importBtn.addEventListener('click', () => this.file.click());
    return h('div', { class: 'row cal-tools' }, this.addBtn, importBtn,
      h('a', { id: 'cal-export', class: 'btn secondary', href: '/api/calendar/export.ics', download: 'calendar.ics', text: 'Export .ics' }),
      h('a', { id: 'cal-settings', class: 'btn ghost', href: '#/settings/calendar', text: 'Accounts and subscriptions' }));
  }

  toggleForm(open) {
    const show = open ?? this.formEl.hidden;
    this.formEl.hidden = !show;
    this.addBtn.setAttribute('aria-expanded', String(show));
    if (show) this.formEl.querySelector('#cal-summary').focus();
  }

  form() {
    const err = alertBox();
    const summary = h('input', { id: 'cal-summary', type: 'text', required: true, maxlength: 300, autocomplete: 'off' });
    const date = h('input', { id: 'cal-date', type: 'date', required: true });
    const time = h('input', { id: 'cal-time', type: 'time' });
    const minutes = h('select', { id: 'cal-minutes' },
      ...[[15, '15 min'], [30, '30 min'], [45, '45 min'], [60, '1 hour'], [90, '1½ hours'], [120, '2 hours'], [180, '3 hours']]
        .map(([v, label]) => h('option', { value: String(v), selected: v === 60, text: label })));
    const where = h('input', { id: 'cal-location', type: 'text', maxlength: 300, autocomplete: 'off' });
    const save = h('button', { id: 'cal-save', type: 'submit', class: 'btn', text: 'Add to my calendar' });
    const cancel = h('button', { type: 'button', class: 'btn ghost', text: 'Cancel' });
    cancel.addEventListener('click', () => this.toggleForm(false));
    const f = h('form', { id: 'cal-form', class: 'form card cal-form', novalidate: true, hidden: true },
      field('Title', summary),
      h('div', { class: 'row' }, field('Day', date), field('Time', time, 'Empty: all day'), field('Length', minutes)),
      field('Place', where),
      err, h('div', { class: 'row' }, save, cancel));
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.clear();
      if (!summary.value.trim()) { err.show('Give the event a title.'); summary.focus(); return; }
      if (!date.value) { err.show('Choose the day.'); date.focus(); return; }
      const body = { summary: summary.value.trim(), date: date.value, location: where.value.trim() };
      if (time.value) { body.time = time.value; body.minutes = Number(minutes.value); }
      try {
        const ev = await busy(save, 'Adding…', () => api.post('/api/calendar/events', body));
        announce(`Added “${ev.summary}”.`);
        summary.value = ''; where.value = ''; time.value = '';
        this.toggleForm(false);
        this.addBtn.focus();
        await this.load();
      } catch (ex) { err.show(ex.message); }
    });
    this.formEl = f;
    this.fillDate = () => { if (!date.value && this.today) date.value = this.today; };
    return f;
  }

  importPart() {
    this.file = h('input', { id: 'cal-import-file', type: 'file', accept: '.ics,text/calendar', class: 'sr-only', tabindex: '-1', 'aria-hidden': 'true' });
    this.importResult = h('div', { id: 'cal-import-result', class: 'cal-import-result', role: 'status', hidden: true });
    this.file.addEventListener('change', async () => {
      const f = this.file.files && this.file.files[0];
      this.file.value = '';
      if (!f) return;
      this.err.clear();
      this.importResult.hidden = true;
      try {
        const res = await fetch('/api/calendar/import', {
          method: 'POST', credentials: 'same-origin', cache: 'no-store', body: await f.text(),
          headers: { Accept: 'application/json', 'Content-Type': 'text/calendar', 'X-CSRF-Token': csrf() },
        });
        let data = null;
        try { data = await res.json(); } catch { /* not JSON */ }
        if (!res.ok) {
          const msg = data && data.error && data.error.message;
          this.err.show(typeof msg === 'string' && msg ? msg : `The import failed (the server answered ${res.status}).`);
          return;
        }
        const errors = (data && data.errors) || [];
        const line = `Imported ${data.imported} event${data.imported === 1 ? '' : 's'} from ${f.name}` +
          (data.updated ? `, updated ${data.updated}` : '') + (errors.length ? `; ${errors.length} could not be read:` : '.');
        this.importResult.replaceChildren(h('p', { text: line }),
          errors.length ? h('ul', { class: 'plain-list cal-import-errors' }, ...errors.map((x) => h('li', { class: 'hint', text: x }))) : null);
        this.importResult.hidden = false;
        announce(line);
        await this.load();
      } catch {
        this.err.show("Can't reach os1. Check that the server is running, then try again.");
      }
    });
    return h('div', {}, this.file, this.importResult);
  }

  async load() {
    const seq = ++this.seq;
    try {
      const [week, cals] = await Promise.all([api.get('/api/calendar/agenda'), api.get('/api/calendar/calendars')]);
      if (seq !== this.seq) return;
      const today = dayOf(week.from);
      this.today = today;
      this.fillDate();
      const next = await api.get(`/api/calendar/agenda?from=${enc(addDays(today, 7))}&to=${enc(addDays(today, 7 + NEXT_DAYS))}`);
      if (seq !== this.seq) return;
      this.calendars = new Map((cals.calendars || []).map((c) => [c.id, c]));
      this.render(week, next);
    } catch (ex) {
      if (seq !== this.seq) return;
      this.agenda.replaceChildren();
      this.err.show(ex.code === 'calendar_unavailable' ? 'The calendar is not enabled on this server.' : ex.message);
    }
  }

  render(week, next) {
    const today = this.today;
    const occ = week.occurrences || [];
    const todays = occ.filter((o) => dayOf(o.start) <= today);
    const rest = occ.filter((o) => dayOf(o.start) > today);
    this.agenda.replaceChildren(
      h('p', { class: 'hint cal-zone', text: `Times in ${week.zone}.` }),
      this.part('cal-today', 'Today', group(todays, today), 'Nothing today.', true),
      this.part('cal-week', 'This week', group(rest), 'Nothing else this week.'),
      // An event that began this week and goes on is shown once, on its first day.
      this.part('cal-next', 'Next', group((next.occurrences || []).filter((o) => dayOf(o.start) >= addDays(today, 7))),
        `Nothing in the ${NEXT_DAYS} days after.`));
  }

  part(id, title, days, empty, oneDay) {
    const sec = h('section', { id, class: 'cal-part', 'aria-labelledby': `${id}-title` },
      h('h2', { id: `${id}-title`, text: oneDay && days.length ? `Today · ${dayTitle(days[0][0])}` : title }));
    if (!days.length) {
      sec.append(h('p', { class: 'muted', text: empty }));
      return sec;
    }
    for (const [day, items] of days) {
      if (!oneDay) sec.append(h('h3', { class: 'cal-day', text: dayTitle(day) }));
      sec.append(h('ul', { class: 'plain-list cal-list' }, ...items.map((o) => this.item(o))));
    }
    return sec;
  }

  item(o) {
    const ev = o.event || {};
    const cal = this.calendars.get(ev.calendar_id) || {};
    const repeats = !!(ev.rrule || (ev.rdates && ev.rdates.length) || ev.recurrence_id);
    const cancelled = ev.status === 'CANCELLED';
    const li = h('li', { class: 'cal-item', dataset: { id: ev.id || '', calendar: cal.kind || '' } },
      h('div', { class: 'cal-time', text: timeOf(o) }),
      h('div', { class: 'grow' },
        h('div', { class: `cal-summary${cancelled ? ' cal-cancelled' : ''}`, text: ev.summary || '(no title)' }),
        ev.location ? h('div', { class: 'hint cal-location', text: ev.location }) : null,
        h('div', { class: 'hint cal-meta' },
          h('span', { class: 'badge cal-calendar', text: cal.name || 'Calendar' }),
          repeats ? h('span', { class: 'badge cal-repeats', text: 'Repeats' }) : null,
          cancelled ? h('span', { class: 'badge', text: 'Cancelled' }) : null)));
    // One-off events of a calendar os1 may write to (its own, or a CalDAV
    // one: removed there at the next sync); a series stays whole here.
    if ((cal.kind === 'local' || cal.kind === 'caldav') && !cal.read_only && !repeats) li.append(this.removeBtn(ev, li, cal.kind === 'caldav'));
    return li;
  }

  removeBtn(ev, li, synced) {
    const b = h('button', { type: 'button', class: 'btn ghost small cal-remove', text: 'Remove', 'aria-label': `Remove “${ev.summary}”` });
    b.addEventListener('click', async () => {
      if (b.dataset.confirm !== '1') {
        b.dataset.confirm = '1';
        b.textContent = synced ? 'Remove it, also on the server?' : 'Remove it for good?';
        b.classList.add('danger-text');
        return;
      }
      this.err.clear();
      try {
        await busy(b, null, () => api.del(`/api/calendar/events/${enc(ev.id)}`));
        li.remove();
        announce(`Removed “${ev.summary}”.`);
        await this.load();
      } catch (ex) { this.err.show(ex.message); }
    });
    return b;
  }
}
