package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/reminders"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/schedule/sqlitesched"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/testrig"
)

func newRemindersEnv(t *testing.T) *env {
	t.Helper()
	r := testrig.New(t)
	mm := r.Models(false)
	met := metrics.New()
	comp := r.Companion(companion.Deps{Models: mm, Observer: met}, companion.Options{})
	sched := schedule.New(sqlitesched.New(r.DB), r.Clock, clock.RandomIDs{}, schedule.Options{})
	svc := reminders.New(sched, r.DB, r.Clock, nil)
	svc.Initiator = comp
	t.Cleanup(func() { sched.Close() })
	srv := r.Server(server.Deps{Companion: comp, Models: mm, Metrics: met, Reminders: svc})
	return &env{t: t, db: r.DB, llm: r.LLM, clock: r.Clock, srv: srv.Server, http: srv.HTTP, models: mm, setup: srv.SetupToken}
}

// TestRemindersOverHTTP: add, list, snooze, cancel and quiet hours; bad
// input is a 400 saying why; another user sees none of it and every id of
// someone else's answers 404.
func TestRemindersOverHTTP(t *testing.T) {
	e := newRemindersEnv(t)
	o := e.owner()
	at := e.clock.Now().Add(26 * time.Hour).Format(time.RFC3339)
	a := o.want(http.StatusCreated, "POST", "/api/reminders", map[string]any{"text": "call mum", "at": at})
	id, _ := a["id"].(string)
	if id == "" || a["text"] != "call mum" || a["state"] != "pending" || a["local"] == "" {
		t.Fatalf("added %v", a)
	}
	o.want(http.StatusCreated, "POST", "/api/reminders", map[string]any{"text": "wake up", "in_minutes": 60, "wake": true})
	list := o.want(http.StatusOK, "GET", "/api/reminders", nil)["reminders"].([]any)
	if len(list) != 2 || list[1].(map[string]any)["id"] != id || list[0].(map[string]any)["wake"] != true {
		t.Fatalf("list, soonest first: %v", list)
	}
	if r := o.do("POST", "/api/reminders", map[string]any{"text": "x", "at": "yesterday"}); r.Status != http.StatusBadRequest || r.code() != "bad_request" {
		t.Fatalf("a bad time: %d %s", r.Status, r.Body)
	}
	sn := o.want(http.StatusOK, "POST", "/api/reminders/"+id+"/snooze", map[string]any{"minutes": 30})
	if sn["due"] != e.clock.Now().Add(30*time.Minute).UTC().Format(time.RFC3339) {
		t.Errorf("snoozed to %v", sn["due"])
	}
	q := o.want(http.StatusOK, "PUT", "/api/reminders/quiet-hours", map[string]any{"quiet_hours": "22:00-07:00"})
	if q["quiet_hours"] != "22:00-07:00" || o.want(http.StatusOK, "GET", "/api/reminders/quiet-hours", nil)["quiet_hours"] != "22:00-07:00" {
		t.Errorf("quiet hours %v", q)
	}
	if r := o.do("PUT", "/api/reminders/quiet-hours", map[string]any{"quiet_hours": "late"}); r.Status != http.StatusBadRequest {
		t.Errorf("bad quiet hours: %d", r.Status)
	}

	m := e.member(o, "ana")
	if l := m.want(http.StatusOK, "GET", "/api/reminders?all=1", nil)["reminders"].([]any); len(l) != 0 {
		t.Fatalf("another user sees %v", l)
	}
	for _, req := range [][2]string{{"GET", "/api/reminders/" + id}, {"DELETE", "/api/reminders/" + id}, {"POST", "/api/reminders/" + id + "/snooze"}} {
		if r := m.do(req[0], req[1], nil); r.Status != http.StatusNotFound {
			t.Errorf("%s %s by another user: %d %s", req[0], req[1], r.Status, r.Body)
		}
	}
	if mq := m.want(http.StatusOK, "GET", "/api/reminders/quiet-hours", nil); mq["quiet_hours"] != "off" {
		t.Errorf("another user's quiet hours: %v", mq)
	}

	c := o.want(http.StatusOK, "DELETE", "/api/reminders/"+id, nil)
	if c["state"] != "skipped" || c["note"] != "cancelled" {
		t.Errorf("cancelled %v", c)
	}
	if r := o.do("DELETE", "/api/reminders/"+id, nil); r.Status != http.StatusConflict {
		t.Errorf("cancel twice: %d", r.Status)
	}
	if l := o.want(http.StatusOK, "GET", "/api/reminders", nil)["reminders"].([]any); len(l) != 1 {
		t.Errorf("after cancel, pending: %v", l)
	}
	if l := o.want(http.StatusOK, "GET", "/api/reminders?all=1", nil)["reminders"].([]any); len(l) != 2 {
		t.Errorf("after cancel, all: %v", l)
	}
}

// TestRemindersUnavailable: a server built without reminders says so.
func TestRemindersUnavailable(t *testing.T) {
	e := newEnv(t, false)
	o := e.owner()
	if r := o.do("GET", "/api/reminders", nil); r.Status != http.StatusServiceUnavailable || r.code() != "reminders_unavailable" {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}
