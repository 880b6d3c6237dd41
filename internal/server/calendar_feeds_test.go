package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/calendar/icsfeed"
	"github.com/os1ai/os1/internal/calendar/sqlitecal"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/testrig"
)

// newFeedEnv is newCalendarEnv with subscriptions fetched from the
// loopback test server.
func newFeedEnv(t *testing.T) *env {
	t.Helper()
	r := testrig.New(t)
	mm := r.Models(false)
	met := metrics.New()
	comp := r.Companion(companion.Deps{Models: mm, Observer: met}, companion.Options{})
	svc := &calendar.Service{Store: sqlitecal.New(r.DB), Sealer: r.Box, Clock: r.Clock, IDs: clock.RandomIDs{}, Every: -1, FeedEvery: -1,
		Feeds: &icsfeed.Fetcher{Allow: func(ip netip.Addr) bool { return ip.IsLoopback() }}}
	t.Cleanup(func() { svc.Close() })
	srv := r.Server(server.Deps{Companion: comp, Models: mm, Metrics: met, Calendar: svc,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, MetricsToken: testMetricsToken})
	return &env{t: t, db: r.DB, llm: r.LLM, clock: r.Clock, srv: srv.Server, http: srv.HTTP, models: mm, setup: srv.SetupToken}
}

// TestCalendarSubscriptionsHTTP: subscribe (the broken event named), list,
// refresh (304 the second time), the events in the agenda marked with their
// calendar, writes refused with 409, another user's ids 404, unsubscribe.
func TestCalendarSubscriptionsHTTP(t *testing.T) {
	var hits atomic.Int32
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("If-None-Match") == `"h1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"h1"`)
		fmt.Fprint(w, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n"+
			"BEGIN:VEVENT\r\nUID:xmas@h\r\nSUMMARY:Christmas\r\nDTSTART;VALUE=DATE:20261225\r\nEND:VEVENT\r\n"+
			"BEGIN:VEVENT\r\nUID:bad@h\r\nSUMMARY:Broken\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	}))
	t.Cleanup(feed.Close)
	e := newFeedEnv(t)
	o := e.owner()
	res := o.want(http.StatusCreated, "POST", "/api/calendar/subscriptions", map[string]any{"url": feed.URL + "/holidays.ics", "name": "Holidays"})
	sub := res["subscription"].(map[string]any)
	rep := res["report"].(map[string]any)
	id := sub["id"].(string)
	if sub["name"] != "Holidays" || sub["read_only"] != true || rep["added"] != 1.0 || len(rep["errors"].([]any)) != 1 {
		t.Fatalf("subscribe: %v", res)
	}
	if r := o.do("POST", "/api/calendar/subscriptions", map[string]any{"url": feed.URL + "/holidays.ics"}); r.Status != http.StatusConflict {
		t.Errorf("subscribing twice: %d %s", r.Status, r.Body)
	}
	if r := o.do("POST", "/api/calendar/subscriptions", map[string]any{"url": "ftp://example.com/x.ics"}); r.Status != http.StatusBadRequest {
		t.Errorf("an ftp address: %d %s", r.Status, r.Body)
	}
	list := o.want(http.StatusOK, "GET", "/api/calendar/subscriptions", nil)["subscriptions"].([]any)
	if len(list) != 1 || len(list[0].(map[string]any)["feed_errors"].([]any)) != 1 {
		t.Errorf("list: %v", list)
	}
	if r := o.want(http.StatusOK, "POST", "/api/calendar/subscriptions/"+id+"/refresh", nil); r["not_modified"] != true {
		t.Errorf("refresh: %v", r)
	}
	if hits.Load() != 2 {
		t.Errorf("%d fetches, want 2", hits.Load())
	}
	cals := o.want(http.StatusOK, "GET", "/api/calendar/calendars", nil)["calendars"].([]any)
	kinds := map[string]string{}
	for _, c := range cals {
		kinds[c.(map[string]any)["kind"].(string)] = c.(map[string]any)["id"].(string)
	}
	if kinds["subscription"] != id || kinds["local"] == "" {
		t.Errorf("calendars: %v", cals)
	}
	ag := o.want(http.StatusOK, "GET", "/api/calendar/agenda?from=2026-12-20&to=2026-12-31", nil)
	occ := ag["occurrences"].([]any)
	if len(occ) != 1 || occ[0].(map[string]any)["event"].(map[string]any)["calendar_id"] != id {
		t.Errorf("agenda: %v", ag)
	}
	evID := occ[0].(map[string]any)["event"].(map[string]any)["id"].(string)
	r := o.do("POST", "/api/calendar/events", map[string]any{"calendar_id": id, "summary": "Mine", "date": "2026-12-24", "time": "18:00"})
	if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "subscription") {
		t.Errorf("create in a subscription: %d %s", r.Status, r.Body)
	}
	if r := o.do("DELETE", "/api/calendar/events/"+evID, nil); r.Status != http.StatusConflict {
		t.Errorf("cancel in a subscription: %d %s", r.Status, r.Body)
	}
	if r := importICS(o, calendarICS); r.Status != http.StatusOK {
		t.Errorf("import into the local calendar: %d", r.Status)
	}

	// Another user sees none of it.
	m := e.member(o, "ana")
	if l := m.want(http.StatusOK, "GET", "/api/calendar/subscriptions", nil)["subscriptions"].([]any); len(l) != 0 {
		t.Errorf("ana sees %v", l)
	}
	for _, req := range [][2]string{{"POST", "/api/calendar/subscriptions/" + id + "/refresh"}, {"DELETE", "/api/calendar/subscriptions/" + id}, {"DELETE", "/api/calendar/events/" + evID}} {
		if r := m.do(req[0], req[1], nil); r.Status != http.StatusNotFound {
			t.Errorf("ana: %s %s: %d", req[0], req[1], r.Status)
		}
	}
	o.want(http.StatusNoContent, "DELETE", "/api/calendar/subscriptions/"+id, nil)
	if r := o.do("POST", "/api/calendar/subscriptions/"+id+"/refresh", nil); r.Status != http.StatusNotFound {
		t.Errorf("refresh after unsubscribing: %d", r.Status)
	}
}

