package reminders_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/reminders"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/schedule/sqlitesched"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

// env is a rig with a scheduler and reminders for one user in zone.
type env struct {
	t     *testing.T
	rig   *testrig.Rig
	sched *schedule.Scheduler
	svc   *reminders.Service
	user  string
}

func newEnv(t *testing.T, zone string, now time.Time) *env {
	t.Helper()
	r := testrig.New(t)
	r.Clock.Set(now)
	u := r.User("theo", store.RoleOwner)
	if err := r.DB.SaveProfile(t.Context(), store.Profile{UserID: u.ID, Timezone: zone, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	sched := schedule.New(sqlitesched.New(r.DB), r.Clock, clock.RandomIDs{}, schedule.Options{MaxSleep: 30 * 24 * time.Hour})
	svc := reminders.New(sched, r.DB, r.Clock, nil)
	t.Cleanup(func() { sched.Close() })
	return &env{t: t, rig: r, sched: sched, svc: svc, user: u.ID}
}

func (e *env) start() {
	if err := e.sched.Start(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
}

// until moves the fake clock to at once the scheduler's timer is set for
// it (armed says for when).
func (e *env) until(armed, at time.Time) {
	e.t.Helper()
	testrig.Eventually(e.t, 5*time.Second, "the timer is set for "+armed.String(), func() (bool, string) {
		next := e.sched.NextWake()
		return next.Equal(armed), next.String()
	})
	e.rig.Clock.Set(at)
}

func (e *env) state(id string, want schedule.State) reminders.Reminder {
	e.t.Helper()
	var r reminders.Reminder
	testrig.Eventually(e.t, 5*time.Second, id+" is "+string(want), func() (bool, string) {
		var err error
		r, err = e.svc.Get(context.Background(), e.user, id)
		return err == nil && r.State == want, string(r.State) + " " + r.Note
	})
	return r
}

// said records what reminders os1 started turns for, and when.
type said struct {
	mu    sync.Mutex
	clock clock.Clock
	lines []string
	at    []time.Time
}

func (s *said) Initiate(_ context.Context, userID, _, reason string) (iter.Seq[companion.Event], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, userID+": "+reason)
	s.at = append(s.at, s.clock.Now())
	return func(func(companion.Event) bool) {}, nil
}

func (s *said) got() ([]string, []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...), append([]time.Time(nil), s.at...)
}

func (s *said) wait(t *testing.T, n int) ([]string, []time.Time) {
	t.Helper()
	testrig.Eventually(t, 5*time.Second, "reminders said", func() (bool, string) {
		l, _ := s.got()
		return len(l) >= n, strings.Join(l, "; ")
	})
	return s.got()
}

// TestRemindByChat: "remind me to call mum tomorrow at 6" in a chat sets a
// reminder without asking for approval, the tool answers with the exact
// time in the user's zone; at that time os1 speaks first, in a new
// conversation whose reply carries the reminder as its reason, and an open
// page following the user sees it.
func TestRemindByChat(t *testing.T) {
	now := time.Date(2026, 12, 5, 15, 0, 0, 0, time.UTC) // Saturday 16:00 in Berlin
	e := newEnv(t, "Europe/Berlin", now)
	reg := companion.NewRegistry()
	if err := reg.RegisterFrom("reminders", e.svc.Tools()...); err != nil {
		t.Fatal(err)
	}
	comp := e.rig.Companion(companion.Deps{Models: e.rig.Models(true), Tools: reg}, companion.Options{})
	e.svc.Initiator = comp
	e.start()

	e.rig.LLM.Enqueue(llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "reminders_add",
		Arguments: []byte(`{"text":"call mum","at":"2026-12-06T18:00"}`)}}})
	var toolAnswer string
	e.rig.LLM.EnqueueFunc(func(r llmtest.Request) llmtest.Reply {
		toolAnswer = r.Messages[len(r.Messages)-1].Content
		return llmtest.Reply{Chunks: []string{"Done: tomorrow at 18:00."}}
	})
	conv, err := comp.CreateConversation(t.Context(), e.user, "")
	if err != nil {
		t.Fatal(err)
	}
	evs, err := comp.Send(t.Context(), e.user, conv.ID, "remind me to call mum tomorrow at 6")
	if err != nil {
		t.Fatal(err)
	}
	for ev := range evs {
		if ev.Type == companion.EvActionRequired {
			t.Fatal("setting a reminder the user asked for waited for approval")
		}
	}
	if !strings.Contains(toolAnswer, "Sunday 6 December 2026, 18:00 CET") || !strings.Contains(toolAnswer, "Europe/Berlin") {
		t.Fatalf("the tool answered %q", toolAnswer)
	}
	list, err := e.svc.List(t.Context(), e.user, false)
	if err != nil || len(list) != 1 || list[0].Text != "call mum" {
		t.Fatalf("list: %+v %v", list, err)
	}
	due := time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC)
	if !list[0].Due.Equal(due) {
		t.Fatalf("due %v, want %v", list[0].Due, due)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	page := comp.Subscribe(ctx, e.user)
	seen := make(chan string, 1)
	go func() {
		for ev := range page {
			if ev.Message != nil && ev.Message.Reason != "" {
				seen <- ev.Message.Reason
				return
			}
		}
	}()
	e.rig.LLM.Enqueue(llmtest.Reply{Chunks: []string{"It's six: time to call your mum."}})
	e.until(due, due)
	e.state(list[0].ID, schedule.Done)
	select {
	case reason := <-seen:
		if reason != "Reminder: call mum" {
			t.Errorf("the page saw reason %q", reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the open page saw no message from the reminder")
	}
}

// TestReminderDST: 02:30 on the spring-forward day does not exist; the
// reminder is set for 03:30 (the gap later) and says so, in two zones,
// and fires then.
func TestReminderDST(t *testing.T) {
	for _, tt := range []struct {
		zone, at string
		now, due time.Time
	}{
		{"Europe/Berlin", "2026-03-29T02:30", time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)},
		{"America/New_York", "2026-03-08T02:30", time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC)},
	} {
		t.Run(tt.zone, func(t *testing.T) {
			e := newEnv(t, tt.zone, tt.now)
			s := &said{clock: e.rig.Clock}
			e.svc.Initiator = s
			e.start()
			r, err := e.svc.Add(t.Context(), e.user, reminders.Input{Text: "take the bread out", At: tt.at})
			if err != nil {
				t.Fatal(err)
			}
			if !r.Due.Equal(tt.due) || !strings.Contains(r.Local, "03:30") || !strings.Contains(r.Shift, "does not exist") {
				t.Fatalf("set %+v", r)
			}
			e.until(tt.due, tt.due.Add(-time.Second))
			if l, _ := s.got(); len(l) != 0 {
				t.Fatalf("fired early: %v", l)
			}
			e.rig.Clock.Set(tt.due)
			_, at := s.wait(t, 1)
			if !at[0].Equal(tt.due) {
				t.Errorf("fired at %v", at[0])
			}
		})
	}
}

