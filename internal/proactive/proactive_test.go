package proactive_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/calendar/sqlitecal"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/proactive"
	"github.com/os1ai/os1/internal/proactive/sqliteproactive"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/schedule/sqlitesched"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

// env is one user's os1 with a scheduler, the real companion on the
// scripted model, a local calendar and the proactive service.
type env struct {
	t     *testing.T
	rig   *testrig.Rig
	comp  *companion.Companion
	cal   *calendar.Service
	sched *schedule.Scheduler
	svc   *proactive.Service
	user  string
	loc   *time.Location
}

const zone = "Europe/Berlin"

func newEnv(t *testing.T, now time.Time) *env {
	t.Helper()
	r := testrig.New(t)
	r.Clock.Set(now)
	u := r.User("theo", store.RoleOwner)
	if err := r.DB.SaveProfile(t.Context(), store.Profile{UserID: u.ID, Timezone: zone, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation(zone)
	e := &env{t: t, rig: r, user: u.ID, loc: loc,
		comp: r.Companion(companion.Deps{Models: r.Models(true)}, companion.Options{}),
		cal:  &calendar.Service{Store: sqlitecal.New(r.DB), Clock: r.Clock, IDs: clock.RandomIDs{}}}
	e.cal.OnChange = func(userID string) { e.svc.CalendarChanged(userID) } // the service of the moment
	e.build()
	return e
}

// build makes a scheduler and a service over the rig's database, as a
// fresh start of os1 does.
func (e *env) build() {
	e.sched = schedule.New(sqlitesched.New(e.rig.DB), e.rig.Clock, clock.RandomIDs{}, schedule.Options{MaxSleep: 30 * 24 * time.Hour})
	e.svc = proactive.New(proactive.Deps{Sched: e.sched, Store: sqliteproactive.New(e.rig.DB), Profiles: e.rig.DB,
		Users: e.rig.DB, Clock: e.rig.Clock})
	e.svc.Initiator = e.comp
	e.svc.Calendar = e.cal
	sched, svc := e.sched, e.svc
	e.t.Cleanup(func() { sched.Close(); svc.Close() })
}

func (e *env) start() {
	e.t.Helper()
	if err := e.sched.Start(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.Start(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
	e.settle()
}

// restart closes the scheduler and the service and builds new ones over
// the same database.
func (e *env) restart() {
	e.t.Helper()
	e.idle()
	e.sched.Close()
	e.svc.Close()
	e.build()
	e.start()
}

// settle waits until the scheduler sleeps with every claimed job ended,
// nothing due, and its timer set for the next job in the store.
func (e *env) settle() {
	e.t.Helper()
	testrig.Eventually(e.t, 5*time.Second, "the scheduler settles", func() (bool, string) {
		st := e.sched.Stats()
		nw, now := e.sched.NextWake(), e.rig.Clock.Now()
		at, ok, err := e.sched.Store().NextDue(context.Background(), []string{proactive.KindMessage, proactive.KindPlan})
		if err != nil || nw.IsZero() || st.Claimed != st.Done+st.Failed+st.Skipped+st.Deferred {
			return false, fmt.Sprintf("%+v %v", st, err)
		}
		return !ok || (at.After(now) && (nw.Equal(at) || at.After(nw))), fmt.Sprintf("timer %v, next due %v", nw, at)
	})
}

// to moves the fake clock to t and lets what falls due run.
func (e *env) to(t time.Time) {
	e.t.Helper()
	e.settle()
	e.rig.Clock.Set(t)
	e.settle()
	e.idle()
}

// idle waits for the model's turns to end and their tokens to be logged.
func (e *env) idle() {
	e.t.Helper()
	if err := e.rig.LLM.WaitIdle(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
	testrig.Eventually(e.t, 5*time.Second, "every sent message is followed to its end", func() (bool, string) {
		for _, c := range e.conversations() {
			if e.comp.Running(c.ID) {
				return false, c.ID
			}
		}
		for _, x := range e.log() {
			if x.Outcome == proactive.Sent && x.Trigger != proactive.TriggerReminder && x.ConversationID == "" {
				return false, x.Reason
			}
		}
		return true, ""
	})
}

func (e *env) local(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, e.loc)
}

// conversations are those os1 started (their first message has a reason).
func (e *env) conversations() []store.Conversation {
	cs, err := e.rig.DB.ListConversations(context.Background(), e.user)
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}

// reasons are the reasons of the messages she started, oldest first.
func (e *env) reasons() []string {
	e.t.Helper()
	var out []string
	cs := e.conversations()
	for i := len(cs) - 1; i >= 0; i-- {
		ms, err := e.rig.DB.Messages(context.Background(), e.user, cs[i].ID)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, m := range ms {
			if m.Reason != "" {
				out = append(out, m.Reason)
			}
		}
	}
	return out
}

func (e *env) log() []proactive.Entry {
	e.t.Helper()
	l, err := e.svc.Log(context.Background(), e.user, 500)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

// count is how many log entries have outcome o (and hold h, when given).
func count(l []proactive.Entry, o proactive.Outcome, hold string) int {
	n := 0
	for _, x := range l {
		if x.Outcome == o && (hold == "" || x.Hold == hold) {
			n++
		}
	}
	return n
}

func (e *env) set(in proactive.Input) {
	e.t.Helper()
	if _, err := e.svc.Update(context.Background(), e.user, in); err != nil {
		e.t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// eager is a model that always wants to talk: every request gets a long
// answer.
func eager(rig *testrig.Rig, chunks int) {
	rig.LLM.Handle(func(llmtest.Request) llmtest.Reply {
		r := llmtest.Reply{}
		for range chunks {
			r.Chunks = append(r.Chunks, strings.Repeat("x", 40)) // 10 tokens each
		}
		return r
	})
}

// TestBudgetCountHolds: a model that always wants to talk, and ten
// follow-ups due at once: three messages go out (the daily count), seven
// are held back with the budget as the reason and tried again the next
// day, when the count starts again; never more than three a day, and the
// last one, which would be two days past its time, is dropped.
func TestBudgetCountHolds(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)) // Monday 10:00 in Berlin
	eager(e.rig, 5)
	e.start()
	for i := range 10 {
		if _, err := e.svc.AddFollowup(t.Context(), e.user, proactive.FollowupInput{Text: fmt.Sprintf("question %d", i), InMinutes: 60}); err != nil {
			t.Fatal(err)
		}
	}
	e.to(e.rig.Clock.Now().Add(time.Hour))
	if got := e.reasons(); len(got) != 3 || !strings.HasPrefix(got[0], "I said I would ask you: “question") {
		t.Fatalf("first day, she started %d conversations: %q; want 3, each saying why", len(got), got)
	}
	l := e.log()
	if count(l, proactive.Sent, "") != 3 || count(l, proactive.Held, proactive.HoldBudget) != 7 {
		t.Fatalf("log %+v", l)
	}
	for _, x := range l {
		if x.Outcome == proactive.Sent && x.Tokens != 50 { // 5 chunks of 40 characters, 4 to a token
			t.Errorf("a sent message counted %d tokens, want 50: %+v", x.Tokens, x)
		}
		if x.Outcome == proactive.Held && !strings.Contains(x.Note, "tried again tomorrow") {
			t.Errorf("held note %q", x.Note)
		}
	}
	// The next day the held follow-ups come back; three more go out.
	e.to(e.local(2026, 12, 8, 0, 0))
	if got := len(e.reasons()); got != 6 {
		t.Fatalf("after the second day began, %d messages in all; want 6", got)
	}
	e.to(e.local(2026, 12, 9, 0, 0))
	if got := len(e.reasons()); got != 9 {
		t.Fatalf("on the third day, %d messages in all; want 9", got)
	}
	// The tenth would be two days past its time by the fourth day: dropped.
	if l := e.log(); l[0].Outcome != proactive.Held || l[0].Hold != proactive.HoldBudget || strings.Contains(l[0].Note, "tomorrow") {
		t.Fatalf("the last follow-up: %+v, want held for the budget for good", l[0])
	}
	e.to(e.local(2026, 12, 10, 0, 0))
	if got := len(e.reasons()); got != 9 {
		t.Fatalf("on the fourth day, %d messages in all; want still 9", got)
	}
	perDay := map[string]int{}
	for _, x := range e.log() {
		if x.Outcome == proactive.Sent {
			perDay[x.At.In(e.loc).Format("2006-01-02")]++
		}
	}
	for d, n := range perDay {
		if n > 3 {
			t.Errorf("%d messages on %s", n, d)
		}
	}
}

// TestTokenCapIsHard: the day's model tokens are a hard cap. Two answers
// of 100 tokens go out whole; the third is stopped while it streams, when
// the day reaches 250 tokens (its model is held mid-answer, so nothing
// more can arrive), and a fourth is held back for the budget.
func TestTokenCapIsHard(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	e.set(proactive.Input{DailyCount: ptr(10), DailyTokens: ptr(250)})
	long := llmtest.Reply{}
	for range 10 {
		long.Chunks = append(long.Chunks, strings.Repeat("y", 40))
	}
	gate := llmtest.NewGate()
	t.Cleanup(gate.Release)
	held := long
	held.Hold, held.HoldAfter = gate, 5
	e.rig.LLM.Enqueue(long, long, held)
	eager(e.rig, 10)
	e.start()
	start := e.rig.Clock.Now()
	for i := range 4 {
		if _, err := e.svc.AddFollowup(t.Context(), e.user, proactive.FollowupInput{Text: fmt.Sprintf("q%d", i), InMinutes: 60 * (i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		e.to(start.Add(time.Duration(i+1) * time.Hour))
	}
	l := e.log()
	total := 0
	for _, x := range l {
		total += x.Tokens
	}
	if total != 250 || count(l, proactive.Sent, "") != 3 || count(l, proactive.Held, proactive.HoldBudget) != 1 {
		t.Fatalf("tokens %d (want exactly the cap, 250), log %+v", total, l)
	}
	if l[1].Note != "stopped at the daily token budget" || l[1].Tokens != 50 {
		t.Errorf("the third message: %+v", l[1])
	}
	if !strings.Contains(l[0].Note, "tokens are spent (250 of 250)") {
		t.Errorf("the fourth: %+v", l[0])
	}
	v, err := e.svc.Get(t.Context(), e.user)
	if err != nil || v.TokensToday != 250 || v.SentToday != 3 {
		t.Errorf("settings view %+v %v", v, err)
	}
}

// newMeeting adds an event to the user's local calendar (its OnChange
// re-plans).
func (e *env) newMeeting(title string, start time.Time) {
	e.t.Helper()
	if _, err := e.cal.Create(context.Background(), e.user, calendar.EventInput{Summary: title, Start: calendar.At(start)}); err != nil {
		e.t.Fatal(err)
	}
}

// TestQuietHoursHold: in quiet hours (22:00–07:00) a meeting notice waits
// for their end when the meeting is still ahead then, and is dropped when
// it would come after the meeting started.
func TestQuietHoursHold(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 7, 19, 0, 0, 0, time.UTC)) // Monday 20:00 in Berlin
	e.set(proactive.Input{QuietHours: ptr("22:00-07:00")})
	eager(e.rig, 2)
	e.start()
	e.newMeeting("Early call", e.local(2026, 12, 8, 6, 55)) // notice 06:45, quiet until after it starts
	e.newMeeting("Standup", e.local(2026, 12, 8, 7, 5))     // notice 06:55, waits until 07:00
	e.newMeeting("Review", e.local(2026, 12, 8, 9, 0))      // notice 08:50
	e.settle()

	e.to(e.local(2026, 12, 8, 6, 45))
	e.to(e.local(2026, 12, 8, 6, 55))
	if got := e.reasons(); len(got) != 0 {
		t.Fatalf("she spoke in quiet hours: %q", got)
	}
	e.to(e.local(2026, 12, 8, 7, 0))
	e.to(e.local(2026, 12, 8, 8, 50))
	want := []string{"Your meeting “Standup” starts at 07:05", "Your meeting “Review” starts at 09:00"}
	if got := e.reasons(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("reasons %q, want %q", got, want)
	}
	l := e.log()
	var early, standup []proactive.Entry
	for _, x := range l {
		switch {
		case strings.Contains(x.Reason, "Early call"):
			early = append(early, x)
		case strings.Contains(x.Reason, "Standup"):
			standup = append(standup, x)
		}
	}
	if len(early) != 1 || early[0].Hold != proactive.HoldQuiet || !strings.Contains(early[0].Note, "the meeting had started") {
		t.Errorf("the early call: %+v", early)
	}
	if len(standup) != 2 || standup[1].Hold != proactive.HoldQuiet || !strings.Contains(standup[1].Note, "until 07:00") ||
		standup[0].Outcome != proactive.Sent || !standup[0].At.Equal(e.local(2026, 12, 8, 7, 0)) {
		t.Errorf("the standup: %+v", standup)
	}
}

// TestRestartDoesNotRepeat: a notice sent before a restart is not sent
// again by the new scheduler's plan, nor by a second job with its key;
// and a notice whose time passed while os1 was down is dropped once the
// meeting started, not sent late.
func TestRestartDoesNotRepeat(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)) // Monday 09:00 in Berlin
	eager(e.rig, 2)
	e.start()
	e.newMeeting("Planning", e.local(2026, 12, 7, 10, 0))
	e.newMeeting("Lunch with Ana", e.local(2026, 12, 7, 12, 0))
	e.settle()
	e.to(e.local(2026, 12, 7, 9, 50))
	if got := e.reasons(); len(got) != 1 {
		t.Fatalf("before the restart: %q", got)
	}

	e.restart()
	// A second job for the same meeting (a crash between speaking and
	// recording the job done runs it again after its lease).
	var key string
	for _, x := range e.log() {
		if x.Outcome == proactive.Sent {
			key = x.Key
		}
	}
	b, _ := json.Marshal(map[string]string{"trigger": "meeting", "key": key, "reason": "again"})
	if _, err := e.sched.Add(t.Context(), schedule.Job{UserID: e.user, Kind: proactive.KindMessage, Due: e.rig.Clock.Now(), Payload: b}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Plan(t.Context(), e.user); err != nil {
		t.Fatal(err)
	}
	e.to(e.local(2026, 12, 7, 9, 55))
	if got := e.reasons(); len(got) != 1 {
		t.Fatalf("after a restart she said it again: %q", got)
	}

	// os1 is down from 11:00 to 12:30; the lunch notice (11:50) is stale.
	e.to(e.local(2026, 12, 7, 11, 0))
	e.idle()
	e.sched.Close()
	e.svc.Close()
	e.rig.Clock.Set(e.local(2026, 12, 7, 12, 30))
	e.build()
	e.start()
	e.idle()
	if got := e.reasons(); len(got) != 1 {
		t.Fatalf("a stale notice was sent late: %q", got)
	}
	l := e.log()
	if count(l, proactive.Sent, "") != 1 || l[0].Hold != proactive.HoldStale || !strings.Contains(l[0].Reason, "Lunch with Ana") {
		t.Fatalf("log %+v", l)
	}
}

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

// TestEagerModelManyTriggers: three days of a busy user — a meeting every
// hour, important mail, follow-ups — and a model that always wants to
// talk (50 tokens an answer). With 10 messages and 100 tokens a day, each
// day she sends what the tokens allow (two), never more, and every
// other message is in the log as held back, for the budget or because
// its moment passed.
func TestEagerModelManyTriggers(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)) // Monday 07:00 in Berlin
	eager(e.rig, 5)
	e.set(proactive.Input{DailyCount: ptr(10), DailyTokens: ptr(100)})
	e.start()
	for d := range 3 {
		for h := 9; h <= 18; h++ {
			if _, err := e.cal.Create(t.Context(), e.user, calendar.EventInput{Summary: fmt.Sprintf("Meeting %d-%d", d, h),
				Start: calendar.At(e.local(2026, 12, 7+d, h, 0))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	end := e.local(2026, 12, 10, 0, 0)
	for now := e.rig.Clock.Now(); now.Before(end); now = now.Add(30 * time.Minute) {
		e.to(now)
		if l := now.In(e.loc); l.Hour() == 10 && l.Minute() == 0 {
			for i := range 5 {
				if err := e.svc.MailTriaged(t.Context(), e.user, proactive.NewMail{ID: fmt.Sprintf("m%d-%d", l.Day(), i),
					From: "boss@example.com", Category: "needs_reply", Importance: 0.95, Date: now}); err != nil {
					t.Fatal(err)
				}
				if _, err := e.svc.AddFollowup(t.Context(), e.user, proactive.FollowupInput{Text: fmt.Sprintf("q%d", i), InMinutes: 120}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	e.to(end)
	sent, tokens := map[string]int{}, map[string]int{}
	for _, x := range e.log() {
		d := x.At.In(e.loc).Format("2006-01-02")
		switch x.Outcome {
		case proactive.Sent:
			sent[d]++
			tokens[d] += x.Tokens
		case proactive.Held:
			if x.Hold != proactive.HoldBudget && x.Hold != proactive.HoldStale {
				t.Errorf("held for %q: %+v", x.Hold, x)
			}
		default:
			t.Errorf("%+v", x)
		}
	}
	// The follow-ups held on the third day go out at midnight: a fourth day.
	for _, d := range []string{"2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10"} {
		if sent[d] != 2 || tokens[d] != 100 {
			t.Errorf("%s: %d sent with %d tokens; want 2 and the cap, 100", d, sent[d], tokens[d])
		}
	}
	if n := len(e.reasons()); n != 8 {
		t.Errorf("she started %d conversations, want the 8 sent", n)
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