// TestCalendarCreateEventHTTP: an event from a form's date and time is
// in the user's zone; all day without a time; a missing date or title is a
// 400 with a sentence; the event can be removed.
func TestCalendarCreateEventHTTP(t *testing.T) {
	e := newFeedEnv(t)
	o := e.owner()
	ev := o.want(http.StatusCreated, "POST", "/api/calendar/events", map[string]any{"summary": "Dentist", "date": "2026-12-07", "time": "14:30", "minutes": 45, "location": "Main St"})
	start := ev["start"].(map[string]any)
	if start["kind"] != "zoned" || ev["end"].(map[string]any)["time"] == nil {
		t.Errorf("timed event: %v", ev)
	}
	day := o.want(http.StatusCreated, "POST", "/api/calendar/events", map[string]any{"summary": "Holiday", "date": "2026-12-08", "days": 2})
	if day["start"].(map[string]any)["kind"] != "date" || !strings.HasPrefix(day["end"].(map[string]any)["time"].(string), "2026-12-10") {
		t.Errorf("all-day event: %v", day)
	}
	ag := o.want(http.StatusOK, "GET", "/api/calendar/agenda?from=2026-12-07&to=2026-12-10", nil)
	if got := strings.Join(summaries(t, ag), ","); got != "Dentist,Holiday" {
		t.Errorf("agenda: %s", got)
	}
	for _, in := range []map[string]any{{"summary": "No date"}, {"summary": "", "date": "2026-12-07"}, {"summary": "x", "date": "7 Dec"}, {"summary": "x", "date": "2026-12-07", "time": "2pm"}} {
		if r := o.do("POST", "/api/calendar/events", in); r.Status != http.StatusBadRequest {
			t.Errorf("%v: %d %s", in, r.Status, r.Body)
		}
	}
	o.want(http.StatusNoContent, "DELETE", "/api/calendar/events/"+ev["id"].(string), nil)
	if got := summaries(t, o.want(http.StatusOK, "GET", "/api/calendar/agenda?from=2026-12-07&to=2026-12-10", nil)); strings.Join(got, ",") != "Holiday" {
		t.Errorf("after removing: %v", got)
	}
}
