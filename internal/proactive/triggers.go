package proactive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/textsafe"
)

// NewMail is a triaged email, as mail triage tells of it: no subject and
// no body, which are the sender's words (the model reads the email by its
// ID through the mail tools, which quote it).
type NewMail struct {
	ID         string    // os1's id of the message
	From       string    // the sender's address
	Category   string    // triage's category ("needs_reply")
	Importance float64   // triage's importance, 0..1
	Date       time.Time // when it was sent
	Archived   bool      // a rule of the user's moved it out of the inbox
}

// quietCategories are never worth speaking first for.
var quietCategories = map[string]bool{"spam": true, "newsletter": true, "receipt": true, "notification": true}

// MailTriaged considers an email triage just decided on: new (sent within
// MailWindow), important (MailImportance or more), in a category that can
// matter and still in the inbox, it becomes a message now. Mail triaged
// again is the same message (its key is the email's id).
func (s *Service) MailTriaged(ctx context.Context, userID string, m NewMail) error {
	now := s.clock.Now()
	if m.ID == "" || m.Importance < MailImportance || m.Archived || quietCategories[m.Category] ||
		m.Date.IsZero() || now.Sub(m.Date) > MailWindow {
		return nil
	}
	from := clip(textsafe.CleanTitle(m.From), 80)
	why := "An important email arrived"
	if from != "" {
		why += " from " + from
	}
	if c := strings.ReplaceAll(m.Category, "_", " "); c != "" {
		why += " (" + clip(textsafe.CleanTitle(c), 30) + ")"
	}
	why += "; its id is " + clip(textsafe.CleanTitle(m.ID), 60)
	p := payload{Trigger: TriggerMail, Key: "mail:" + m.ID, Reason: why, Stale: now.Add(6 * time.Hour),
		StaleWhy: "the email was hours old"}
	return s.put(ctx, userID, p, now)
}

// ReminderSent logs a reminder that fired (internal/reminders sends it:
// the user asked for it, so it never counts against the budget).
func (s *Service) ReminderSent(ctx context.Context, userID, reminderID, line string, due time.Time) error {
	e := Entry{ID: s.ids.NewID("pro_"), UserID: userID, Trigger: TriggerReminder,
		Key:    "reminder:" + reminderID + "@" + due.UTC().Format(time.RFC3339),
		Reason: clip(textsafe.CleanTitle(line), companion.MaxReasonChars), Outcome: Sent, At: s.clock.Now()}
	if err := s.store.Claim(ctx, e, time.Time{}, 0); err != nil && !errors.Is(err, ErrAlreadySent) {
		return err
	}
	return nil
}

// FollowupInput is a follow-up she promised: what to ask and when.
type FollowupInput struct {
	Text      string `json:"text"`
	At        string `json:"at,omitempty"` // local wall clock "2026-12-06T18:00", or RFC 3339
	InMinutes int    `json:"in_minutes,omitempty"`
}

// Followup is a scheduled follow-up.
type Followup struct {
	ID    string    `json:"id"`
	Text  string    `json:"text"`
	Due   time.Time `json:"due"`
	Local string    `json:"local"`
}

// MaxFollowupChars bounds what a follow-up asks.
const MaxFollowupChars = 300

var localLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"}

// AddFollowup schedules her asking later.
func (s *Service) AddFollowup(ctx context.Context, userID string, in FollowupInput) (Followup, error) {
	text := textsafe.CleanTitle(in.Text)
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return Followup{}, badInput("say what to ask about")
	case n > MaxFollowupChars:
		return Followup{}, badInput("a follow-up is at most %d characters", MaxFollowupChars)
	}
	loc := s.Location(ctx, userID)
	now := s.clock.Now()
	var due time.Time
	at := strings.TrimSpace(in.At)
	switch {
	case in.InMinutes > 0 && at == "":
		due = now.Add(time.Duration(in.InMinutes) * time.Minute)
	case at != "" && in.InMinutes == 0:
		if t, err := time.Parse(time.RFC3339, at); err == nil {
			due = t
			break
		}
		for _, l := range localLayouts {
			if w, err := time.Parse(l, at); err == nil {
				due, _ = schedule.Local(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), loc)
				break
			}
		}
		if due.IsZero() {
			return Followup{}, badInput("%q is not a time: write it as 2026-12-06T18:00 (local)", at)
		}
	default:
		return Followup{}, badInput("say when: at (a local time such as 2026-12-06T18:00) or in_minutes, one of the two")
	}
	if !due.After(now) {
		return Followup{}, badInput("%s has passed: it is now %s", due.In(loc).Format("Monday 2 January 15:04"), now.In(loc).Format("Monday 2 January 15:04 MST"))
	}
	if due.Sub(now) > 366*24*time.Hour {
		return Followup{}, badInput("a follow-up can be at most a year ahead")
	}
	waiting, err := s.jobs.ListJobs(ctx, userID, schedule.Filter{Kinds: []string{KindMessage},
		States: []schedule.State{schedule.Pending}, Limit: schedule.MaxLimit})
	if err != nil {
		return Followup{}, err
	}
	n := 0
	for _, j := range waiting {
		var p payload
		if json.Unmarshal(j.Payload, &p) == nil && p.Trigger == TriggerFollowup {
			n++
		}
	}
	if n >= MaxFollowups {
		return Followup{}, badInput("%d follow-ups are waiting, the most there can be", n)
	}
	key := s.ids.NewID("followup:")
	p := payload{Trigger: TriggerFollowup, Key: key, Reason: "I said I would ask you: “" + text + "”",
		Stale: due.Add(FollowupStale), StaleWhy: "it was two days past its time"}
	if err := s.put(ctx, userID, p, due); err != nil {
		return Followup{}, err
	}
	return Followup{ID: jobID(userID, key), Text: text, Due: due, Local: due.In(loc).Format("Monday 2 January 2006, 15:04 MST")}, nil
}

