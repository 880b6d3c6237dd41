// Package caldavsync syncs a user's CalDAV accounts both ways with
// emersion's go-webdav clients: it finds the account's calendars, pulls
// what changed on the server (RFC 6578 sync-collection when the server
// offers it, else the members' ETags, skipped when the collection's ETag
// is unchanged),
// and pushes os1's own edits with If-Match / If-None-Match, so a write
// never overwrites a change it has not seen.
//
// The conflict rule (docs: "without losing either side's edit"):
//   - both sides changed an event: the server's version stays the event,
//     and os1's edit is saved beside it as a new event (a copy with a new
//     UID, "(your edit)" after its title), which is sent to the server too;
//   - changed here, deleted on the server: os1's edit is put back on the
//     server as it is;
//   - deleted here, changed on the server: the server's version is kept
//     (the deletion is not applied; the user can delete it again).
//
// Each one is reported in calendar.Report.Conflicts with the rule applied.
// It must never delete or overwrite an edit the user made on either side.
package caldavsync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/httpretry"
)

// Syncer is calendar.Syncer over CalDAV.
type Syncer struct {
	Store calendar.Store
	Clock clock.Clock
	IDs   clock.IDs
	// HTTP is the client for the servers (nil: one with DefaultTimeout).
	HTTP *http.Client
	// Retry repeats a request the server answered 429 or 503 (honouring
	// Retry-After); the zero policy never retries.
	Retry httpretry.Policy
}

var _ calendar.Syncer = (*Syncer)(nil)

// Check signs in and finds the account's calendars.
func (s *Syncer) Check(ctx context.Context, a calendar.Account, password string) error {
	ss, err := newSession(a, password, s.HTTP, s.Retry)
	if err != nil {
		return err
	}
	_, err = ss.discover(ctx)
	return err
}

