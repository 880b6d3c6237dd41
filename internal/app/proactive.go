package app

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/contacts"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/proactive"
	"github.com/os1ai/os1/internal/proactive/sqliteproactive"
	"github.com/os1ai/os1/internal/reminders"
)

// newProactive builds the messages os1 starts on her own on the reminders'
// scheduler, registers followup_later in tools, and connects her triggers:
// the calendar's changes re-plan meeting notices, mail triage tells of
// important new mail, contacts give birthdays, and every fired reminder is
// logged. It needs the reminders, calendar, contacts and (in os1 serve)
// mail built first. Only os1 serve (run) plans at start; the scheduler
// that fires the messages is the reminders' one, started there too.
//
// It is closed after the companion (registered before it): the companion
// interrupts running turns, and then the messages' token counts are
// saved.
func (a *App) newProactive(log *slog.Logger, tools *companion.Registry, run bool) (*proactive.Service, error) {
	svc := proactive.New(proactive.Deps{Sched: a.Reminders.Scheduler, Store: sqliteproactive.New(a.DB), Profiles: a.DB,
		Users: a.DB, Clock: a.Clock, IDs: clock.RandomIDs{}, Log: log.With("component", "proactive")})
	svc.Initiator = companionOf{a} // the companion is built after the tools
	// Closed browsers hear of it by Web Push, when os1 serve has it (a.Push
	// is built after the tools, so it is read when a message goes out).
	svc.Notify = func(ctx context.Context, userID, reason string) {
		if a.Push == nil {
			return
		}
		if _, err := a.Push.Notify(ctx, userID, "os1", reason, "/"); err != nil {
			log.Warn("proactive: push notification", "user", userID, "err", err)
		}
	}
	if err := tools.RegisterFrom("followup", svc.Tools()...); err != nil {
		return nil, fmt.Errorf("register the follow-up tool: %w", err)
	}
	a.Reminders.Service.Notifiers = append(a.Reminders.Service.Notifiers, reminderLog{svc})
	if a.Calendar != nil {
		svc.Calendar = a.Calendar.Service
		a.Calendar.Service.OnChange = svc.CalendarChanged
	}
	if a.Contacts != nil {
		svc.Birthdays = birthdays{a.Contacts}
	}
	if a.Mail != nil {
		a.Mail.Service.OnTriaged = func(ctx context.Context, userID string, m mail.Message, t mail.Triage) error {
			if slices.Contains(m.Flags, `\Seen`) {
				return nil // read elsewhere already: not news
			}
			return svc.MailTriaged(ctx, userID, proactive.NewMail{ID: m.ID, From: m.From.Email, Category: string(t.Category),
				Importance: t.Importance, Date: m.Date, Archived: t.Archive})
		}
	}
	a.onClose(svc)
	if run {
		a.onStart(svc)
	}
	return svc, nil
}

// companionOf reaches the app's companion when a message goes out (it is
// built after the tools).
type companionOf struct{ a *App }

func (c companionOf) Initiate(ctx context.Context, userID, conversationID, reason string) (iter.Seq[companion.Event], error) {
	if c.a.Companion == nil {
		return nil, fmt.Errorf("os1's companion is not running")
	}
	return c.a.Companion.Initiate(ctx, userID, conversationID, reason)
}

func (c companionOf) Cancel(ctx context.Context, userID, conversationID string) (bool, error) {
	if c.a.Companion == nil {
		return false, nil
	}
	return c.a.Companion.Cancel(ctx, userID, conversationID)
}

// reminderLog puts every fired reminder in the proactive log. It delivers
// nothing itself (ErrNoRecipient), so it never counts as reaching the user.
type reminderLog struct{ svc *proactive.Service }

func (r reminderLog) Notify(ctx context.Context, n reminders.Notice) error {
	if err := r.svc.ReminderSent(ctx, n.UserID, n.ReminderID, n.Line, n.Due); err != nil {
		return err
	}
	return reminders.ErrNoRecipient
}

// birthdays adapts the contacts' birthdays to proactive's.
type birthdays struct{ c *contacts.Service }

func (b birthdays) Birthdays(ctx context.Context, userID string, from, to time.Time) ([]proactive.Birthday, error) {
	bs, err := b.c.Birthdays(ctx, userID, from, to)
	out := make([]proactive.Birthday, len(bs))
	for i, x := range bs {
		out[i] = proactive.Birthday{Name: x.Name, Date: x.Date}
	}
	return out, err
}
