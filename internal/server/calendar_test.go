package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/calendar/sqlitecal"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

// calSyncer accepts one password and reports one calendar per sync.
type calSyncer struct{}

func (calSyncer) Check(_ context.Context, a calendar.Account, pw string) error {
	if pw != "right" {
		return fmt.Errorf("the calendar account %q: %w", a.Name, calendar.ErrAuth)
	}
	return nil
}

func (calSyncer) Sync(context.Context, calendar.Account, string) (calendar.Report, error) {
	return calendar.Report{Calendars: 1, Pulled: 2}, nil
}

func newCalendarEnv(t *testing.T, syncer calendar.Syncer) *env {
	t.Helper()
	r := testrig.New(t)
	mm := r.Models(false)
	met := metrics.New()
	comp := r.Companion(companion.Deps{Models: mm, Observer: met}, companion.Options{})
	svc := &calendar.Service{Store: sqlitecal.New(r.DB), Sealer: r.Box, Syncer: syncer, Clock: r.Clock, IDs: clock.RandomIDs{}, Every: -1}
	t.Cleanup(func() { svc.Close() })
	srv := r.Server(server.Deps{Companion: comp, Models: mm, Metrics: met, Calendar: svc,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, MetricsToken: testMetricsToken})
	return &env{t: t, db: r.DB, llm: r.LLM, clock: r.Clock, srv: srv.Server, http: srv.HTTP, models: mm, setup: srv.SetupToken}
}

// calendarICS holds a weekly series (3 times), a one-off and one event
// with no start.
const calendarICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n" +
	"BEGIN:VEVENT\r\nUID:standup@test\r\nSUMMARY:Standup\r\nDTSTART;TZID=Europe/Berlin:20261126T100000\r\nDTEND;TZID=Europe/Berlin:20261126T103000\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:broken@test\r\nSUMMARY:Broken one\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:dentist@test\r\nSUMMARY:Dentist\r\nDTSTART:20261201T140000Z\r\nDTEND:20261201T150000Z\r\nEND:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

func importICS(c *client, body string) resp {
	return c.raw("POST", "/api/calendar/import", []byte(body), map[string]string{"Content-Type": "text/calendar"})
}

func summaries(t *testing.T, agenda map[string]any) []string {
	t.Helper()
	var out []string
	for _, o := range agenda["occurrences"].([]any) {
		out = append(out, o.(map[string]any)["event"].(map[string]any)["summary"].(string))
	}
	return out
}

// TestCalendarImportAgendaExport: an import keeps every good event and
// names the broken one; the agenda expands the series; the export reads
// back as the same events.
func TestCalendarImportAgendaExport(t *testing.T) {
	e := newCalendarEnv(t, calSyncer{})
	o := e.owner()
	r := importICS(o, calendarICS)
	if r.Status != http.StatusOK {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	res := r.json(t)
	if res["imported"] != 2.0 || len(res["errors"].([]any)) != 1 || !strings.Contains(res["errors"].([]any)[0].(string), "Broken one") {
		t.Fatalf("import result: %v", res)
	}
	if r := importICS(o, "hello, not a calendar"); r.Status != http.StatusBadRequest || r.code() != "bad_ics" {
		t.Fatalf("not iCalendar: %d %s", r.Status, r.Body)
	}
	if r := importICS(o, strings.Repeat("x", server.MaxCalendarImportBytes+1)); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a file over the limit: %d %s", r.Status, r.Body)
	}
	ag := o.want(http.StatusOK, "GET", "/api/calendar/agenda?from=2026-11-25&to=2026-12-31", nil)
	got := summaries(t, ag)
	if strings.Join(got, ",") != "Standup,Dentist,Standup,Standup" {
		t.Fatalf("agenda: %v", got)
	}
	first := ag["occurrences"].([]any)[0].(map[string]any)
	loc, err := time.LoadLocation(ag["zone"].(string))
	if err != nil {
		t.Fatal(err)
	}
	start, err := time.Parse(time.RFC3339, first["start"].(string))
	if want := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC); err != nil || !start.Equal(want) || start.Format(time.RFC3339) != want.In(loc).Format(time.RFC3339) {
		t.Errorf("first standup starts %v, want 10:00 in Berlin shown in %s", first["start"], loc)
	}
	if got := summaries(t, o.want(http.StatusOK, "GET", "/api/calendar/agenda?from=2026-12-02T00:00:00Z&to=2026-12-04T00:00:00Z", nil)); strings.Join(got, ",") != "Standup" {
		t.Errorf("a narrower window: %v", got)
	}
	for _, q := range []string{"from=yesterday", "from=2026-12-05&to=2026-12-01", "from=2026-01-01&to=2028-01-01"} {
		if r := o.do("GET", "/api/calendar/agenda?"+q, nil); r.Status != http.StatusBadRequest || !strings.HasSuffix(r.json(t)["error"].(map[string]any)["message"].(string), ".") {
			t.Errorf("agenda?%s = %d %s", q, r.Status, r.Body)
		}
	}

	ex := o.raw("GET", "/api/calendar/export.ics", nil, nil)
	if ex.Status != http.StatusOK || !strings.HasPrefix(ex.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("export: %d %v", ex.Status, ex.Header)
	}
	evs, bad, err := calendar.ParseICS(strings.NewReader(string(ex.Body)))
	if err != nil || len(bad) != 0 || len(evs) != 2 {
		t.Fatalf("export reads back as %d events, %v, %v:\n%s", len(evs), bad, err, ex.Body)
	}
	// Importing the export into another user's calendar gives the same agenda.
	m := e.member(o, "ana")
	if got := m.want(http.StatusOK, "GET", "/api/calendar/agenda?from=2026-11-25&to=2026-12-31", nil)["occurrences"].([]any); len(got) != 0 {
		t.Fatalf("ana sees the owner's agenda: %v", got)
	}
	if r := importICS(m, string(ex.Body)); r.Status != http.StatusOK || r.json(t)["imported"] != 2.0 {
		t.Fatalf("re-import: %d %s", r.Status, r.Body)
	}
	if got := summaries(t, m.want(http.StatusOK, "GET", "/api/calendar/agenda?from=2026-11-25&to=2026-12-31", nil)); strings.Join(got, ",") != "Standup,Dentist,Standup,Standup" {
		t.Fatalf("round trip agenda: %v", got)
	}
	// Ana lives in New York: her agenda reads the same instants in her zone.
	if err := e.db.SaveProfile(context.Background(), store.Profile{UserID: m.user["id"].(string), Timezone: "America/New_York"}); err != nil {
		t.Fatal(err)
	}
	nyc := m.want(http.StatusOK, "GET", "/api/calendar/agenda?from=2026-11-26&to=2026-11-27", nil)
	if occ := nyc["occurrences"].([]any); nyc["zone"] != "America/New_York" || len(occ) != 1 ||
		occ[0].(map[string]any)["start"] != "2026-11-26T04:00:00-05:00" || nyc["from"] != "2026-11-26T00:00:00-05:00" {
		t.Fatalf("ana's agenda in New York: %v", nyc)
	}
	// Importing the same file again updates, adds nothing.
	if res := importICS(o, calendarICS).json(t); res["imported"] != 0.0 || res["updated"] != 2.0 {
		t.Errorf("second import: %v", res)
	}
}

