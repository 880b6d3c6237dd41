// Package caltest is the contract every calendar.Store backend passes:
// accounts, calendars and events kept per user, another user's ids
// answering calendar.ErrNotFound on every method; an event stored whole
// (zones, recurrence, overrides, people, unknown properties) and found by
// id, by UID and by range (recurring series always, floating times and
// dates by the day); one UID per calendar; tombstones listed only when
// asked; an account's calendars and a calendar's events going with it;
// subscriptions kept with their fetch state, one address once per user.
package caltest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
)

// Open returns a fresh, empty store, and newUser, which creates a user of
// that name in the store's database and returns the user's id.
type Open func(t *testing.T) (s calendar.Store, newUser func(name string) string)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

type env struct {
	ctx      context.Context
	s        calendar.Store
	ana, bob string
}

func setup(t *testing.T, open Open) env {
	t.Parallel()
	s, newUser := open(t)
	return env{ctx: t.Context(), s: s, ana: newUser("ana"), bob: newUser("bob")}
}

func mustNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, calendar.ErrNotFound) {
		t.Errorf("%s: %v, want ErrNotFound", what, err)
	}
}

func localCal(user, id string) calendar.Calendar {
	return calendar.Calendar{ID: id, UserID: user, Name: "Personal", CreatedAt: t0}
}

func event(user, cal, id, uid string, start time.Time) calendar.Event {
	return calendar.Event{ID: id, UserID: user, CalendarID: cal, UID: uid, Summary: "Lunch " + id,
		Start: calendar.At(start), End: calendar.At(start.Add(time.Hour)), UpdatedAt: t0}
}

// Run runs the contract against open.
func Run(t *testing.T, open Open) {
	t.Run("Calendars", func(t *testing.T) { testCalendars(t, open) })
	t.Run("EventsRoundTrip", func(t *testing.T) { testRoundTrip(t, open) })
	t.Run("EventsIsolation", func(t *testing.T) { testIsolation(t, open) })
	t.Run("EventsRange", func(t *testing.T) { testRange(t, open) })
	t.Run("UIDUnique", func(t *testing.T) { testUID(t, open) })
	t.Run("AccountsCascade", func(t *testing.T) { testAccounts(t, open) })
	t.Run("Subscriptions", func(t *testing.T) { testSubscriptions(t, open) })
}

// testSubscriptions: a subscription's address, validators, last fetch and
// unreadable events are kept; AllSubscriptions lists every user's and only
// subscriptions; one address once per user.
func testSubscriptions(t *testing.T, open Open) {
	e := setup(t, open)
	sub := calendar.Calendar{ID: "cal_sub", UserID: e.ana, Name: "Holidays", ReadOnly: true, URL: "https://example.com/h.ics", CreatedAt: t0}
	if err := e.s.CreateCalendar(e.ctx, sub); err != nil {
		t.Fatal(err)
	}
	if err := e.s.CreateCalendar(e.ctx, localCal(e.ana, "cal_local")); err != nil {
		t.Fatal(err)
	}
	bobs := sub
	bobs.ID, bobs.UserID = "cal_bob", e.bob
	if err := e.s.CreateCalendar(e.ctx, bobs); err != nil {
		t.Fatalf("bob subscribes to the same address: %v", err)
	}
	again := sub
	again.ID = "cal_sub2"
	if err := e.s.CreateCalendar(e.ctx, again); !errors.Is(err, calendar.ErrConflict) {
		t.Errorf("ana subscribes twice to one address: %v", err)
	}
	sub.FeedETag, sub.FeedModified, sub.FetchedAt = `"v1"`, "Sat, 05 Dec 2026 10:00:00 GMT", t0.Add(time.Hour)
	sub.FetchError, sub.FeedErrors = "down", []string{"event 2: no start"}
	if err := e.s.UpdateCalendar(e.ctx, sub); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.Calendar(e.ctx, e.ana, "cal_sub")
	if err != nil || got.URL != sub.URL || got.FeedETag != `"v1"` || got.FeedModified != sub.FeedModified || !got.FetchedAt.Equal(sub.FetchedAt) ||
		got.FetchError != "down" || len(got.FeedErrors) != 1 || got.FeedErrors[0] != "event 2: no start" || !got.Subscription() || got.Local() {
		t.Fatalf("subscription %+v, %v", got, err)
	}
	all, err := e.s.AllSubscriptions(e.ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("every subscription: %+v %v", all, err)
	}
	for _, c := range all {
		if c.URL == "" {
			t.Errorf("AllSubscriptions lists %q, which is no subscription", c.Name)
		}
	}
}

