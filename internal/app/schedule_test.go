package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/reminders"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/schedule/sqlitesched"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

// TestRemindersSurviveARestart: os1 serve's scheduler fires reminders
// through the companion (each a new conversation whose reply carries the
// reminder as its reason). With 1,000 pending, the app's scheduler is
// closed partway and a new one opened on the same database: every reminder
// is said, none twice.
func TestRemindersSurviveARestart(t *testing.T) {
	const n = 1000
	ctx := context.Background()
	a, err := app.New(ctx, testConfig(t), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.CreateUser(ctx, store.User{ID: "usr_theo", Username: "theo", DisplayName: "Theo", Role: store.RoleOwner,
		PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// The tools, the service and the API take minutes; the scheduler takes
	// any due time, so the test adds jobs of the reminder kind directly.
	start := time.Now().Add(300 * time.Millisecond)
	for i := range n {
		p, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("r%04d", i), "zone": "UTC"})
		if _, err := a.Reminders.Scheduler.Add(ctx, schedule.Job{UserID: "usr_theo", Kind: reminders.KindReminder,
			Due: start.Add(time.Duration(i) * 2 * time.Millisecond), Payload: p}); err != nil {
			t.Fatal(err)
		}
	}
	said := func() (distinct, total int) {
		err := a.DB.SQL().QueryRowContext(ctx, `SELECT count(DISTINCT reason), count(*) FROM messages WHERE reason LIKE 'Reminder: r%'`).
			Scan(&distinct, &total)
		if err != nil {
			t.Fatal(err)
		}
		return distinct, total
	}
	testrig.Eventually(t, 60*time.Second, "some reminders said", func() (bool, string) {
		d, _ := said()
		return d >= n/3, fmt.Sprint(d)
	})
	if err := a.Reminders.Scheduler.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := said()

	sched := schedule.New(sqlitesched.New(a.DB), clock.System{}, clock.RandomIDs{}, schedule.Options{})
	svc := reminders.New(sched, a.DB, clock.System{}, nil)
	svc.Initiator = a.Companion
	if err := sched.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer sched.Close()
	testrig.Eventually(t, 120*time.Second, "every reminder said once", func() (bool, string) {
		d, total := said()
		return d == n && total == n, fmt.Sprintf("%d distinct, %d in all", d, total)
	})
	if before == n {
		t.Log("every reminder fired before the restart; the second scheduler had nothing left")
	}
	var done int
	if err := a.DB.SQL().QueryRowContext(ctx, `SELECT count(*) FROM schedule_jobs WHERE state = 'done'`).Scan(&done); err != nil {
		t.Fatal(err)
	}
	if done != n {
		t.Errorf("%d jobs done, want %d", done, n)
	}
}
