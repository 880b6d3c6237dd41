package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/reminders"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/schedule/sqlitesched"
)

// Reminders is the durable scheduler as os1 wires it, and the reminders
// and wake-ups it fires.
type Reminders struct {
	Scheduler *schedule.Scheduler
	Service   *reminders.Service
}

// newReminders builds the scheduler over the app's database and the
// reminders on it, and registers the reminder tools in tools. Only os1
// serve (run) starts the scheduler: a one-shot os1 talk may set a
// reminder, which the server's scheduler fires (it looks at the database
// at least once a minute, schedule.Options.MaxSleep).
//
// The scheduler starts after everything is built, when the companion it
// speaks through exists, and is closed first, before the companion, so a
// reminder firing at shutdown is finished or left for the next start,
// never failed against a closed companion.
func (a *App) newReminders(log *slog.Logger, tools *companion.Registry, run bool) (*Reminders, error) {
	log = log.With("component", "schedule")
	sched := schedule.New(sqlitesched.New(a.DB), a.Clock, clock.RandomIDs{}, schedule.Options{Log: log})
	r := &Reminders{Scheduler: sched, Service: reminders.New(sched, a.DB, a.Clock, log)}
	mailed := newMailReminder(a, log) // reminder_mail.go
	a.onClose(mailed)                 // closed after the scheduler, which is closed first
	r.Service.Notifiers = []reminders.Notifier{pushReminder{a}, mailed}
	if err := tools.RegisterFrom("reminders", r.Service.Tools()...); err != nil {
		return nil, fmt.Errorf("register the reminder tools: %w", err)
	}
	if run {
		a.onStart(startFunc(func(ctx context.Context) error {
			r.Service.Initiator = a.Companion
			if err := sched.Start(ctx); err != nil {
				return err
			}
			a.onClose(sched) // added last, so closed first
			return nil
		}))
	}
	return r, nil
}

// pushReminder sends a fired reminder to the user's closed browsers by Web
// Push, when os1 serve has a push notifier (a.Push is built after the
// tools, so it is read when a reminder fires).
type pushReminder struct{ a *App }

func (p pushReminder) Notify(ctx context.Context, n reminders.Notice) error {
	if p.a.Push == nil {
		return reminders.ErrNoRecipient
	}
	title := "Reminder"
	if n.Wake {
		title = "Wake-up call"
	}
	sent, err := p.a.Push.Notify(ctx, n.UserID, title, n.Line, "/")
	if err == nil && sent == 0 {
		return reminders.ErrNoRecipient
	}
	return err
}
