package caldavsync_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/calendar/caldavsync"
	"github.com/os1ai/os1/internal/calendar/radicaletest"
	"github.com/os1ai/os1/internal/calendar/sqlitecal"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/httpretry"
	"github.com/os1ai/os1/internal/secret"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// rig is os1 (a store, the service, one user) and a radicale with the
// user's calendar "work".
type rig struct {
	t    *testing.T
	srv  *radicaletest.Server
	svc  *calendar.Service
	user string
	acct calendar.Account
	cal  calendar.Calendar
	dav  *caldav.Client // the server as another client sees it
}

func newRig(t *testing.T) *rig {
	t.Helper()
	srv := radicaletest.Start(t)
	srv.AddUser("ana", "s3cret")
	srv.MakeCalendar("ana", "work", "Work")
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateUser(t.Context(), store.User{ID: "usr_ana", Username: "ana", DisplayName: "Ana", Role: store.RoleMember, PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	box, err := secret.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	st := sqlitecal.New(db)
	c := clock.NewFake(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	ids := clock.RandomIDs{}
	svc := &calendar.Service{Store: st, Sealer: box, Clock: c, IDs: ids,
		Syncer: &caldavsync.Syncer{Store: st, Clock: c, IDs: ids, HTTP: &http.Client{Timeout: 20 * time.Second}}}
	r := &rig{t: t, srv: srv, svc: svc, user: "usr_ana"}
	r.acct, err = svc.AddAccount(t.Context(), r.user, calendar.AccountInput{Name: "Radicale", URL: srv.URL, Username: "ana", Password: "s3cret"})
	if err != nil {
		t.Fatalf("add the account: %v\n%s", err, srv.Log())
	}
	if strings.Contains(r.acct.Secret, "s3cret") {
		t.Fatal("the password is stored in the clear")
	}
	rep := r.sync()
	if rep.Calendars != 1 {
		t.Fatalf("calendars: %+v", rep)
	}
	cals, _ := st.ListCalendars(t.Context(), r.user)
	for _, c := range cals {
		if c.AccountID == r.acct.ID {
			r.cal = c
		}
	}
	if r.cal.Name != "Work" || r.cal.Href != "/ana/work/" {
		t.Fatalf("the synced calendar: %+v", r.cal)
	}
	r.dav, err = caldav.NewClient(webdav.HTTPClientWithBasicAuth(http.DefaultClient, "ana", "s3cret"), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) sync() calendar.Report {
	r.t.Helper()
	rep, err := r.svc.Sync(r.t.Context(), r.user, r.acct.ID)
	if err != nil {
		r.t.Fatalf("sync: %v\n%s", err, r.srv.Log())
	}
	return rep
}

// serverObjects are the calendar's objects on the server, by UID.
func (r *rig) serverObjects() map[string]caldav.CalendarObject {
	r.t.Helper()
	objs, err := r.dav.QueryCalendar(r.t.Context(), "/ana/work/", &caldav.CalendarQuery{
		CompRequest: caldav.CalendarCompRequest{Name: "VCALENDAR", AllProps: true, AllComps: true},
		CompFilter:  caldav.CompFilter{Name: "VCALENDAR", Comps: []caldav.CompFilter{{Name: "VEVENT"}}}})
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]caldav.CalendarObject{}
	for _, o := range objs {
		e, err := calendar.FromICal(o.Data)
		if err != nil {
			r.t.Fatal(err)
		}
		out[e.UID] = o
	}
	return out
}

// putOnServer writes an object as another client would.
func (r *rig) putOnServer(href, ics string) {
	r.t.Helper()
	cal, err := ical.NewDecoder(strings.NewReader(strings.ReplaceAll(ics, "\n", "\r\n"))).Decode()
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.dav.PutCalendarObject(r.t.Context(), href, cal); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) editOnServer(href, from, to string) {
	r.t.Helper()
	o, err := r.dav.GetCalendarObject(r.t.Context(), href)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, ev := range o.Data.Children {
		if p := ev.Props.Get(ical.PropSummary); p != nil && p.Value == from {
			p.Value = to
		}
	}
	if _, err := r.dav.PutCalendarObject(r.t.Context(), href, o.Data); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) local(uid string) (calendar.Event, error) {
	return r.svc.Store.EventByUID(r.t.Context(), r.user, r.cal.ID, uid)
}

// Created in os1, it appears on the server; edited on the server, the
// edit comes back; deleted on either side, it goes on the other.
func TestSyncBothWays(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ev, err := r.svc.Create(ctx, r.user, calendar.EventInput{CalendarID: r.cal.ID, Summary: "Dentist",
		Start: calendar.At(time.Date(2026, 3, 30, 9, 0, 0, 0, berlin))})
	if err != nil {
		t.Fatal(err)
	}
	if !ev.LocalChange {
		t.Fatal("a new event on a synced calendar is not marked for the sync")
	}
	if rep := r.sync(); rep.Pushed != 1 || !rep.UsedTokens {
		t.Errorf("push: %+v", rep)
	}
	objs := r.serverObjects()
	o, ok := objs[ev.UID]
	if !ok {
		t.Fatalf("the event is not on the server: %v", objs)
	}
	onServer, _ := calendar.FromICal(o.Data)
	if onServer.Summary != "Dentist" || onServer.Start.Zone != "Europe/Berlin" || onServer.Start.In(nil).Hour() != 9 {
		t.Errorf("on the server: %+v", onServer)
	}
	got, _ := r.local(ev.UID)
	if got.LocalChange || got.Href != o.Path || got.ETag == "" {
		t.Errorf("after the push: %+v", got)
	}
	// Nothing changed: nothing moves.
	if rep := r.sync(); rep.Pulled+rep.Pushed+rep.Deleted != 0 {
		t.Errorf("an idle sync did %+v", rep)
	}

	r.editOnServer(o.Path, "Dentist", "Dentist (moved room)")
	if rep := r.sync(); rep.Pulled != 1 {
		t.Errorf("pull: %+v", rep)
	}
	if got, _ := r.local(ev.UID); got.Summary != "Dentist (moved room)" || got.ID != ev.ID {
		t.Errorf("after the server's edit: %+v", got)
	}

	// Created on the server, deleted there.
	r.putOnServer("/ana/work/lunch.ics", `BEGIN:VCALENDAR
VERSION:2.0
PRODID:test
BEGIN:VEVENT
UID:lunch@test
DTSTAMP:20260301T000000Z
SUMMARY:Lunch
DTSTART;TZID=America/New_York:20260303T120000
DTEND;TZID=America/New_York:20260303T130000
END:VEVENT
END:VCALENDAR
`)
	r.sync()
	if got, err := r.local("lunch@test"); err != nil || got.Start.Zone != "America/New_York" {
		t.Fatalf("the server's new event: %+v %v", got, err)
	}
	if resp := r.srv.Do(http.MethodDelete, "ana", "/ana/work/lunch.ics", "", ""); resp.StatusCode/100 != 2 {
		t.Fatalf("delete on the server: %s", resp.Status)
	}
	r.sync()
	if _, err := r.local("lunch@test"); !errors.Is(err, calendar.ErrNotFound) {
		t.Errorf("deleted on the server, still here: %v", err)
	}

	// Cancelled in os1: a tombstone until the sync, then gone there.
	if _, err := r.svc.Cancel(ctx, r.user, ev.ID, calendar.When{}); err != nil {
		t.Fatal(err)
	}
	if occ, _ := r.svc.Agenda(ctx, r.user, calendar.Range{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC)}, berlin); len(occ) != 0 {
		t.Errorf("a cancelled event is in the agenda: %v", occ)
	}
	r.sync()
	if _, ok := r.serverObjects()[ev.UID]; ok {
		t.Error("cancelled in os1, still on the server")
	}
	if _, err := r.local(ev.UID); !errors.Is(err, calendar.ErrNotFound) {
		t.Errorf("the tombstone stays after the sync: %v", err)
	}
}

// Both sides edited: the server's version stays the event and os1's edit
// is kept as a copy, on both sides. Edited here but deleted there: the
// edit goes back. Deleted here but edited there: the server's version
// stays.
func TestSyncConflicts(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	start := calendar.At(time.Date(2026, 3, 5, 15, 0, 0, 0, time.UTC))
	var evs []calendar.Event
	for _, name := range []string{"Review", "Party", "Call"} {
		ev, err := r.svc.Create(ctx, r.user, calendar.EventInput{CalendarID: r.cal.ID, Summary: name, Start: start})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	r.sync()
	hrefOf := func(ev calendar.Event) string {
		got, err := r.local(ev.UID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Href
	}
	review, party, call := hrefOf(evs[0]), hrefOf(evs[1]), hrefOf(evs[2])

	// 1. Both edit Review.
	r.editOnServer(review, "Review", "Review (server)")
	if _, err := r.svc.Move(ctx, r.user, evs[0].ID, calendar.When{}, calendar.At(start.Time.Add(2*time.Hour)), calendar.When{}); err != nil {
		t.Fatal(err)
	}
	// 2. Party: edited here, deleted there.
	if _, err := r.svc.Move(ctx, r.user, evs[1].ID, calendar.When{}, calendar.At(start.Time.Add(24*time.Hour)), calendar.When{}); err != nil {
		t.Fatal(err)
	}
	r.srv.Do(http.MethodDelete, "ana", party, "", "")
	// 3. Call: deleted here, edited there.
	if _, err := r.svc.Cancel(ctx, r.user, evs[2].ID, calendar.When{}); err != nil {
		t.Fatal(err)
	}
	r.editOnServer(call, "Call", "Call (server)")

	rep := r.sync()
	if len(rep.Conflicts) != 3 {
		t.Fatalf("conflicts: %+v", rep.Conflicts)
	}
	for _, c := range rep.Conflicts {
		if c.Rule == "" {
			t.Errorf("a conflict without its rule: %+v", c)
		}
	}
	// 1: the event is the server's, the copy holds os1's move, and both
	// are on the server.
	got, _ := r.local(evs[0].UID)
	if got.Summary != "Review (server)" || !got.Start.Time.Equal(start.Time) || got.LocalChange {
		t.Errorf("the conflicted event: %+v", got)
	}
	var copyID string
	for _, c := range rep.Conflicts {
		if c.UID == evs[0].UID {
			copyID = c.CopyID
		}
	}
	cp, err := r.svc.Store.Event(ctx, r.user, copyID)
	if err != nil || cp.Summary != "Review (your edit)" || !cp.Start.Time.Equal(start.Time.Add(2*time.Hour)) || cp.LocalChange {
		t.Fatalf("the copy of os1's edit: %+v %v", cp, err)
	}
	objs := r.serverObjects()
	if _, ok := objs[cp.UID]; !ok {
		t.Error("the copy is not on the server")
	}
	if o, ok := objs[evs[0].UID]; !ok || !strings.Contains(icsText(t, o), "Review (server)") {
		t.Error("the server's version is not on the server")
	}
	// 2: os1's edit is back on the server.
	if _, ok := objs[evs[1].UID]; !ok {
		t.Error("the edit deleted on the server was not put back")
	}
	if got, _ := r.local(evs[1].UID); !got.Start.Time.Equal(start.Time.Add(24*time.Hour)) || got.LocalChange {
		t.Errorf("the put-back event: %+v", got)
	}
	// 3: the server's edit stays, here and there.
	if got, err := r.local(evs[2].UID); err != nil || got.Deleted || got.Summary != "Call (server)" {
		t.Errorf("deleted here, edited there: %+v %v", got, err)
	}
	if _, ok := objs[evs[2].UID]; !ok {
		t.Error("deleted here, edited there: gone from the server")
	}
	// Settled: the next sync has nothing to do.
	if rep := r.sync(); len(rep.Conflicts) != 0 || rep.Pushed != 0 {
		t.Errorf("after the conflicts: %+v", rep)
	}
}

func icsText(t *testing.T, o caldav.CalendarObject) string {
	var b strings.Builder
	if err := ical.NewEncoder(&b).Encode(o.Data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A recurring event with an overridden occurrence, made on the server,
// expands here with the override; an occurrence moved in os1 goes back as
// an override.
func TestSyncRecurringWithOverride(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	r.putOnServer("/ana/work/standup.ics", `BEGIN:VCALENDAR
VERSION:2.0
PRODID:test
BEGIN:VEVENT
UID:standup@test
DTSTAMP:20260301T000000Z
SUMMARY:Standup
DTSTART;TZID=Europe/Berlin:20260323T090000
DTEND;TZID=Europe/Berlin:20260323T091500
RRULE:FREQ=WEEKLY;COUNT=3
END:VEVENT
BEGIN:VEVENT
UID:standup@test
DTSTAMP:20260301T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:20260330T090000
SUMMARY:Standup (late)
DTSTART;TZID=Europe/Berlin:20260330T110000
DTEND;TZID=Europe/Berlin:20260330T111500
END:VEVENT
END:VCALENDAR
`)
	r.sync()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	month := calendar.Range{From: time.Date(2026, 3, 1, 0, 0, 0, 0, berlin), To: time.Date(2026, 5, 1, 0, 0, 0, 0, berlin)}
	times := func() string {
		occ, err := r.svc.Agenda(ctx, r.user, month, berlin)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, o := range occ {
			s = append(s, o.Start.In(berlin).Format("01-02 15:04"))
		}
		return strings.Join(s, ",")
	}
	// 29 March is the DST change: the occurrences stay at 09:00 local.
	if got := times(); got != "03-23 09:00,03-30 11:00,04-06 09:00" {
		t.Fatalf("occurrences: %s", got)
	}
	ev, _ := r.local("standup@test")
	if _, err := r.svc.Move(ctx, r.user, ev.ID, calendar.At(time.Date(2026, 4, 6, 9, 0, 0, 0, berlin)),
		calendar.At(time.Date(2026, 4, 6, 10, 0, 0, 0, berlin)), calendar.When{}); err != nil {
		t.Fatal(err)
	}
	r.sync()
	o := r.serverObjects()["standup@test"]
	back, err := calendar.FromICal(o.Data)
	if err != nil || len(back.Overrides) != 2 {
		t.Fatalf("on the server: %+v %v", back, err)
	}
	occ, _ := calendar.Expand(back, month, berlin)
	if len(occ) != 3 || occ[2].Start.In(berlin).Hour() != 10 {
		t.Errorf("the server's copy expands to %v", occ)
	}
}

// A wrong password is refused when the account is added, and later syncs
// say which account needs it.
func TestWrongPassword(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	_, err := r.svc.AddAccount(ctx, r.user, calendar.AccountInput{Name: "Typo", URL: r.srv.URL, Username: "ana", Password: "wrong"})
	if !errors.Is(err, calendar.ErrAuth) || !strings.Contains(err.Error(), `"Typo"`) {
		t.Errorf("add with a wrong password: %v", err)
	}
	r.srv.AddUser("ana", "changed")
	_, err = r.svc.Sync(ctx, r.user, r.acct.ID)
	if !errors.Is(err, calendar.ErrAuth) || !strings.Contains(err.Error(), `"Radicale"`) || !strings.Contains(err.Error(), `"ana"`) {
		t.Errorf("sync after a password change: %v", err)
	}
	a, _ := r.svc.Store.Account(ctx, r.user, r.acct.ID)
	if !strings.Contains(a.LastError, "refused") {
		t.Errorf("the account's last error: %q", a.LastError)
	}
}

// A server without sync-collection (RFC 6578) is synced by the
// collection's ETag and its members' ETags: a proxy in front of radicale
// refuses the REPORT, as such servers do.
func TestSyncWithoutSyncTokens(t *testing.T) {
	srv := radicaletest.Start(t)
	srv.AddUser("ana", "pw")
	srv.MakeCalendar("ana", "home", "Home")
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var refused atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == "REPORT" {
			body, _ := io.ReadAll(req.Body)
			if bytes.Contains(body, []byte("sync-collection")) {
				refused.Add(1)
				http.Error(w, "not supported", http.StatusNotImplemented)
				return
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(front.Close)

	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateUser(t.Context(), store.User{ID: "u", Username: "ana", DisplayName: "Ana", Role: store.RoleMember, PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	box, _ := secret.NewBox(make([]byte, 32))
	st := sqlitecal.New(db)
	c := clock.NewFake(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	svc := &calendar.Service{Store: st, Sealer: box, Clock: c, IDs: clock.RandomIDs{},
		Syncer: &caldavsync.Syncer{Store: st, Clock: c, IDs: clock.RandomIDs{}}}
	acct, err := svc.AddAccount(t.Context(), "u", calendar.AccountInput{URL: front.URL, Username: "ana", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	sync := func() calendar.Report {
		rep, err := svc.Sync(t.Context(), "u", acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.UsedTokens {
			t.Fatal("sync tokens used through a proxy that refuses them")
		}
		return rep
	}
	sync()
	srv.Do(http.MethodPut, "ana", "/ana/home/a.ics", "text/calendar", strings.ReplaceAll(`BEGIN:VCALENDAR
VERSION:2.0
PRODID:test
BEGIN:VEVENT
UID:a@test
DTSTAMP:20260301T000000Z
SUMMARY:Swim
DTSTART;VALUE=DATE:20260310
END:VEVENT
END:VCALENDAR
`, "\n", "\r\n"))
	if rep := sync(); rep.Pulled != 1 {
		t.Fatalf("pull by ETags: %+v", rep)
	}
	if rep := sync(); rep.Pulled+rep.Pushed+rep.Deleted != 0 {
		t.Errorf("an idle sync by ctag did %+v", rep)
	}
	cals, _ := st.ListCalendars(t.Context(), "u")
	if len(cals) != 1 {
		t.Fatalf("calendars: %+v", cals)
	}
	ev, err := svc.Create(t.Context(), "u", calendar.EventInput{CalendarID: cals[0].ID, Summary: "Run", Start: calendar.Day(2026, 3, 11)})
	if err != nil {
		t.Fatal(err)
	}
	if rep := sync(); rep.Pushed != 1 {
		t.Errorf("push: %+v", rep)
	}
	srv.Do(http.MethodDelete, "ana", "/ana/home/a.ics", "", "")
	if rep := sync(); rep.Deleted != 1 {
		t.Errorf("a deletion on the server by ETags: %+v", rep)
	}
	if _, err := st.Event(t.Context(), "u", ev.ID); err != nil {
		t.Errorf("os1's own event went with the other: %v", err)
	}
	if refused.Load() == 0 {
		t.Error("the proxy never saw a sync-collection")
	}
}

// A server that answers 503 with Retry-After is asked again after the
// wait it named (with the Syncer's policy); a 500 is not repeated.
func TestRetryAfter(t *testing.T) {
	srv := radicaletest.Start(t)
	srv.AddUser("ana", "pw")
	srv.MakeCalendar("ana", "home", "Home")
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var busy atomic.Int32
	busy.Store(2)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if busy.Add(-1) >= 0 {
			w.Header().Set("Retry-After", "3")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(front.Close)
	var waits []time.Duration
	s := &caldavsync.Syncer{Store: nil, Clock: clock.NewFake(time.Now()), IDs: clock.RandomIDs{},
		Retry: httpretry.Policy{MaxRetries: 3, Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}}
	a := calendar.Account{Name: "Home", URL: front.URL, Username: "ana"}
	if err := s.Check(t.Context(), a, "pw"); err != nil {
		t.Fatalf("check through a busy server: %v", err)
	}
	if len(waits) != 2 || waits[0] != 3*time.Second {
		t.Errorf("waits %v, want two of 3s", waits)
	}
	// Without retries the 503 is the error.
	busy.Store(1)
	s.Retry = httpretry.Policy{}
	if err := s.Check(t.Context(), a, "pw"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("a 503 without retries: %v", err)
	}
}
