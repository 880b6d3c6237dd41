package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/proactive"
	"github.com/os1ai/os1/internal/proactive/sqliteproactive"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/schedule/sqlitesched"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/testrig"
)

// TestProactiveOverHTTP: the settings are read with their defaults,
// changed field by field, refused with a reason when wrong, and with the
// log they are the signed-in user's alone: another user sees the
// defaults and an empty log, and changes only their own.
func TestProactiveOverHTTP(t *testing.T) {
	r := testrig.New(t)
	mm := r.Models(false)
	met := metrics.New()
	comp := r.Companion(companion.Deps{Models: mm, Observer: met}, companion.Options{})
	sched := schedule.New(sqlitesched.New(r.DB), r.Clock, clock.RandomIDs{}, schedule.Options{})
	svc := proactive.New(proactive.Deps{Sched: sched, Store: sqliteproactive.New(r.DB), Profiles: r.DB, Clock: r.Clock})
	svc.Initiator = comp
	t.Cleanup(func() { sched.Close(); svc.Close() })
	srv := r.Server(server.Deps{Companion: comp, Models: mm, Metrics: met, Proactive: svc})
	e := &env{t: t, db: r.DB, llm: r.LLM, clock: r.Clock, srv: srv.Server, http: srv.HTTP, models: mm, setup: srv.SetupToken}

	o := e.owner()
	s := o.want(http.StatusOK, "GET", "/api/proactive/settings", nil)
	if s["daily_count"] != float64(3) || s["daily_tokens"] != float64(4000) || s["meeting_lead_minutes"] != float64(10) ||
		s["check_in"] != false || s["silence_days"] != float64(3) || s["quiet_hours"] != "off" || len(s["triggers"].([]any)) != 5 {
		t.Fatalf("defaults %v", s)
	}
	s = o.want(http.StatusOK, "PUT", "/api/proactive/settings", map[string]any{"daily_count": 1, "check_in": true,
		"muted": []string{"mail"}, "quiet_hours": "22:00-07:00"})
	if s["daily_count"] != float64(1) || s["daily_tokens"] != float64(4000) || s["check_in"] != true ||
		s["quiet_hours"] != "22:00-07:00" || len(s["muted"].([]any)) != 1 {
		t.Fatalf("changed %v", s)
	}
	for _, bad := range []map[string]any{{"daily_count": -1}, {"muted": []string{"gossip"}}, {"muted": []string{"reminder"}}, {"quiet_hours": "late"}, {"meeting_lead_minutes": 0}} {
		if res := o.do("PUT", "/api/proactive/settings", bad); res.Status != http.StatusBadRequest || res.code() != "bad_request" {
			t.Errorf("%v: %d %s", bad, res.Status, res.Body)
		}
	}
	if err := svc.ReminderSent(t.Context(), o.user["id"].(string), "job_1", "Reminder: water the plants", r.Clock.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	l := o.want(http.StatusOK, "GET", "/api/proactive/log", nil)["log"].([]any)
	if len(l) != 1 || l[0].(map[string]any)["reason"] != "Reminder: water the plants" || l[0].(map[string]any)["outcome"] != "sent" {
		t.Fatalf("log %v", l)
	}

	m := e.member(o, "ana")
	if ms := m.want(http.StatusOK, "GET", "/api/proactive/settings", nil); ms["daily_count"] != float64(3) || ms["quiet_hours"] != "off" || ms["check_in"] != false {
		t.Fatalf("another user's settings: %v", ms)
	}
	if ml := m.want(http.StatusOK, "GET", "/api/proactive/log", nil)["log"].([]any); len(ml) != 0 {
		t.Fatalf("another user sees the log: %v", ml)
	}
	m.want(http.StatusOK, "PUT", "/api/proactive/settings", map[string]any{"daily_count": 7})
	if s := o.want(http.StatusOK, "GET", "/api/proactive/settings", nil); s["daily_count"] != float64(1) {
		t.Fatalf("another user's change reached the owner: %v", s)
	}
}
