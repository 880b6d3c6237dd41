// Package reminders is "remind me to call mum tomorrow at 6" and "wake me
// at 7": each reminder is a job of internal/schedule (kind "reminder" or
// "wakeup"), so it survives restarts and fires once; when it fires, os1
// speaks first with Companion.Initiate (every open tab of the user sees it)
// and tells each Notifier (Web Push, email: filled in by their packages).
//
// Reminders are a kind of scheduled job rather than a table of their own:
// what a reminder needs beyond its words and time (durability, one firing,
// the missed-job policy, snooze as a reschedule) is exactly what the
// scheduler keeps, so the list, the firing and the state can never
// disagree.
//
// Times are the user's (store.Profile.Location), and a wall-clock time that
// a DST change skips or repeats is resolved by schedule.Local's rule. A
// reminder due in the user's quiet hours waits until they end, unless it is
// a wake-up. The package must never fire a reminder before its time, and
// never read or log more of the user's words than the reminder holds.
package reminders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/textsafe"
)

// The scheduler kinds of reminders.
const (
	KindReminder = "reminder" // fires late with a note when os1 was down
	KindWakeup   = "wakeup"   // skipped when missed by more than WakeGrace; ignores quiet hours
)

// Limits.
const (
	MaxTextChars = 300                      // a reminder's words
	MaxPending   = 1000                     // pending reminders per user
	MaxAhead     = 5 * 366 * 24 * time.Hour // how far ahead one may be set
	MaxSnooze    = 7 * 24 * time.Hour
	// DefaultSnooze is a snooze without a length.
	DefaultSnooze = 10 * time.Minute
	// WakeGrace is how late a wake-up still rings; later it is skipped
	// (an alarm at noon for 7:00 helps nobody).
	WakeGrace = 30 * time.Minute
)

// ErrNotFound: no such reminder of this user.
var ErrNotFound = schedule.ErrNotFound

// ErrNotPending: the reminder already fired, is firing, or was cancelled.
var ErrNotPending = schedule.ErrNotPending

// InputError is a request the user can fix; Msg says how.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func badInput(format string, a ...any) error { return &InputError{Msg: fmt.Sprintf(format, a...)} }