// TestQuietHoursHoldRemindersNotWakeups: a reminder due in quiet hours
// waits until they end; a wake-up rings at its time.
func TestQuietHoursHoldRemindersNotWakeups(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2026, 12, 5, 20, 0, 0, 0, berlin)
	e := newEnv(t, "Europe/Berlin", now)
	s := &said{clock: e.rig.Clock}
	e.svc.Initiator = s
	if _, err := e.svc.SetQuietHours(t.Context(), e.user, "22:00-07:00"); err != nil {
		t.Fatal(err)
	}
	e.start()
	late, err := e.svc.Add(t.Context(), e.user, reminders.Input{Text: "water the plants", At: "2026-12-05T23:00"})
	if err != nil {
		t.Fatal(err)
	}
	wake, err := e.svc.Add(t.Context(), e.user, reminders.Input{Text: "flight at nine", At: "2026-12-06T06:00", Wake: true})
	if err != nil {
		t.Fatal(err)
	}
	at23 := time.Date(2026, 12, 5, 23, 0, 0, 0, berlin)
	e.until(at23, at23)
	seven := time.Date(2026, 12, 6, 7, 0, 0, 0, berlin)
	testrig.Eventually(t, 5*time.Second, "held for quiet hours", func() (bool, string) {
		r, _ := e.svc.Get(t.Context(), e.user, late.ID)
		return r.State == schedule.Pending && r.Due.Equal(seven) && strings.Contains(r.Note, "quiet hours"), r.Note
	})
	if l, _ := s.got(); len(l) != 0 {
		t.Fatalf("said in quiet hours: %v", l)
	}
	six := time.Date(2026, 12, 6, 6, 0, 0, 0, berlin)
	e.until(six, six)
	lines, at := s.wait(t, 1)
	if !strings.Contains(lines[0], "Wake-up call: flight at nine") || !at[0].Equal(six) {
		t.Fatalf("at six: %v %v", lines, at)
	}
	e.state(wake.ID, schedule.Done)
	e.until(seven, seven)
	lines, at = s.wait(t, 2)
	if !strings.Contains(lines[1], "Reminder: water the plants") || !at[1].Equal(seven) {
		t.Fatalf("at seven: %v %v", lines, at)
	}
}