// Tools are the companion's proactive tools, registered with
// Registry.RegisterFrom("followup", …): followup_later.
//
// It does not wait for approval: she only promises to speak to the same
// user later, within the user's budget, quiet hours and mutes, and the
// answer gives the exact time for her to repeat.
func (s *Service) Tools() []companion.Tool {
	return []companion.Tool{{
		Name: "later",
		Description: "Promise to ask the user about something later (\"how did the interview go?\"): os1 will start a " +
			"conversation at that time, saying why. Use it when you tell the user you will ask or check in later. Give " +
			"`at` as a local date and time in the user's time zone (e.g. 2026-12-06T18:00) or `in_minutes`.",
		Parameters: json.RawMessage(`{"type":"object","properties":{` +
			`"text":{"type":"string","description":"what you will ask, e.g. how did the interview go?"},` +
			`"at":{"type":"string","description":"local date and time, YYYY-MM-DDTHH:MM"},` +
			`"in_minutes":{"type":"integer","description":"minutes from now, instead of at"}},"required":["text"]}`),
		Run: func(ctx context.Context, c companion.Call) (string, error) {
			var in FollowupInput
			if err := json.Unmarshal(c.Args, &in); err != nil {
				return "", fmt.Errorf("arguments are not valid JSON: %w", err)
			}
			f, err := s.AddFollowup(ctx, c.UserID, in)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Follow-up set for %s: you will ask “%s”. It waits for quiet hours and the daily limit of messages the user set.", f.Local, f.Text), nil
		},
	}}
}

// View is a user's settings as Settings shows them, with the quiet hours
// (shared with reminders) and what today used.
type View struct {
	Settings
	QuietHours  string    `json:"quiet_hours"`
	Triggers    []Trigger `json:"triggers"` // those that can be muted
	SentToday   int       `json:"sent_today"`
	TokensToday int       `json:"tokens_today"`
}

// Get returns the user's settings.
func (s *Service) Get(ctx context.Context, userID string) (View, error) {
	set, err := s.store.Settings(ctx, userID)
	if err != nil {
		return View{}, err
	}
	q, err := s.jobs.QuietHours(ctx, userID)
	if err != nil {
		return View{}, err
	}
	since := dayStart(s.clock.Now(), s.Location(ctx, userID))
	n, tokens, err := s.store.Usage(ctx, userID, since)
	if err != nil {
		return View{}, err
	}
	if live := s.tokensToday(ctx, userID, since); live > tokens {
		tokens = live // a message still being written
	}
	if set.Muted == nil {
		set.Muted = []Trigger{}
	}
	return View{Settings: set, QuietHours: q.String(), Triggers: Mutable, SentToday: n, TokensToday: tokens}, nil
}

// Input changes settings: fields left out stay as they are.
type Input struct {
	DailyCount  *int       `json:"daily_count"`
	DailyTokens *int       `json:"daily_tokens"`
	MeetingLead *int       `json:"meeting_lead_minutes"`
	CheckIn     *bool      `json:"check_in"`
	SilenceDays *int       `json:"silence_days"`
	Muted       *[]Trigger `json:"muted"`
	QuietHours  *string    `json:"quiet_hours"` // "22:00-07:00", "off"
}

// Update changes the user's settings and re-plans what they change.
func (s *Service) Update(ctx context.Context, userID string, in Input) (View, error) {
	set, err := s.store.Settings(ctx, userID)
	if err != nil {
		return View{}, err
	}
	for _, f := range []struct {
		p *int
		v *int
	}{{in.DailyCount, &set.DailyCount}, {in.DailyTokens, &set.DailyTokens}, {in.MeetingLead, &set.MeetingLead}, {in.SilenceDays, &set.SilenceDays}} {
		if f.p != nil {
			*f.v = *f.p
		}
	}
	if in.CheckIn != nil {
		set.CheckIn = *in.CheckIn
	}
	if in.Muted != nil {
		set.Muted = []Trigger{}
		for _, t := range *in.Muted {
			if !set.IsMuted(t) {
				set.Muted = append(set.Muted, t)
			}
		}
	}
	if err := set.Validate(); err != nil {
		return View{}, err
	}
	var q schedule.QuietHours
	if in.QuietHours != nil {
		if q, err = schedule.ParseQuietHours(strings.TrimSpace(*in.QuietHours)); err != nil {
			return View{}, &InputError{Msg: err.Error()}
		}
	}
	set.UpdatedAt = s.clock.Now()
	if err := s.store.SaveSettings(ctx, userID, set); err != nil {
		return View{}, err
	}
	if in.QuietHours != nil {
		if err := s.jobs.SetQuietHours(ctx, userID, q); err != nil {
			return View{}, err
		}
	}
	if err := s.planSoon(ctx, userID); err != nil {
		s.log.Warn("proactive: re-plan after new settings", "user", userID, "err", err)
	}
	return s.Get(ctx, userID)
}

// Log lists what she sent and held back, newest first (limit 0: 100).
func (s *Service) Log(ctx context.Context, userID string, limit int) ([]Entry, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.store.Log(ctx, userID, min(limit, MaxLog))
}
