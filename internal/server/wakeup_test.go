package server_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/briefing"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/reminders"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/schedule/sqlitesched"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/testrig"
)

// emailSettings keeps the reminders-by-email setting in memory: the
// handlers' test (the app's own, with a real SMTP server, is in app).
type emailSettings struct {
	mu sync.Mutex
	on map[string]bool
}

func (s *emailSettings) EmailReminders(_ context.Context, userID string) (server.ReminderEmail, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return server.ReminderEmail{On: s.on[userID]}, nil
}

func (s *emailSettings) SetEmailReminders(ctx context.Context, userID string, on bool) (server.ReminderEmail, error) {
	s.mu.Lock()
	s.on[userID] = on
	s.mu.Unlock()
	return s.EmailReminders(ctx, userID)
}

// TestWakeupAnswerOverHTTP: a wake-up that has not rung answers 409, a
// plain reminder 400, another user's wake-up or conversation 404; once it
// rang, answering it is 202 and starts os1's turn with the morning
// briefing in its prompt. The reminders-by-email setting is per user.
func TestWakeupAnswerOverHTTP(t *testing.T) {
	r := testrig.New(t)
	mm := r.Models(true)
	met := metrics.New()
	sched := schedule.New(sqlitesched.New(r.DB), r.Clock, clock.RandomIDs{}, schedule.Options{MaxSleep: 30 * 24 * time.Hour})
	svc := reminders.New(sched, r.DB, r.Clock, nil)
	t.Cleanup(func() { sched.Close() })
	b := briefing.New(briefing.Deps{Reminders: svc, Zones: svc, Clock: r.Clock})
	comp := r.Companion(companion.Deps{Models: mm, Observer: met, Slots: []companion.Slot{b.WakeSlot()}}, companion.Options{})
	svc.Initiator = comp
	b.Wakeups, b.Initiator = svc, comp
	emails := &emailSettings{on: map[string]bool{}}
	srv := r.Server(server.Deps{Companion: comp, Models: mm, Metrics: met, Reminders: svc, Wakeups: b, ReminderEmail: emails})
	e := &env{t: t, db: r.DB, llm: r.LLM, clock: r.Clock, srv: srv.Server, http: srv.HTTP, models: mm, setup: srv.SetupToken}
	o := e.owner()
	m := e.member(o, "ana")

	wake := o.want(http.StatusCreated, "POST", "/api/reminders", map[string]any{"text": "up you get", "in_minutes": 1, "wake": true})
	plain := o.want(http.StatusCreated, "POST", "/api/reminders", map[string]any{"text": "call mum", "in_minutes": 60})
	wakeID, plainID := wake["id"].(string), plain["id"].(string)
	if r := o.do("POST", "/api/reminders/"+wakeID+"/answer", nil); r.Status != http.StatusConflict || r.code() != "not_rung" {
		t.Errorf("answering before it rang: %d %s", r.Status, r.Body)
	}
	if r := o.do("POST", "/api/reminders/"+plainID+"/answer", nil); r.Status != http.StatusBadRequest || r.code() != "not_wakeup" {
		t.Errorf("answering a reminder: %d %s", r.Status, r.Body)
	}

	if err := sched.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	due, _ := time.Parse(time.RFC3339, wake["due"].(string))
	testrig.Eventually(t, 5*time.Second, "the scheduler waits for the wake-up", func() (bool, string) {
		return sched.NextWake().Equal(due), sched.NextWake().String()
	})
	// The wake-up's own turn and the briefing's may reach the model in
	// either order: each is answered by what its prompt says.
	systems := make(chan string, 1)
	r.LLM.Route(func(req llmtest.Request) bool { return strings.Contains(req.System, "## Morning briefing") },
		func(req llmtest.Request) llmtest.Reply {
			systems <- req.System
			return llmtest.Reply{Chunks: []string{"Good morning! Nothing on today."}}
		})
	woke := make(chan struct{}, 1)
	r.LLM.Handle(func(llmtest.Request) llmtest.Reply {
		woke <- struct{}{}
		return llmtest.Reply{Chunks: []string{"Rise and shine."}}
	})
	r.Clock.Set(due)
	select { // the wake-up's own turn has its prompt: the page would ring now
	case <-woke:
	case <-time.After(5 * time.Second):
		t.Fatal("the wake-up started no turn")
	}
	testrig.Eventually(t, 5*time.Second, "the wake-up rang", func() (bool, string) {
		got := o.want(http.StatusOK, "GET", "/api/reminders/"+wakeID, nil)
		return got["state"] == "done", got["state"].(string)
	})

	if r := m.do("POST", "/api/reminders/"+wakeID+"/answer", nil); r.Status != http.StatusNotFound {
		t.Errorf("another user answering: %d %s", r.Status, r.Body)
	}
	theirs := m.want(http.StatusCreated, "POST", "/api/conversations", map[string]any{"title": "Ana's"})
	if r := o.do("POST", "/api/reminders/"+wakeID+"/answer", map[string]any{"conversation_id": theirs["id"]}); r.Status != http.StatusNotFound {
		t.Errorf("answering into another user's conversation: %d %s", r.Status, r.Body)
	}

	ans := o.want(http.StatusAccepted, "POST", "/api/reminders/"+wakeID+"/answer", nil)
	if ans["conversation_id"] == "" || ans["reason"] != "Wake-up call answered: up you get" {
		t.Fatalf("answer: %v", ans)
	}
	select {
	case system := <-systems:
		if !strings.Contains(system, "## Morning briefing") {
			t.Errorf("the briefing turn's prompt:\n%s", system)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the answer started no turn")
	}
	if r := o.do("POST", "/api/reminders/"+wakeID+"/answer", nil); r.Status != http.StatusConflict || r.code() != "already_answered" {
		t.Errorf("answering twice: %d %s", r.Status, r.Body)
	}

	// Reminders by email: off by default, per user, {"on": bool} only.
	if got := o.want(http.StatusOK, "GET", "/api/reminders/email", nil); got["on"] != false {
		t.Errorf("default: %v", got)
	}
	if got := o.want(http.StatusOK, "PUT", "/api/reminders/email", map[string]any{"on": true}); got["on"] != true {
		t.Errorf("turned on: %v", got)
	}
	if got := m.want(http.StatusOK, "GET", "/api/reminders/email", nil); got["on"] != false {
		t.Errorf("another user's setting: %v", got)
	}
	if r := o.do("PUT", "/api/reminders/email", map[string]any{}); r.Status != http.StatusBadRequest {
		t.Errorf("no on: %d %s", r.Status, r.Body)
	}
}