// TestSnoozeCancelAndInput: snooze a fired reminder, cancel one, and the
// errors a user can act on; another user's ids are not found.
func TestSnoozeCancelAndInput(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, "UTC", now)
	s := &said{clock: e.rig.Clock}
	e.svc.Initiator = s
	e.start()
	r, err := e.svc.Add(t.Context(), e.user, reminders.Input{Text: "tea", InMinutes: 5})
	if err != nil {
		t.Fatal(err)
	}
	e.until(now.Add(5*time.Minute), now.Add(5*time.Minute))
	e.state(r.ID, schedule.Done)
	sn, err := e.svc.Snooze(t.Context(), e.user, r.ID, 0)
	if err != nil || sn.State != schedule.Pending || !sn.Due.Equal(now.Add(15*time.Minute)) {
		t.Fatalf("snooze: %+v %v", sn, err)
	}
	e.until(now.Add(15*time.Minute), now.Add(15*time.Minute))
	if lines, _ := s.wait(t, 2); lines[1] != e.user+": Reminder: tea" {
		t.Errorf("snoozed: %v", lines)
	}
	c, _ := e.svc.Add(t.Context(), e.user, reminders.Input{Text: "cancel me", InMinutes: 60})
	if _, err := e.svc.Cancel(t.Context(), e.user, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Cancel(t.Context(), e.user, c.ID); !errors.Is(err, reminders.ErrNotPending) {
		t.Errorf("cancel twice: %v", err)
	}
	other := e.rig.User("ana", store.RoleMember)
	if _, err := e.svc.Cancel(t.Context(), other.ID, r.ID); !errors.Is(err, reminders.ErrNotFound) {
		t.Errorf("another user's cancel: %v", err)
	}
	if _, err := e.svc.Snooze(t.Context(), other.ID, r.ID, time.Minute); !errors.Is(err, reminders.ErrNotFound) {
		t.Errorf("another user's snooze: %v", err)
	}
	for _, in := range []reminders.Input{
		{Text: "", InMinutes: 5},
		{Text: "x"},
		{Text: "x", At: "tomorrow"},
		{Text: "x", At: "2026-12-05T11:00"}, // passed
		{Text: "x", At: "2026-12-06T11:00", InMinutes: 3},
		{Text: strings.Repeat("a", reminders.MaxTextChars+1), InMinutes: 5},
	} {
		if _, err := e.svc.Add(t.Context(), e.user, in); !reminders.IsInput(err) {
			t.Errorf("Add(%+v) = %v, want an input error", in, err)
		}
	}
	all, _ := e.svc.List(t.Context(), e.user, true)
	pending, _ := e.svc.List(t.Context(), e.user, false)
	if len(all) != 2 || len(pending) != 0 {
		t.Errorf("all %d pending %d", len(all), len(pending))
	}
}

// TestReminderFiresWithoutAnyWayFails: with no way to reach the user the
// reminder fails with a reason instead of vanishing; a Notifier alone is
// enough.
func TestReminderNeedsAWayToReachTheUser(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, "UTC", now)
	n := &notes{}
	e.start()
	r, _ := e.svc.Add(t.Context(), e.user, reminders.Input{Text: "tea", InMinutes: 1})
	e.until(now.Add(time.Minute), now.Add(time.Minute))
	if f := e.state(r.ID, schedule.Failed); !strings.Contains(f.Note, "no way to reach") {
		t.Errorf("note %q", f.Note)
	}
	e.sched.Close()
	e2 := &env{t: t, rig: e.rig, user: e.user}
	e2.sched = schedule.New(sqlitesched.New(e.rig.DB), e.rig.Clock, clock.RandomIDs{}, schedule.Options{MaxSleep: 30 * 24 * time.Hour})
	e2.svc = reminders.New(e2.sched, e.rig.DB, e.rig.Clock, nil)
	e2.svc.Notifiers = []reminders.Notifier{n}
	t.Cleanup(func() { e2.sched.Close() })
	e2.start()
	r2, err := e2.svc.Add(t.Context(), e.user, reminders.Input{Text: "more tea", InMinutes: 1})
	if err != nil {
		t.Fatal(err)
	}
	e2.until(now.Add(2*time.Minute), now.Add(2*time.Minute))
	e2.state(r2.ID, schedule.Done)
	if got := n.got(); len(got) != 1 || got[0].Line != "Reminder: more tea" {
		t.Errorf("notified %+v", got)
	}
}

type notes struct {
	mu sync.Mutex
	ns []reminders.Notice
}

func (n *notes) Notify(_ context.Context, x reminders.Notice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ns = append(n.ns, x)
	return nil
}

func (n *notes) got() []reminders.Notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]reminders.Notice(nil), n.ns...)
}
