package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/proactive"
	"github.com/os1ai/os1/internal/reminders"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

// TestProactiveWired: in os1 serve a meeting made in the calendar is
// noticed (the calendar's change re-plans, the scheduler fires the
// notice, she speaks through the companion with the meeting as her
// reason) and a fired reminder is logged, uncounted.
func TestProactiveWired(t *testing.T) {
	ctx := context.Background()
	a, err := app.New(ctx, testConfig(t), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Proactive == nil {
		t.Fatal("os1 serve has no proactive messages")
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.CreateUser(ctx, store.User{ID: "usr_theo", Username: "theo", DisplayName: "Theo", Role: store.RoleOwner,
		PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(5 * time.Minute).Truncate(time.Minute)
	if _, err := a.Calendar.Service.Create(ctx, "usr_theo", calendar.EventInput{Summary: "Call with Ana", Start: calendar.At(start)}); err != nil {
		t.Fatal(err)
	}
	// A reminder due now (the service takes minutes; the scheduler any time).
	if _, err := a.Reminders.Scheduler.Add(ctx, schedule.Job{UserID: "usr_theo", Kind: reminders.KindReminder, Due: time.Now(),
		Payload: []byte(`{"text":"stretch","zone":"UTC"}`)}); err != nil {
		t.Fatal(err)
	}
	var log []proactive.Entry
	testrig.Eventually(t, 30*time.Second, "the meeting noticed", func() (bool, string) {
		log, err = a.Proactive.Log(ctx, "usr_theo", 10)
		for _, e := range log {
			if e.Trigger == proactive.TriggerMeeting && e.Outcome == proactive.Sent && strings.HasPrefix(e.Reason, "Your meeting “Call with Ana” starts at") {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v %v", log, err)
	})
	testrig.Eventually(t, 30*time.Second, "the reminder logged", func() (bool, string) {
		log, err = a.Proactive.Log(ctx, "usr_theo", 10)
		for _, e := range log {
			if e.Trigger == proactive.TriggerReminder && e.Reason == "Reminder: stretch" && !e.Counted {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v %v", log, err)
	})
	testrig.Eventually(t, 30*time.Second, "her message with the meeting as its reason", func() (bool, string) {
		var n int
		err := a.DB.SQL().QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE user_id = 'usr_theo' AND reason LIKE 'Your meeting “Call with Ana”%'`).Scan(&n)
		return err == nil && n == 1, fmt.Sprint(n, err)
	})
}