// Reminder is one of a user's reminders or wake-ups.
type Reminder struct {
	ID    string    `json:"id"`
	Text  string    `json:"text"`
	Wake  bool      `json:"wake"`
	Due   time.Time `json:"due"`   // when it fires
	Local string    `json:"local"` // Due in the user's zone, in words: "Sunday 6 December 2026, 18:00 CET"
	Zone  string    `json:"zone"`  // the user's zone when it was set
	// Shift is set when the time asked for did not exist that day or
	// happened twice (a DST change), saying what was chosen.
	Shift     string         `json:"shift,omitempty"`
	State     schedule.State `json:"state"`
	Note      string         `json:"note,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	FiredAt   time.Time      `json:"fired_at,omitzero"`
}

// Input is a new reminder: its words and either At or InMinutes.
type Input struct {
	Text string `json:"text"`
	// At is a wall-clock time in the user's zone, "2026-12-06T18:00", or
	// an instant with an offset (RFC 3339).
	At        string `json:"at,omitempty"`
	InMinutes int    `json:"in_minutes,omitempty"`
	Wake      bool   `json:"wake,omitempty"`
}

// payload is what a reminder keeps in its job.
type payload struct {
	Text  string `json:"text"`
	Zone  string `json:"zone"`
	Shift string `json:"shift,omitempty"`
}

// Profiles finds a user's time zone.
type Profiles interface {
	Profile(ctx context.Context, userID string) (store.Profile, error)
}

// Initiator starts a turn os1 speaks first (companion.Companion).
type Initiator interface {
	Initiate(ctx context.Context, userID, conversationID, reason string) (iter.Seq[companion.Event], error)
}

// Notice is a fired reminder, as a Notifier delivers it.
type Notice struct {
	UserID     string
	ReminderID string
	Text       string // the reminder's words
	Line       string // what os1 says: "Reminder: call mum"
	Due        time.Time
	Wake       bool
	Late       time.Duration // how late it fired, when os1 was down; else 0
}

// Notifier delivers a fired reminder beyond the open pages: Web Push to
// closed browsers, email. Notify returns once it has handed the notice on;
// an error is logged and does not stop the other ways. ErrNoRecipient says
// this way has nowhere to deliver to for this user (no browser subscribed,
// no mail account): not a failure, and not a delivery either.
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}

// ErrNoRecipient: a Notifier has nowhere to deliver this user's notice.
var ErrNoRecipient = errors.New("nowhere to deliver to for this user")

// Service keeps reminders and fires them.
type Service struct {
	sched    *schedule.Scheduler
	store    schedule.Store
	profiles Profiles
	clock    clock.Clock
	log      *slog.Logger

	// Initiator is how a fired reminder reaches the user's pages; it is
	// set once, before the scheduler starts (the app builds the companion
	// after the tools that use this service).
	Initiator Initiator
	// Notifiers are told of every fired reminder, each in turn.
	Notifiers []Notifier
}

// New returns the reminders of sched's store and registers the reminder
// and wake-up kinds on sched (before it starts).
func New(sched *schedule.Scheduler, profiles Profiles, c clock.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{sched: sched, store: sched.Store(), profiles: profiles, clock: c, log: log}
	sched.Handle(KindReminder, schedule.Kind{Handler: s.fire, Missed: schedule.FireLate})
	sched.Handle(KindWakeup, schedule.Kind{Handler: s.fire, Missed: schedule.Skip, Grace: WakeGrace})
	return s
}

// Location is the user's zone (store.Profile.Location; the server's before
// the first meeting).
func (s *Service) Location(ctx context.Context, userID string) *time.Location {
	p, err := s.profiles.Profile(ctx, userID)
	if err != nil {
		return store.Profile{}.Location()
	}
	return p.Location()
}

// localLayouts are the wall-clock forms At accepts.
var localLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"}

// due resolves in's time for a user in loc at now.
func due(in Input, now time.Time, loc *time.Location) (time.Time, string, error) {
	at := strings.TrimSpace(in.At)
	switch {
	case at != "" && in.InMinutes != 0:
		return time.Time{}, "", badInput("give either a time (at) or minutes from now (in_minutes), not both")
	case in.InMinutes < 0:
		return time.Time{}, "", badInput("in_minutes must be positive")
	case in.InMinutes > 0:
		return now.Add(time.Duration(in.InMinutes) * time.Minute), "", nil
	case at == "":
		return time.Time{}, "", badInput("say when: at (a local time such as 2026-12-06T18:00) or in_minutes")
	}
	if t, err := time.Parse(time.RFC3339, at); err == nil {
		return t, "", nil
	}
	for _, l := range localLayouts {
		w, err := time.Parse(l, at)
		if err != nil {
			continue
		}
		t, shift := schedule.Local(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), loc)
		switch shift {
		case schedule.Gap:
			return t, fmt.Sprintf("%s does not exist on %s in %s (the clocks go forward), so it is set for %s",
				w.Format("15:04"), w.Format("2 January"), loc, t.Format("15:04 MST")), nil
		case schedule.Repeated:
			return t, fmt.Sprintf("%s happens twice on %s in %s (the clocks go back); it is set for the first, %s",
				w.Format("15:04"), w.Format("2 January"), loc, t.Format("15:04 MST")), nil
		}
		return t, "", nil
	}
	return time.Time{}, "", badInput("%q is not a time: write it as 2026-12-06T18:00 (local) or with an offset", at)
}

// Add sets a reminder for userID.
func (s *Service) Add(ctx context.Context, userID string, in Input) (Reminder, error) {
	text := textsafe.CleanTitle(in.Text)
	if in.Wake && text == "" {
		text = "Time to wake up"
	}
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return Reminder{}, badInput("say what to remind you of")
	case n > MaxTextChars:
		return Reminder{}, badInput("a reminder is at most %d characters; this one is %d", MaxTextChars, n)
	}
	loc := s.Location(ctx, userID)
	now := s.clock.Now()
	at, shift, err := due(in, now, loc)
	if err != nil {
		return Reminder{}, err
	}
	if !at.After(now) {
		layout := "Monday 2 January 15:04"
		if at.In(loc).Year() != now.In(loc).Year() {
			layout = "Monday 2 January 2006 15:04"
		}
		return Reminder{}, badInput("%s has passed: it is now %s", at.In(loc).Format(layout), now.In(loc).Format("Monday 2 January 15:04 MST"))
	}
	if at.Sub(now) > MaxAhead {
		return Reminder{}, badInput("a reminder can be set at most five years ahead")
	}
	pending, err := s.store.ListJobs(ctx, userID, schedule.Filter{Kinds: []string{KindReminder, KindWakeup},
		States: []schedule.State{schedule.Pending}, Limit: MaxPending + 1})
	if err != nil {
		return Reminder{}, err
	}
	if len(pending) >= MaxPending {
		return Reminder{}, badInput("you have %d reminders waiting, the most there can be; cancel some first", len(pending))
	}
	p, err := json.Marshal(payload{Text: text, Zone: loc.String(), Shift: shift})
	if err != nil {
		return Reminder{}, err
	}
	kind := KindReminder
	if in.Wake {
		kind = KindWakeup
	}
	j, err := s.sched.Add(ctx, schedule.Job{UserID: userID, Kind: kind, Due: at, Payload: p})
	if err != nil {
		return Reminder{}, err
	}
	return s.reminder(j, loc), nil
}

// reminder reads a job as a Reminder in loc.
func (s *Service) reminder(j schedule.Job, loc *time.Location) Reminder {
	var p payload
	_ = json.Unmarshal(j.Payload, &p) // a job written by this package; a bad one shows empty words
	return Reminder{ID: j.ID, Text: p.Text, Wake: j.Kind == KindWakeup, Due: j.Due, Local: localWords(j.Due, loc),
		Zone: loc.String(), Shift: p.Shift, State: j.State, Note: j.Note, CreatedAt: j.CreatedAt, FiredAt: j.FiredAt}
}

// localWords is t in loc as a person reads it.
func localWords(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("Monday 2 January 2006, 15:04 MST")
}

// Get returns one of the user's reminders.
func (s *Service) Get(ctx context.Context, userID, id string) (Reminder, error) {
	j, err := s.store.Job(ctx, userID, id)
	if err != nil {
		return Reminder{}, err
	}
	if j.Kind != KindReminder && j.Kind != KindWakeup {
		return Reminder{}, fmt.Errorf("reminder %s: %w", id, ErrNotFound)
	}
	return s.reminder(j, s.Location(ctx, userID)), nil
}

// List returns the user's reminders, soonest first: those still to fire,
// or with all, the fired, failed and cancelled ones too.
func (s *Service) List(ctx context.Context, userID string, all bool) ([]Reminder, error) {
	f := schedule.Filter{Kinds: []string{KindReminder, KindWakeup}, Limit: MaxPending}
	if !all {
		f.States = []schedule.State{schedule.Pending, schedule.Running}
	}
	js, err := s.store.ListJobs(ctx, userID, f)
	if err != nil {
		return nil, err
	}
	loc := s.Location(ctx, userID)
	out := make([]Reminder, 0, len(js))
	for _, j := range js {
		out = append(out, s.reminder(j, loc))
	}
	return out, nil
}

// Snooze moves a reminder d from now (DefaultSnooze when d is 0), whether
// it is waiting or has fired.
func (s *Service) Snooze(ctx context.Context, userID, id string, d time.Duration) (Reminder, error) {
	if d == 0 {
		d = DefaultSnooze
	}
	if d < time.Minute || d > MaxSnooze {
		return Reminder{}, badInput("a snooze is between one minute and seven days")
	}
	if _, err := s.Get(ctx, userID, id); err != nil {
		return Reminder{}, err
	}
	j, err := s.store.Reschedule(ctx, userID, id, s.clock.Now().Add(d), "snoozed")
	if err != nil {
		return Reminder{}, err
	}
	s.sched.Wake()
	return s.reminder(j, s.Location(ctx, userID)), nil
}

// Cancel cancels a reminder that has not fired.
func (s *Service) Cancel(ctx context.Context, userID, id string) (Reminder, error) {
	if _, err := s.Get(ctx, userID, id); err != nil {
		return Reminder{}, err
	}
	j, err := s.store.Cancel(ctx, userID, id, "cancelled", s.clock.Now())
	if err != nil {
		return Reminder{}, err
	}
	return s.reminder(j, s.Location(ctx, userID)), nil
}

// QuietHours returns the user's quiet hours.
func (s *Service) QuietHours(ctx context.Context, userID string) (schedule.QuietHours, error) {
	return s.store.QuietHours(ctx, userID)
}

// SetQuietHours sets the user's quiet hours ("22:00-07:00"; "off" clears).
func (s *Service) SetQuietHours(ctx context.Context, userID, spec string) (schedule.QuietHours, error) {
	q, err := schedule.ParseQuietHours(strings.TrimSpace(spec))
	if err != nil {
		return q, &InputError{Msg: err.Error()}
	}
	return q, s.store.SetQuietHours(ctx, userID, q)
}

// IsInput reports whether err is the user's to fix.
func IsInput(err error) bool {
	var in *InputError
	return errors.As(err, &in)
}
