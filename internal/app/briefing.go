package app

import (
	"log/slog"

	"github.com/os1ai/os1/internal/briefing"
	"github.com/os1ai/os1/internal/companion"
)

// newBriefing builds the briefer over the calendar, mail (when os1 serve
// has it), memory and reminders, and registers its read-only tools
// (meeting_brief, morning_briefing) in tools. Its prompt slots (today's
// agenda, an answered wake-up's briefing) go to the companion; the
// companion it starts the wake-up briefing with is set once built
// (a.Briefing.Initiator).
func (a *App) newBriefing(log *slog.Logger, tools *companion.Registry) (*briefing.Briefer, error) {
	d := briefing.Deps{Memory: a.Recaller, Clock: a.Clock, Log: log.With("component", "briefing")}
	if a.Calendar != nil {
		d.Calendar = a.Calendar.Service
	}
	if a.Mail != nil {
		d.Mail, d.FollowUps = a.Mail.Service.Store, a.Mail.Service
	}
	if a.Reminders != nil {
		d.Reminders, d.Zones = a.Reminders.Service, a.Reminders.Service
	}
	b := briefing.New(d)
	if a.Reminders != nil {
		b.Wakeups = a.Reminders.Service
	}
	if err := tools.Register(b.Tools()...); err != nil {
		return nil, err
	}
	return b, nil
}
