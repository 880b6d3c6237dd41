package proactive_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/proactive"
	"github.com/os1ai/os1/internal/store"
)

// TestMute: a muted trigger is held back and logged as muted; unmuted,
// she speaks again.
func TestMute(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	eager(e.rig, 2)
	e.set(proactive.Input{Muted: ptr([]proactive.Trigger{proactive.TriggerFollowup})})
	e.start()
	if _, err := e.svc.AddFollowup(t.Context(), e.user, proactive.FollowupInput{Text: "how was the dentist?", InMinutes: 30}); err != nil {
		t.Fatal(err)
	}
	e.to(e.rig.Clock.Now().Add(30 * time.Minute))
	if got := e.reasons(); len(got) != 0 {
		t.Fatalf("muted, she said %q", got)
	}
	if l := e.log(); len(l) != 1 || l[0].Hold != proactive.HoldMuted {
		t.Fatalf("log %+v", l)
	}
	e.set(proactive.Input{Muted: ptr([]proactive.Trigger{})})
	if _, err := e.svc.AddFollowup(t.Context(), e.user, proactive.FollowupInput{Text: "how was the dentist?", InMinutes: 30}); err != nil {
		t.Fatal(err)
	}
	e.to(e.rig.Clock.Now().Add(30 * time.Minute))
	if got := e.reasons(); len(got) != 1 || got[0] != "I said I would ask you: “how was the dentist?”" {
		t.Fatalf("unmuted: %q", got)
	}
	if err := (proactive.Settings{DailyCount: 1, DailyTokens: 1, MeetingLead: 1, SilenceDays: 1, Muted: []proactive.Trigger{"gossip"}}).Validate(); !proactive.IsInput(err) {
		t.Errorf("an unknown trigger muted: %v", err)
	}
}

// TestFollowupByChat: "I'll ask you tomorrow how the interview went" —
// the model calls followup_later, which needs no approval and answers
// with the time in the user's zone; at that time she asks, saying why.
func TestFollowupByChat(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)) // 16:00 in Berlin
	reg := companion.NewRegistry()
	if err := reg.RegisterFrom("followup", e.svc.Tools()...); err != nil {
		t.Fatal(err)
	}
	comp := e.rig.Companion(companion.Deps{Models: e.rig.Models(true), Tools: reg}, companion.Options{})
	e.comp, e.svc.Initiator = comp, comp
	e.start()
	e.rig.LLM.Enqueue(llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "followup_later",
		Arguments: []byte(`{"text":"how did the interview go?","at":"2026-12-08T19:00"}`)}}})
	var answer string
	e.rig.LLM.EnqueueFunc(func(r llmtest.Request) llmtest.Reply {
		answer = r.Messages[len(r.Messages)-1].Content
		return llmtest.Reply{Chunks: []string{"I'll ask you tomorrow evening."}}
	})
	conv, err := comp.CreateConversation(t.Context(), e.user, "")
	if err != nil {
		t.Fatal(err)
	}
	evs, err := comp.Send(t.Context(), e.user, conv.ID, "I have an interview tomorrow")
	if err != nil {
		t.Fatal(err)
	}
	for ev := range evs {
		if ev.Type == companion.EvActionRequired {
			t.Fatal("a follow-up waited for approval")
		}
	}
	if !strings.Contains(answer, "Tuesday 8 December 2026, 19:00 CET") {
		t.Fatalf("the tool answered %q", answer)
	}
	eager(e.rig, 2)
	e.to(e.local(2026, 12, 8, 19, 0))
	if got := e.reasons(); len(got) != 1 || got[0] != "I said I would ask you: “how did the interview go?”" {
		t.Fatalf("reasons %q", got)
	}
}

