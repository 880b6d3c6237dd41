package proactive_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/proactive"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

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

// TestBudgetPerUser: one user's budget, settings and log are theirs: Ana
// using up her day does not hold back Theo's message, and neither sees
// the other's log.
func TestBudgetPerUser(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	eager(e.rig, 2)
	ana := e.rig.User("ana", store.RoleMember).ID
	if _, err := e.svc.Update(t.Context(), ana, proactive.Input{DailyCount: ptr(1)}); err != nil {
		t.Fatal(err)
	}
	e.start()
	for i := range 3 {
		if _, err := e.svc.AddFollowup(t.Context(), ana, proactive.FollowupInput{Text: fmt.Sprintf("ana %d", i), InMinutes: 30}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.AddFollowup(t.Context(), e.user, proactive.FollowupInput{Text: "theo", InMinutes: 30}); err != nil {
		t.Fatal(err)
	}
	e.to(e.rig.Clock.Now().Add(30 * time.Minute))
	if got := e.reasons(); len(got) != 1 || got[0] != "I said I would ask you: “theo”" {
		t.Fatalf("theo's messages: %q", got)
	}
	al, err := e.svc.Log(t.Context(), ana, 100)
	if err != nil || count(al, proactive.Sent, "") != 1 || count(al, proactive.Held, proactive.HoldBudget) != 2 {
		t.Fatalf("ana's log %+v %v", al, err)
	}
	for _, x := range append(al, e.log()...) {
		mine := strings.Contains(x.Reason, "ana")
		if inAna := slices.ContainsFunc(al, func(y proactive.Entry) bool { return y.ID == x.ID }); mine != inAna {
			t.Errorf("entry %+v in the wrong log", x)
		}
	}
	if v, _ := e.svc.Get(t.Context(), e.user); v.DailyCount != proactive.DefaultCount || v.SentToday != 1 {
		t.Errorf("theo's view %+v", v)
	}
}