// discover finds the calendars of the account: the principal's calendar
// home set, or, when the URL is a calendar itself, that calendar.
func (ss *session) discover(ctx context.Context) ([]caldav.Calendar, error) {
	var principal, home string
	err := ss.call(ctx, nil, "find the account's principal", func(ctx context.Context) (err error) {
		principal, err = ss.dav.FindCurrentUserPrincipal(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = ss.call(ctx, nil, "find the calendar home", func(ctx context.Context) (err error) {
		home, err = ss.cal.FindCalendarHomeSet(ctx, principal)
		return err
	})
	if err != nil {
		return nil, err
	}
	var cals []caldav.Calendar
	err = ss.call(ctx, nil, "list the calendars", func(ctx context.Context) (err error) {
		cals, err = ss.cal.FindCalendars(ctx, home)
		return err
	})
	var events []caldav.Calendar
	for _, c := range cals {
		if len(c.SupportedComponentSet) == 0 || contains(c.SupportedComponentSet, "VEVENT") {
			events = append(events, c)
		}
	}
	return events, err
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// Sync brings the account's calendars and the server up to date.
func (s *Syncer) Sync(ctx context.Context, a calendar.Account, password string) (calendar.Report, error) {
	var rep calendar.Report
	ss, err := newSession(a, password, s.HTTP, s.Retry)
	if err != nil {
		return rep, err
	}
	remote, err := ss.discover(ctx)
	if err != nil {
		return rep, err
	}
	local, err := s.Store.ListCalendars(ctx, a.UserID)
	if err != nil {
		return rep, err
	}
	byHref := map[string]calendar.Calendar{}
	for _, c := range local {
		if c.AccountID == a.ID {
			byHref[c.Href] = c
		}
	}
	var errs []error
	for _, rc := range remote {
		c, ok := byHref[rc.Path]
		delete(byHref, rc.Path)
		if !ok {
			c = calendar.Calendar{ID: s.IDs.NewID("cal"), UserID: a.UserID, AccountID: a.ID, Href: rc.Path,
				Name: rc.Name, Description: rc.Description, CreatedAt: s.Clock.Now()}
			if c.Name == "" {
				c.Name = path.Base(strings.TrimSuffix(rc.Path, "/"))
			}
			if err := s.Store.CreateCalendar(ctx, c); err != nil {
				return rep, err
			}
		} else if rc.Name != "" && rc.Name != c.Name {
			c.Name, c.Description = rc.Name, rc.Description
			if err := s.Store.UpdateCalendar(ctx, c); err != nil {
				return rep, err
			}
		}
		rep.Calendars++
		if err := s.syncCalendar(ctx, ss, &c, &rep); err != nil {
			if errors.Is(err, calendar.ErrAuth) || ctx.Err() != nil {
				return rep, err
			}
			errs = append(errs, fmt.Errorf("the calendar %q: %w", c.Name, err))
		}
	}
	// Calendars gone from the server go here too, unless they hold edits
	// not sent yet: those are kept and said.
	for _, c := range byHref {
		pending, err := s.pending(ctx, c)
		if err != nil {
			return rep, err
		}
		if len(pending) > 0 {
			errs = append(errs, fmt.Errorf("the calendar %q is gone from the server; os1 keeps it because it holds %d edits not sent", c.Name, len(pending)))
			continue
		}
		if err := s.Store.DeleteCalendar(ctx, a.UserID, c.ID); err != nil {
			return rep, err
		}
	}
	return rep, errors.Join(errs...)
}

func (s *Syncer) pending(ctx context.Context, c calendar.Calendar) ([]calendar.Event, error) {
	evs, err := s.Store.ListEvents(ctx, c.UserID, c.ID, calendar.Range{}, true)
	if err != nil {
		return nil, err
	}
	var out []calendar.Event
	for _, e := range evs {
		if e.LocalChange || e.Deleted {
			out = append(out, e)
		}
	}
	return out, nil
}

// syncCalendar pulls, pushes, and pulls again when it pushed (so the
// stored sync token or ctag includes os1's own writes).
func (s *Syncer) syncCalendar(ctx context.Context, ss *session, c *calendar.Calendar, rep *calendar.Report) error {
	if err := s.pull(ctx, ss, c, rep); err != nil {
		return err
	}
	pushed := rep.Pushed
	if err := s.push(ctx, ss, c, rep); err != nil {
		return err
	}
	if rep.Pushed > pushed || rep.Deleted > 0 {
		return s.pull(ctx, ss, c, rep)
	}
	return nil
}

// change is a member of the collection the server says is new or changed
// (etag) or gone.
type change struct {
	href, etag string
	gone       bool
}

// changes asks the server what changed since the calendar's last sync:
// sync-collection with the stored token, from scratch when the token is
// refused, and member ETags when the server offers neither.
func (s *Syncer) changes(ctx context.Context, ss *session, c *calendar.Calendar, rep *calendar.Report) ([]change, bool, error) {
	for _, token := range []string{c.SyncToken, ""} {
		var resp *carddav.SyncResponse
		err := ss.call(ctx, nil, "sync-collection", func(ctx context.Context) (err error) {
			resp, err = ss.card.SyncCollection(ctx, c.Href, &carddav.SyncQuery{SyncToken: token})
			return err
		})
		if errors.Is(err, calendar.ErrAuth) {
			return nil, false, err
		}
		if err == nil && resp.SyncToken != "" {
			rep.UsedTokens = true
			var out []change
			for _, o := range resp.Updated {
				out = append(out, change{href: o.Path, etag: o.ETag})
			}
			for _, p := range resp.Deleted {
				out = append(out, change{href: p, gone: true})
			}
			if token == "" {
				// A full listing: what os1 holds and the server does not
				// list is gone.
				out = append(out, s.missing(ctx, c, out)...)
			}
			c.SyncToken = resp.SyncToken
			return out, true, nil
		}
		if token == "" {
			break
		}
	}
	// No sync-collection: the collection's ETag (a ctag) says whether
	// anything changed, the members' ETags what. go-webdav v0.6 reads no
	// ETag of a collection (nor CalendarServer's getctag), so with it the
	// ctag is empty and every sync lists the members' ETags (one PROPFIND).
	c.SyncToken = ""
	var ctag string
	err := ss.call(ctx, nil, "read the calendar", func(ctx context.Context) error {
		fi, err := ss.dav.Stat(ctx, c.Href)
		if err == nil {
			ctag = fi.ETag
		}
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if ctag != "" && ctag == c.CTag {
		return nil, false, nil
	}
	var out []change
	err = ss.call(ctx, nil, "list the calendar's events", func(ctx context.Context) error {
		fis, err := ss.dav.ReadDir(ctx, c.Href, false)
		for _, fi := range fis {
			if fi.IsDir || strings.TrimSuffix(fi.Path, "/") == strings.TrimSuffix(c.Href, "/") {
				continue
			}
			out = append(out, change{href: fi.Path, etag: fi.ETag})
		}
		return err
	})
	if err != nil {
		return nil, false, err
	}
	out = append(out, s.missing(ctx, c, out)...)
	c.CTag = ctag
	return out, false, nil
}

// missing are the events os1 holds from the server that a full listing
// left out: deleted there.
func (s *Syncer) missing(ctx context.Context, c *calendar.Calendar, listed []change) []change {
	seen := map[string]bool{}
	for _, l := range listed {
		seen[l.href] = true
	}
	evs, err := s.Store.ListEvents(ctx, c.UserID, c.ID, calendar.Range{}, true)
	if err != nil {
		return nil
	}
	var out []change
	for _, e := range evs {
		if e.Href != "" && !seen[e.Href] {
			out = append(out, change{href: e.Href, gone: true})
		}
	}
	return out
}

// pull applies the server's changes here, by the conflict rule.
func (s *Syncer) pull(ctx context.Context, ss *session, c *calendar.Calendar, rep *calendar.Report) error {
	chs, _, err := s.changes(ctx, ss, c, rep)
	if err != nil {
		return err
	}
	locals, err := s.Store.ListEvents(ctx, c.UserID, c.ID, calendar.Range{}, true)
	if err != nil {
		return err
	}
	byHref := map[string]calendar.Event{}
	for _, e := range locals {
		if e.Href != "" {
			byHref[e.Href] = e
		}
	}
	var fetch []string
	for _, ch := range chs {
		l, ok := byHref[ch.href]
		if ch.gone {
			if ok {
				if err := s.goneThere(ctx, c, l, rep); err != nil {
					return err
				}
			}
			continue
		}
		if ok && l.ETag == ch.etag && ch.etag != "" {
			continue // os1 has this version (its own write, or unchanged)
		}
		fetch = append(fetch, ch.href)
	}
	objs, bad := s.fetch(ctx, ss, c, fetch)
	rep.Errors = append(rep.Errors, bad...)
	for _, o := range objs {
		if err := s.changedThere(ctx, c, o, byHref, rep); err != nil {
			return err
		}
	}
	return s.Store.UpdateCalendar(ctx, *c)
}

// fetch reads objects with one calendar-multiget, one by one when that
// fails (one unreadable object must not hold back the others).
func (s *Syncer) fetch(ctx context.Context, ss *session, c *calendar.Calendar, hrefs []string) ([]caldav.CalendarObject, []string) {
	if len(hrefs) == 0 {
		return nil, nil
	}
	var objs []caldav.CalendarObject
	req := caldav.CalendarCompRequest{Name: "VCALENDAR", AllProps: true, AllComps: true}
	err := ss.call(ctx, nil, "read the changed events", func(ctx context.Context) (err error) {
		objs, err = ss.cal.MultiGetCalendar(ctx, c.Href, &caldav.CalendarMultiGet{Paths: hrefs, CompRequest: req})
		return err
	})
	if err == nil && len(objs) == len(hrefs) {
		return objs, nil
	}
	objs = objs[:0]
	var bad []string
	for _, h := range hrefs {
		var o *caldav.CalendarObject
		err := ss.call(ctx, nil, "read "+h, func(ctx context.Context) (err error) {
			o, err = ss.cal.GetCalendarObject(ctx, h)
			return err
		})
		switch {
		case errors.Is(err, errGone):
		case err != nil:
			bad = append(bad, err.Error())
		default:
			objs = append(objs, *o)
		}
	}
	return objs, bad
}

// changedThere applies a new or changed server object.
func (s *Syncer) changedThere(ctx context.Context, c *calendar.Calendar, o caldav.CalendarObject, byHref map[string]calendar.Event, rep *calendar.Report) error {
	ev, err := calendar.FromICal(o.Data)
	if err != nil {
		rep.Errors = append(rep.Errors, fmt.Sprintf("%s: %v", o.Path, err))
		return nil
	}
	l, ok := byHref[o.Path]
	if !ok {
		if byUID, err := s.Store.EventByUID(ctx, c.UserID, c.ID, ev.UID); err == nil {
			l, ok = byUID, true
		}
	}
	now := s.Clock.Now()
	ev.UserID, ev.CalendarID, ev.Href, ev.ETag, ev.UpdatedAt = c.UserID, c.ID, o.Path, o.ETag, now
	if !ok {
		ev.ID, ev.CreatedAt = s.IDs.NewID("ev"), now
		rep.Pulled++
		return s.Store.PutEvent(ctx, ev)
	}
	ev.ID, ev.CreatedAt = l.ID, l.CreatedAt
	switch {
	case l.Deleted:
		rep.Conflicts = append(rep.Conflicts, calendar.Conflict{CalendarID: c.ID, UID: ev.UID, Summary: ev.Summary,
			Rule: "deleted in os1 but changed on the server: the server's version is kept"})
	case l.LocalChange:
		cp := l
		cp.ID, cp.UID, cp.Href, cp.ETag = s.IDs.NewID("ev"), s.IDs.NewID("os1")+"@os1", "", ""
		cp.Summary = strings.TrimSpace(l.Summary + " (your edit)")
		cp.LocalChange, cp.CreatedAt, cp.UpdatedAt = true, now, now
		for i := range cp.Overrides {
			cp.Overrides[i].UID = cp.UID
		}
		if err := s.Store.PutEvent(ctx, cp); err != nil {
			return err
		}
		rep.Conflicts = append(rep.Conflicts, calendar.Conflict{CalendarID: c.ID, UID: ev.UID, Summary: ev.Summary, CopyID: cp.ID,
			Rule: "changed in os1 and on the server: the server's version is kept, os1's edit is saved as a copy"})
	}
	rep.Pulled++
	return s.Store.PutEvent(ctx, ev)
}

// goneThere applies a deletion on the server.
func (s *Syncer) goneThere(ctx context.Context, c *calendar.Calendar, l calendar.Event, rep *calendar.Report) error {
	if l.LocalChange && !l.Deleted {
		l.Href, l.ETag = "", ""
		rep.Conflicts = append(rep.Conflicts, calendar.Conflict{CalendarID: c.ID, UID: l.UID, Summary: l.Summary,
			Rule: "changed in os1 but deleted on the server: os1's edit is put back on the server"})
		return s.Store.PutEvent(ctx, l)
	}
	rep.Deleted++
	return s.Store.DeleteEvent(ctx, c.UserID, l.ID)
}

// push sends os1's edits of the calendar.
func (s *Syncer) push(ctx context.Context, ss *session, c *calendar.Calendar, rep *calendar.Report) error {
	pending, err := s.pending(ctx, *c)
	if err != nil || len(pending) == 0 {
		return err
	}
	if c.ReadOnly {
		rep.Errors = append(rep.Errors, fmt.Sprintf("the calendar %q is read-only: %d edits stay in os1", c.Name, len(pending)))
		return nil
	}
	for _, e := range pending {
		if e.Deleted {
			if err := s.pushDelete(ctx, ss, c, e, rep); err != nil {
				return err
			}
			continue
		}
		if err := s.pushPut(ctx, ss, c, e, rep); err != nil {
			return err
		}
	}
	return nil
}

func (s *Syncer) pushDelete(ctx context.Context, ss *session, c *calendar.Calendar, e calendar.Event, rep *calendar.Report) error {
	if e.Href == "" {
		return s.Store.DeleteEvent(ctx, c.UserID, e.ID)
	}
	x := &exchange{ifMatch: e.ETag}
	if e.ETag == "" {
		x.ifMatch = "*"
	}
	err := ss.call(ctx, x, "delete "+e.Summary, func(ctx context.Context) error { return ss.dav.RemoveAll(ctx, e.Href) })
	switch {
	case errors.Is(err, errChanged):
		// Changed there since: the server's version comes back at the
		// next pull (its ETag differs from the tombstone's).
		e.Deleted, e.LocalChange, e.ETag = false, false, ""
		rep.Conflicts = append(rep.Conflicts, calendar.Conflict{CalendarID: c.ID, UID: e.UID, Summary: e.Summary,
			Rule: "deleted in os1 but changed on the server: the server's version is kept"})
		return s.Store.PutEvent(ctx, e)
	case errors.Is(err, errGone), err == nil:
		rep.Deleted++
		return s.Store.DeleteEvent(ctx, c.UserID, e.ID)
	}
	return err
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._@-]`)

func (s *Syncer) pushPut(ctx context.Context, ss *session, c *calendar.Calendar, e calendar.Event, rep *calendar.Report) error {
	x := &exchange{ifMatch: e.ETag}
	href := e.Href
	if href == "" {
		href = strings.TrimSuffix(c.Href, "/") + "/" + url.PathEscape(unsafeName.ReplaceAllString(e.UID, "_")) + ".ics"
		x = &exchange{ifNoneMatch: "*"}
	} else if e.ETag == "" {
		x.ifMatch = "*"
	}
	var obj *caldav.CalendarObject
	err := ss.call(ctx, x, "send "+e.Summary, func(ctx context.Context) (err error) {
		obj, err = ss.cal.PutCalendarObject(ctx, href, e.ICal(s.Clock.Now()))
		return err
	})
	switch {
	case errors.Is(err, errChanged) && e.Href == "":
		// The name is taken on the server: another name.
		e.UID = s.IDs.NewID("os1") + "@os1"
		return s.pushPut(ctx, ss, c, e, rep)
	case errors.Is(err, errChanged):
		// Changed there between the pull and now: apply the rule now.
		objs, bad := s.fetch(ctx, ss, c, []string{e.Href})
		rep.Errors = append(rep.Errors, bad...)
		for _, o := range objs {
			if err := s.changedThere(ctx, c, o, map[string]calendar.Event{e.Href: e}, rep); err != nil {
				return err
			}
		}
		return nil
	case errors.Is(err, errGone):
		// Deleted there between the pull and now: os1's edit goes back.
		if err := s.goneThere(ctx, c, e, rep); err != nil {
			return err
		}
		e.Href, e.ETag = "", ""
		return s.pushPut(ctx, ss, c, e, rep)
	case err != nil:
		return err
	}
	e.Href, e.LocalChange = href, false
	e.ETag = obj.ETag
	if e.ETag == "" {
		_ = ss.call(ctx, nil, "read back "+e.Summary, func(ctx context.Context) error {
			fi, err := ss.dav.Stat(ctx, href)
			if err == nil {
				e.ETag = fi.ETag
			}
			return err
		})
	}
	rep.Pushed++
	return s.Store.PutEvent(ctx, e)
}