// TestImportantMail: new important mail becomes one message naming the
// sender and the email's id (never its subject or words), and closed
// browsers are told its reason (Notify); unimportant, old, or already
// told mail does not.
func TestImportantMail(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	eager(e.rig, 2)
	var mu sync.Mutex
	var pushed []string
	e.svc.Notify = func(_ context.Context, userID, reason string) {
		mu.Lock()
		defer mu.Unlock()
		pushed = append(pushed, userID+": "+reason)
	}
	e.start()
	now := e.rig.Clock.Now()
	for _, m := range []proactive.NewMail{
		{ID: "m1", From: "ana@example.com", Category: "needs_reply", Importance: 0.9, Date: now.Add(-time.Hour)},
		{ID: "m1", From: "ana@example.com", Category: "needs_reply", Importance: 0.9, Date: now.Add(-time.Hour)}, // triaged again
		{ID: "m2", From: "shop@example.com", Category: "needs_reply", Importance: 0.5, Date: now},
		{ID: "m3", From: "old@example.com", Category: "needs_reply", Importance: 0.95, Date: now.Add(-72 * time.Hour)},
		{ID: "m4", From: "news@example.com", Category: "newsletter", Importance: 0.9, Date: now},
	} {
		if err := e.svc.MailTriaged(t.Context(), e.user, m); err != nil {
			t.Fatal(err)
		}
	}
	e.settle()
	e.idle()
	want := "An important email arrived from ana@example.com (needs reply); its id is m1"
	if got := e.reasons(); len(got) != 1 || got[0] != want {
		t.Fatalf("reasons %q, want [%q]", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pushed) != 1 || pushed[0] != e.user+": "+want {
		t.Fatalf("closed browsers were told %q", pushed)
	}
}

type birthdays []proactive.Birthday

func (b birthdays) Birthdays(_ context.Context, _ string, from, to time.Time) ([]proactive.Birthday, error) {
	return b, nil
}

// TestBirthday: a birthday from the contacts is wished at 09:00 in the
// user's zone on the day.
func TestBirthday(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 7, 19, 0, 0, 0, time.UTC))
	e.svc.Birthdays = birthdays{{Name: "Ana", Date: time.Date(1990, 12, 8, 0, 0, 0, 0, time.UTC)}}
	eager(e.rig, 2)
	e.start()
	e.to(e.local(2026, 12, 8, 8, 59))
	if got := e.reasons(); len(got) != 0 {
		t.Fatalf("early: %q", got)
	}
	e.to(e.local(2026, 12, 8, 9, 0))
	if got := e.reasons(); len(got) != 1 || got[0] != "It is Ana's birthday today" {
		t.Fatalf("reasons %q", got)
	}
}