func testCalendars(t *testing.T, open Open) {
	e := setup(t, open)
	c := localCal(e.ana, "cal_1")
	if err := e.s.CreateCalendar(e.ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := e.s.CreateCalendar(e.ctx, c); !errors.Is(err, calendar.ErrConflict) {
		t.Errorf("a second calendar with the same id: %v", err)
	}
	c.Name, c.SyncToken, c.CTag, c.ReadOnly = "Home", "tok", "ctag", true
	if err := e.s.UpdateCalendar(e.ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.Calendar(e.ctx, e.ana, "cal_1")
	if err != nil || got.Name != "Home" || got.SyncToken != "tok" || got.CTag != "ctag" || !got.ReadOnly || !got.Local() {
		t.Fatalf("calendar %+v, %v", got, err)
	}
	_, err = e.s.Calendar(e.ctx, e.bob, "cal_1")
	mustNotFound(t, "bob reads ana's calendar", err)
	bobs := c
	bobs.UserID = e.bob
	mustNotFound(t, "bob updates ana's calendar", e.s.UpdateCalendar(e.ctx, bobs))
	mustNotFound(t, "bob deletes ana's calendar", e.s.DeleteCalendar(e.ctx, e.bob, "cal_1"))
	if l, err := e.s.ListCalendars(e.ctx, e.bob); err != nil || len(l) != 0 {
		t.Errorf("bob's calendars: %v %v", l, err)
	}
	if err := e.s.PutEvent(e.ctx, event(e.ana, "cal_1", "ev_1", "u1", t0)); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteCalendar(e.ctx, e.ana, "cal_1"); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Event(e.ctx, e.ana, "ev_1")
	mustNotFound(t, "an event of a deleted calendar", err)
}

func testRoundTrip(t *testing.T, open Open) {
	e := setup(t, open)
	if err := e.s.CreateCalendar(e.ctx, localCal(e.ana, "cal_1")); err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2026, 3, 23, 9, 0, 0, 0, berlin)
	ev := calendar.Event{ID: "ev_1", UserID: e.ana, CalendarID: "cal_1", UID: "weekly@x", Summary: "Standup",
		Description: "Daily sync\nwith notes", Location: "Room 4",
		Start: calendar.At(start), End: calendar.At(start.Add(30 * time.Minute)), RRule: "FREQ=WEEKLY;BYDAY=MO",
		ExDates:   []calendar.When{calendar.At(start.AddDate(0, 0, 7))},
		Overrides: []calendar.Event{{UID: "weekly@x", Summary: "Standup (moved)", RecurrenceID: calendar.At(start.AddDate(0, 0, 14)), Start: calendar.At(start.AddDate(0, 0, 15)), End: calendar.At(start.AddDate(0, 0, 15).Add(time.Hour))}},
		Organizer: calendar.Person{Name: "Ana", Email: "ana@example.com"},
		Attendees: []calendar.Person{{Name: "Bob", Email: "bob@example.com", Status: "ACCEPTED"}},
		Extra:     []calendar.Prop{{Name: "X-FOO", Params: map[string][]string{"A": {"b"}}, Value: "bar"}},
		Href:      "/cal/weekly.ics", ETag: `"e1"`, LocalChange: true, UpdatedAt: t0}
	if err := e.s.PutEvent(e.ctx, ev); err != nil {
		t.Fatal(err)
	}
	for name, get := range map[string]func() (calendar.Event, error){
		"by id":  func() (calendar.Event, error) { return e.s.Event(e.ctx, e.ana, "ev_1") },
		"by uid": func() (calendar.Event, error) { return e.s.EventByUID(e.ctx, e.ana, "cal_1", "weekly@x") },
	} {
		got, err := get()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Summary != ev.Summary || got.Description != ev.Description || !got.Start.Equal(ev.Start) || !got.End.Equal(ev.End) ||
			got.RRule != ev.RRule || len(got.ExDates) != 1 || !got.ExDates[0].Equal(ev.ExDates[0]) || len(got.Overrides) != 1 ||
			!got.Overrides[0].RecurrenceID.Equal(ev.Overrides[0].RecurrenceID) || got.Organizer != ev.Organizer ||
			len(got.Attendees) != 1 || got.Attendees[0] != ev.Attendees[0] || len(got.Extra) != 1 || got.Extra[0].Params["A"][0] != "b" ||
			got.Href != ev.Href || got.ETag != ev.ETag || !got.LocalChange {
			t.Errorf("%s: stored\n%+v\nread back\n%+v", name, ev, got)
		}
		if got.Start.Zone != "Europe/Berlin" || got.Start.In(nil).Hour() != 9 {
			t.Errorf("%s: the start's zone is lost: %+v", name, got.Start)
		}
	}
	ev.Summary, ev.LocalChange = "Standup v2", false
	if err := e.s.PutEvent(e.ctx, ev); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.s.Event(e.ctx, e.ana, "ev_1"); got.Summary != "Standup v2" || got.LocalChange {
		t.Errorf("update: %+v", got)
	}
	bad := ev
	bad.ID, bad.UID, bad.Start = "ev_2", "x", calendar.When{}
	if err := e.s.PutEvent(e.ctx, bad); err == nil {
		t.Error("an event without a start was stored")
	}
	if err := e.s.DeleteEvent(e.ctx, e.ana, "ev_1"); err != nil {
		t.Fatal(err)
	}
	mustNotFound(t, "delete twice", e.s.DeleteEvent(e.ctx, e.ana, "ev_1"))
}

func testIsolation(t *testing.T, open Open) {
	e := setup(t, open)
	if err := e.s.CreateCalendar(e.ctx, localCal(e.ana, "cal_a")); err != nil {
		t.Fatal(err)
	}
	if err := e.s.CreateCalendar(e.ctx, localCal(e.bob, "cal_b")); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutEvent(e.ctx, event(e.ana, "cal_a", "ev_a", "u", t0)); err != nil {
		t.Fatal(err)
	}
	_, err := e.s.Event(e.ctx, e.bob, "ev_a")
	mustNotFound(t, "bob reads ana's event", err)
	_, err = e.s.EventByUID(e.ctx, e.bob, "cal_a", "u")
	mustNotFound(t, "bob reads ana's event by uid", err)
	mustNotFound(t, "bob deletes ana's event", e.s.DeleteEvent(e.ctx, e.bob, "ev_a"))
	// Bob writes into ana's calendar, and over ana's event id.
	mustNotFound(t, "bob puts into ana's calendar", e.s.PutEvent(e.ctx, event(e.bob, "cal_a", "ev_b", "v", t0)))
	over := event(e.bob, "cal_b", "ev_a", "w", t0)
	if err := e.s.PutEvent(e.ctx, over); err == nil {
		t.Error("bob overwrote ana's event id")
	}
	if got, err := e.s.Event(e.ctx, e.ana, "ev_a"); err != nil || got.UID != "u" || got.CalendarID != "cal_a" {
		t.Errorf("ana's event after bob's tries: %+v %v", got, err)
	}
	if l, err := e.s.ListEvents(e.ctx, e.bob, "", calendar.Range{}, true); err != nil || len(l) != 0 {
		t.Errorf("bob lists %v %v", l, err)
	}
	if l, err := e.s.ListEvents(e.ctx, e.bob, "cal_a", calendar.Range{}, true); err != nil || len(l) != 0 {
		t.Errorf("bob lists ana's calendar: %v %v", l, err)
	}
}

func testRange(t *testing.T, open Open) {
	e := setup(t, open)
	if err := e.s.CreateCalendar(e.ctx, localCal(e.ana, "cal_1")); err != nil {
		t.Fatal(err)
	}
	if err := e.s.CreateCalendar(e.ctx, localCal(e.ana, "cal_2")); err != nil {
		t.Fatal(err)
	}
	put := func(ev calendar.Event) {
		t.Helper()
		if err := e.s.PutEvent(e.ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	put(event(e.ana, "cal_1", "in", "in", t0.Add(2*time.Hour)))
	put(event(e.ana, "cal_1", "before", "before", t0.Add(-48*time.Hour)))
	put(event(e.ana, "cal_1", "after", "after", t0.Add(72*time.Hour)))
	put(event(e.ana, "cal_2", "other", "other", t0.Add(3*time.Hour)))
	// Began before the range, still running in it.
	span := event(e.ana, "cal_1", "span", "span", t0.Add(-5*time.Hour))
	span.End = calendar.At(t0.Add(time.Hour))
	put(span)
	rec := event(e.ana, "cal_1", "rec", "rec", t0.AddDate(-1, 0, 0))
	rec.RRule = "FREQ=DAILY"
	put(rec)
	day := event(e.ana, "cal_1", "day", "day", t0)
	day.Start, day.End = calendar.Day(2026, 3, 1), calendar.Day(2026, 3, 2)
	put(day)
	fl := event(e.ana, "cal_1", "float", "float", t0)
	fl.Start, fl.End = calendar.FloatingAt(t0.Add(14*time.Hour)), calendar.FloatingAt(t0.Add(15*time.Hour))
	put(fl)
	gone := event(e.ana, "cal_1", "gone", "gone", t0.Add(time.Hour))
	gone.Deleted = true
	put(gone)

	r := calendar.Range{From: t0, To: t0.Add(24 * time.Hour)}
	ids := func(withDeleted bool, cal string) map[string]bool {
		l, err := e.s.ListEvents(e.ctx, e.ana, cal, r, withDeleted)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, ev := range l {
			m[ev.ID] = true
		}
		return m
	}
	got := ids(false, "cal_1")
	for _, want := range []string{"in", "span", "rec", "day", "float"} {
		if !got[want] {
			t.Errorf("range: %q missing (got %v)", want, got)
		}
	}
	for _, not := range []string{"before", "after", "other", "gone"} {
		if got[not] {
			t.Errorf("range: %q listed", not)
		}
	}
	if !ids(true, "cal_1")["gone"] {
		t.Error("a tombstone is not listed with withDeleted")
	}
	if all := ids(false, ""); !all["other"] || !all["in"] {
		t.Errorf("every calendar: %v", all)
	}
}

func testUID(t *testing.T, open Open) {
	e := setup(t, open)
	for _, c := range []string{"cal_1", "cal_2"} {
		if err := e.s.CreateCalendar(e.ctx, localCal(e.ana, c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.s.PutEvent(e.ctx, event(e.ana, "cal_1", "ev_1", "same", t0)); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutEvent(e.ctx, event(e.ana, "cal_1", "ev_2", "same", t0)); !errors.Is(err, calendar.ErrConflict) {
		t.Errorf("a second event with the UID in one calendar: %v", err)
	}
	if err := e.s.PutEvent(e.ctx, event(e.ana, "cal_2", "ev_3", "same", t0)); err != nil {
		t.Errorf("the UID in another calendar: %v", err)
	}
	mustNotFound(t, "a calendar that does not exist", e.s.PutEvent(e.ctx, event(e.ana, "cal_x", "ev_4", "x", t0)))
}

func testAccounts(t *testing.T, open Open) {
	e := setup(t, open)
	a := calendar.Account{ID: "acc_1", UserID: e.ana, Name: "Work", URL: "https://dav.example.com/", Username: "ana", Secret: "sealed", CreatedAt: t0}
	if err := e.s.CreateAccount(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	a.LastError, a.LastSyncAt = "wrong password", t0.Add(time.Hour)
	if err := e.s.UpdateAccount(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.Account(e.ctx, e.ana, "acc_1")
	if err != nil || got.LastError != "wrong password" || !got.LastSyncAt.Equal(a.LastSyncAt) || got.Secret != "sealed" {
		t.Fatalf("account %+v %v", got, err)
	}
	_, err = e.s.Account(e.ctx, e.bob, "acc_1")
	mustNotFound(t, "bob reads ana's account", err)
	mustNotFound(t, "bob deletes ana's account", e.s.DeleteAccount(e.ctx, e.bob, "acc_1"))
	if l, _ := e.s.ListAccounts(e.ctx, e.bob); len(l) != 0 {
		t.Errorf("bob's accounts: %v", l)
	}
	if err := e.s.CreateAccount(e.ctx, calendar.Account{ID: "acc_b", UserID: e.bob, Name: "B", URL: "https://b/", Username: "bob"}); err != nil {
		t.Fatal(err)
	}
	if all, err := e.s.AllAccounts(e.ctx); err != nil || len(all) != 2 {
		t.Errorf("every account: %+v %v", all, err)
	}
	// Bob cannot hang a calendar on ana's account.
	bc := localCal(e.bob, "cal_b")
	bc.AccountID = "acc_1"
	mustNotFound(t, "bob's calendar on ana's account", e.s.CreateCalendar(e.ctx, bc))
	c := localCal(e.ana, "cal_1")
	c.AccountID, c.Href = "acc_1", "/dav/ana/work/"
	if err := e.s.CreateCalendar(e.ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutEvent(e.ctx, event(e.ana, "cal_1", "ev_1", "u", t0)); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteAccount(e.ctx, e.ana, "acc_1"); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Calendar(e.ctx, e.ana, "cal_1")
	mustNotFound(t, "a calendar of a deleted account", err)
	_, err = e.s.Event(e.ctx, e.ana, "ev_1")
	mustNotFound(t, "an event of a deleted account", err)
}