// TestCalendarAccountsIsolation: a wrong password is a 400 naming the
// account; the password never comes back; another user's account ids and
// calendars answer 404 on every endpoint.
func TestCalendarAccountsIsolation(t *testing.T) {
	e := newCalendarEnv(t, calSyncer{})
	o := e.owner()
	in := map[string]any{"name": "Fastmail", "url": "https://caldav.example.org/", "username": "me", "password": "wrong"}
	r := o.do("POST", "/api/calendar/accounts", in)
	if r.Status != http.StatusBadRequest || r.code() != "calendar_auth" || !strings.Contains(string(r.Body), "Fastmail") {
		t.Fatalf("a wrong password: %d %s", r.Status, r.Body)
	}
	if r := o.do("POST", "/api/calendar/accounts", map[string]any{"url": "ftp://x", "username": "me", "password": "p"}); r.Status != http.StatusBadRequest {
		t.Fatalf("a bad url: %d %s", r.Status, r.Body)
	}
	in["password"] = "right"
	a := o.want(http.StatusCreated, "POST", "/api/calendar/accounts", in)
	id := a["id"].(string)
	list := o.do("GET", "/api/calendar/accounts", nil)
	if strings.Contains(string(list.Body), "right") || a["secret"] != nil || !strings.Contains(string(list.Body), id) {
		t.Fatalf("accounts: %s", list.Body)
	}
	if rep := o.want(http.StatusOK, "POST", "/api/calendar/accounts/"+id+"/sync", nil); rep["calendars"] != 1.0 {
		t.Fatalf("sync: %v", rep)
	}
	// The owner's local calendar exists now; ana may not import into or export it.
	importICS(o, calendarICS)
	cals, err := sqlitecal.New(e.db).ListCalendars(context.Background(), o.user["id"].(string))
	if err != nil || len(cals) != 1 {
		t.Fatalf("calendars %v %v", cals, err)
	}
	m := e.member(o, "ana")
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/calendar/accounts/" + id + "/sync"}, {"DELETE", "/api/calendar/accounts/" + id},
		{"GET", "/api/calendar/export.ics?calendar=" + cals[0].ID},
	} {
		if r := m.do(c.method, c.path, nil); r.Status != http.StatusNotFound {
			t.Errorf("ana %s %s = %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	if r := m.raw("POST", "/api/calendar/import?calendar="+cals[0].ID, []byte(calendarICS), nil); r.Status != http.StatusNotFound {
		t.Errorf("ana imports into the owner's calendar: %d %s", r.Status, r.Body)
	}
	if got := m.want(http.StatusOK, "GET", "/api/calendar/accounts", nil)["accounts"].([]any); len(got) != 0 {
		t.Errorf("ana lists the owner's accounts: %v", got)
	}
	if got := m.want(http.StatusOK, "GET", "/api/calendar/agenda?from=2026-11-25&to=2026-12-31", nil)["occurrences"].([]any); len(got) != 0 {
		t.Errorf("ana's agenda: %v", got)
	}
	if ex := m.raw("GET", "/api/calendar/export.ics", nil, nil); ex.Status != 200 || strings.Contains(string(ex.Body), "Standup") {
		t.Errorf("ana's export: %d %s", ex.Status, ex.Body)
	}
	o.want(http.StatusNoContent, "DELETE", "/api/calendar/accounts/"+id, nil)
	if r := o.do("POST", "/api/calendar/accounts/"+id+"/sync", nil); r.Status != http.StatusNotFound {
		t.Errorf("sync of a removed account: %d", r.Status)
	}
}

// TestCalendarUnavailable: a server with no calendar answers 503 with a sentence.
func TestCalendarUnavailable(t *testing.T) {
	e := newEnv(t, false)
	r := e.owner().do("GET", "/api/calendar/agenda", nil)
	if r.Status != http.StatusServiceUnavailable || r.code() != "calendar_unavailable" {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}