// TestCheckIn: off by default; on, she checks in once after the user's
// silence of three days, not again for the same silence, and again after
// the next one.
func TestCheckIn(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	eager(e.rig, 2)
	e.start()
	say := func() {
		conv, err := e.rig.DB.ListConversations(t.Context(), e.user)
		if err != nil {
			t.Fatal(err)
		}
		id := ""
		if len(conv) == 0 {
			c, err := e.comp.CreateConversation(t.Context(), e.user, "")
			if err != nil {
				t.Fatal(err)
			}
			id = c.ID
		} else {
			id = conv[0].ID
		}
		now := e.rig.Clock.Now()
		if err := e.rig.DB.AppendMessage(t.Context(), store.Message{ID: "msg_" + now.Format("0102150405"), ConversationID: id,
			UserID: e.user, Role: store.RoleUser, Content: "hi", Status: store.StatusComplete, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	say()
	start := e.rig.Clock.Now()
	e.to(start.Add(4 * 24 * time.Hour))
	if got := e.reasons(); len(got) != 0 {
		t.Fatalf("check-ins are opt-in: %q", got)
	}
	e.set(proactive.Input{CheckIn: ptr(true), SilenceDays: ptr(3)})
	e.settle()
	e.to(e.rig.Clock.Now().Add(time.Minute))
	if got := e.reasons(); len(got) != 1 || !strings.Contains(got[0], "not talked for 4 days") {
		t.Fatalf("after four silent days: %q", got)
	}
	e.to(e.rig.Clock.Now().Add(3 * 24 * time.Hour))
	if got := e.reasons(); len(got) != 1 {
		t.Fatalf("the same silence, again: %q", got)
	}
	say()
	e.to(e.rig.Clock.Now().Add(3 * 24 * time.Hour))
	if got := e.reasons(); len(got) != 2 {
		t.Fatalf("after a new silence: %q", got)
	}
}

// TestReminderLogged: a fired reminder is in the log as sent, once, and
// does not count against the day's messages.
func TestReminderLogged(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	due := e.rig.Clock.Now()
	for range 2 {
		if err := e.svc.ReminderSent(t.Context(), e.user, "job_1", "Reminder: call mum", due); err != nil {
			t.Fatal(err)
		}
	}
	l := e.log()
	if len(l) != 1 || l[0].Trigger != proactive.TriggerReminder || l[0].Outcome != proactive.Sent || l[0].Counted {
		t.Fatalf("log %+v", l)
	}
	if v, err := e.svc.Get(t.Context(), e.user); err != nil || v.SentToday != 0 {
		t.Fatalf("view %+v %v", v, err)
	}
}

// TestMeetingMoved: a meeting moved in the calendar moves its notice (the
// calendar's change re-plans); a cancelled one has none; the lead is the
// user's.
func TestMeetingMoved(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC)) // 08:00 in Berlin
	eager(e.rig, 2)
	e.set(proactive.Input{MeetingLead: ptr(15)})
	e.start()
	ev, err := e.cal.Create(t.Context(), e.user, calendar.EventInput{Summary: "1:1", Start: calendar.At(e.local(2026, 12, 7, 10, 0))})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := e.cal.Create(t.Context(), e.user, calendar.EventInput{Summary: "Offsite", Start: calendar.At(e.local(2026, 12, 7, 12, 0))})
	if err != nil {
		t.Fatal(err)
	}
	e.settle()
	if _, err := e.cal.Move(t.Context(), e.user, ev.ID, calendar.When{}, calendar.At(e.local(2026, 12, 7, 11, 0)), calendar.When{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cal.Cancel(t.Context(), e.user, gone.ID, calendar.When{}); err != nil {
		t.Fatal(err)
	}
	e.settle()
	e.to(e.local(2026, 12, 7, 9, 45))
	if got := e.reasons(); len(got) != 0 {
		t.Fatalf("a notice for the old time: %q", got)
	}
	e.to(e.local(2026, 12, 7, 10, 45))
	e.to(e.local(2026, 12, 7, 11, 45))
	if got := e.reasons(); len(got) != 1 || got[0] != "Your meeting “1:1” starts at 11:00" {
		t.Fatalf("reasons %q", got)
	}
	if l := e.log(); len(l) != 1 || !l[0].At.Equal(e.local(2026, 12, 7, 10, 45)) {
		t.Fatalf("log %+v", l)
	}
}

// flaky is a calendar whose first agenda read fails.
type flaky struct {
	proactive.Calendar
	mu    sync.Mutex
	tries int
}

func (f *flaky) Agenda(ctx context.Context, userID string, r calendar.Range, loc *time.Location) ([]calendar.Occurrence, error) {
	f.mu.Lock()
	f.tries++
	first := f.tries == 1
	f.mu.Unlock()
	if first {
		return nil, fmt.Errorf("the calendar database is busy")
	}
	return f.Calendar.Agenda(ctx, userID, r, loc)
}

// TestPlanRetries: a plan that fails (the agenda cannot be read) is tried
// again a quarter of an hour later, not given up.
func TestPlanRetries(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC)) // 08:00 in Berlin
	eager(e.rig, 2)
	if _, err := e.cal.Create(t.Context(), e.user, calendar.EventInput{Summary: "Sync", Start: calendar.At(e.local(2026, 12, 7, 11, 0))}); err != nil {
		t.Fatal(err)
	}
	e.svc.Calendar = &flaky{Calendar: e.cal}
	e.start()
	e.to(e.local(2026, 12, 7, 8, 15))
	e.to(e.local(2026, 12, 7, 10, 50))
	if got := e.reasons(); len(got) != 1 || got[0] != "Your meeting “Sync” starts at 11:00" {
		t.Fatalf("reasons %q", got)
	}
}

// briefs records the meeting briefs asked for; the one for fail fails.
type briefs struct {
	mu    sync.Mutex
	asked []string
	fail  string
}

func (b *briefs) PrepareMeeting(_ context.Context, userID, eventID string, start time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.asked = append(b.asked, userID+" "+eventID+" "+start.UTC().Format(time.RFC3339))
	if eventID == b.fail {
		return fmt.Errorf("the mail store is busy")
	}
	return nil
}

func (b *briefs) DropMeeting(string) {}

// TestMeetingBriefed: a meeting notice asks for the brief of its own
// occurrence just before she speaks; a brief that cannot be made does not
// hold the notice back.
func TestMeetingBriefed(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC)) // 08:00 in Berlin
	eager(e.rig, 2)
	b := &briefs{}
	e.svc.Briefs = b
	e.start()
	one, err := e.cal.Create(t.Context(), e.user, calendar.EventInput{Summary: "1:1", Start: calendar.At(e.local(2026, 12, 7, 10, 0))})
	if err != nil {
		t.Fatal(err)
	}
	two, err := e.cal.Create(t.Context(), e.user, calendar.EventInput{Summary: "Review", Start: calendar.At(e.local(2026, 12, 7, 12, 0))})
	if err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	b.fail = two.ID
	b.mu.Unlock()
	e.settle()
	e.to(e.local(2026, 12, 7, 9, 55))
	e.to(e.local(2026, 12, 7, 11, 55))
	if got := e.reasons(); len(got) != 2 {
		t.Fatalf("reasons %q", got)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	want := []string{e.user + " " + one.ID + " 2026-12-07T09:00:00Z", e.user + " " + two.ID + " 2026-12-07T11:00:00Z"}
	if fmt.Sprint(b.asked) != fmt.Sprint(want) {
		t.Errorf("briefs asked %q, want %q", b.asked, want)
	}
}
