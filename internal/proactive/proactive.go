// Package proactive is os1 speaking first on her own: a meeting about to
// start, an important email that just arrived, a follow-up she promised
// ("I'll ask you tomorrow how the interview went"), a birthday, a reminder
// (logged here; internal/reminders fires it), and, when the user opts in,
// a check-in after a long silence.
//
// It is event-driven, not a polling heartbeat: each trigger becomes one
// durable job of internal/schedule (kind "proactive") at the moment it
// matters — planned from the calendar when it changes and once a day
// (kind "proactive_plan"), from mail triage as mail arrives, from the
// followup_later tool. A job that fires passes the user's gates in order:
// the trigger muted, the moment gone (a meeting that started), quiet
// hours (shared with reminders: held until they end, or dropped when it
// would be stale by then), the daily budget (a count of messages and of
// model tokens, a hard cap). Then she speaks with Companion.Initiate and
// a reason saying why she wrote. Every message sent and every one held
// back goes to the user's log, with why.
//
// The package must never send the same message twice (the log's unique
// key is claimed before she speaks, so a restart or a second scheduler
// finds it sent), never go past a user's budget, and never let text from
// outside (an email, a calendar invitation) reach the model except as a
// cleaned one-line title: mail is named by its sender's address and id
// only, for the model to read through the mail tools, which quote it.
package proactive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/store"
)

// Trigger is why she may write.
type Trigger string

// The triggers.
const (
	TriggerMeeting  Trigger = "meeting"  // a meeting starts soon
	TriggerMail     Trigger = "mail"     // an important email arrived
	TriggerFollowup Trigger = "followup" // she promised to ask
	TriggerBirthday Trigger = "birthday" // someone's birthday today
	TriggerReminder Trigger = "reminder" // a reminder the user set fired (never counted)
	TriggerSilence  Trigger = "silence"  // a check-in after a long silence (opt-in)
)

// Triggers lists every trigger in the order Settings shows them.
var Triggers = []Trigger{TriggerMeeting, TriggerMail, TriggerFollowup, TriggerBirthday, TriggerReminder, TriggerSilence}

// Mutable are the triggers a user may mute: all but reminders, which the
// user set and cancels in Reminders.
var Mutable = []Trigger{TriggerMeeting, TriggerMail, TriggerFollowup, TriggerBirthday, TriggerSilence}

// Known reports whether t is a trigger.
func (t Trigger) Known() bool { return slices.Contains(Triggers, t) }

// The scheduler kinds of this package.
const (
	KindMessage = "proactive"      // one message to consider at its time
	KindPlan    = "proactive_plan" // a user's daily planning (meetings, birthdays)
)

// Defaults and bounds of Settings.
const (
	DefaultCount       = 3
	DefaultTokens      = 4000
	DefaultLead        = 10 // minutes
	DefaultSilenceDays = 3
	MaxCount           = 50
	MaxTokens          = 200000
	MaxLead            = 240
	MaxSilenceDays     = 60
	// Horizon is how far ahead meetings and birthdays are planned; the
	// daily plan runs every PlanEvery, so each is seen at least
	// Horizon-PlanEvery ahead.
	Horizon   = 36 * time.Hour
	PlanEvery = 24 * time.Hour
	// MailWindow: mail older than this when triaged is not news (a first
	// sync brings years of it).
	MailWindow = 24 * time.Hour
	// MailImportance is the importance (0..1) from which an email is worth
	// a word.
	MailImportance = 0.8
	// FollowupStale is how long after its time a follow-up held back (the
	// budget, quiet hours) may still be asked.
	FollowupStale = 48 * time.Hour
	// MaxFollowups bounds a user's waiting follow-ups.
	MaxFollowups = 200
	// MaxLog bounds one log listing.
	MaxLog = 500
)

// Settings are a user's rules for messages she starts.
type Settings struct {
	DailyCount  int       `json:"daily_count"`          // messages a day (reminders do not count)
	DailyTokens int       `json:"daily_tokens"`         // model tokens a day, a hard cap
	MeetingLead int       `json:"meeting_lead_minutes"` // how long before a meeting
	CheckIn     bool      `json:"check_in"`             // a check-in after a long silence
	SilenceDays int       `json:"silence_days"`         // how long a silence is
	Muted       []Trigger `json:"muted"`                // triggers she keeps quiet on
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
}

// Defaults are the settings of a user who never changed them.
func Defaults() Settings {
	return Settings{DailyCount: DefaultCount, DailyTokens: DefaultTokens, MeetingLead: DefaultLead,
		SilenceDays: DefaultSilenceDays, Muted: []Trigger{}}
}

// Validate says what is wrong with s, in words for the user.
func (s Settings) Validate() error {
	switch {
	case s.DailyCount < 0 || s.DailyCount > MaxCount:
		return badInput("messages a day is between 0 and %d", MaxCount)
	case s.DailyTokens < 0 || s.DailyTokens > MaxTokens:
		return badInput("tokens a day is between 0 and %d", MaxTokens)
	case s.MeetingLead < 1 || s.MeetingLead > MaxLead:
		return badInput("the meeting notice is between 1 and %d minutes ahead", MaxLead)
	case s.SilenceDays < 1 || s.SilenceDays > MaxSilenceDays:
		return badInput("a long silence is between 1 and %d days", MaxSilenceDays)
	}
	for _, t := range s.Muted {
		if !slices.Contains(Mutable, t) {
			return badInput("%q cannot be muted; these can: %s", t, joinTriggers())
		}
	}
	return nil
}

func joinTriggers() string {
	s := make([]string, len(Mutable))
	for i, t := range Mutable {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// IsMuted reports whether the user muted t.
func (s Settings) IsMuted(t Trigger) bool { return slices.Contains(s.Muted, t) }

// Outcome is what became of one message.
type Outcome string

// Outcomes.
const (
	Sent   Outcome = "sent"
	Held   Outcome = "held"   // held back; Hold says why
	Failed Outcome = "failed" // she could not start the turn
)

// Why a message was held back.
const (
	HoldBudget = "budget"
	HoldQuiet  = "quiet_hours"
	HoldMuted  = "muted"
	HoldStale  = "stale"
)

// Entry is one line of a user's log.
type Entry struct {
	ID      string  `json:"id"`
	UserID  string  `json:"-"`
	Trigger Trigger `json:"trigger"`
	Key     string  `json:"-"` // what makes it one message: a meeting's UID and start
	Reason  string  `json:"reason"`
	Outcome Outcome `json:"outcome"`
	Hold    string  `json:"hold,omitempty"`
	Note    string  `json:"note,omitempty"` // in words: "held for quiet hours until 07:00"
	// Counted: it counts against the daily budget (reminders do not).
	Counted        bool      `json:"counted"`
	Tokens         int       `json:"tokens"`
	ConversationID string    `json:"conversation_id,omitempty"`
	At             time.Time `json:"at"`
}

// Sentinel errors.
var (
	// ErrNotFound: no such user.
	ErrNotFound = errors.New("no such user")
	// ErrAlreadySent: a message with this key was sent to the user.
	ErrAlreadySent = errors.New("this message was already sent")
	// ErrOverCount: the user's messages today reached their daily count.
	ErrOverCount = errors.New("the daily count of messages is reached")
)

// InputError is a request the user can fix; Msg says how.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func badInput(format string, a ...any) error { return &InputError{Msg: fmt.Sprintf(format, a...)} }

// IsInput reports whether err is the user's to fix.
func IsInput(err error) bool {
	var in *InputError
	return errors.As(err, &in)
}

// Store keeps settings and the log. Every method is scoped by user.
type Store interface {
	// Settings returns the user's; Defaults() when never saved.
	Settings(ctx context.Context, userID string) (Settings, error)
	// SaveSettings replaces them; ErrNotFound for an unknown user.
	SaveSettings(ctx context.Context, userID string, s Settings) error
	// Claim adds e, a message about to be sent (Outcome Sent), in one
	// atomic step: ErrAlreadySent when the user was sent one with e.Key,
	// and, when e.Counted, ErrOverCount when the user's counted messages
	// at or after since are maxCount or more.
	Claim(ctx context.Context, e Entry, since time.Time, maxCount int) error
	// Add adds an entry as it is (a message held back).
	Add(ctx context.Context, e Entry) error
	// Finish records how a claimed message ended.
	Finish(ctx context.Context, userID, id string, o Outcome, note string, tokens int, conversationID string) error
	// Log lists the user's newest entries first, at most limit.
	Log(ctx context.Context, userID string, limit int) ([]Entry, error)
	// Usage is the user's counted messages sent at or after since, and
	// the tokens of every message sent then.
	Usage(ctx context.Context, userID string, since time.Time) (count, tokens int, err error)
	// LastUserMessage is when the user last wrote to her (zero: never).
	LastUserMessage(ctx context.Context, userID string) (time.Time, error)
}

// Profiles finds a user's time zone.
type Profiles interface {
	Profile(ctx context.Context, userID string) (store.Profile, error)
}

// Users lists the accounts, for the plan at start.
type Users interface {
	ListUsers(ctx context.Context) ([]store.User, error)
}

// Initiator starts a turn os1 speaks first, and stops one
// (companion.Companion).
type Initiator interface {
	Initiate(ctx context.Context, userID, conversationID, reason string) (iter.Seq[companion.Event], error)
	Cancel(ctx context.Context, userID, conversationID string) (bool, error)
}

// Calendar is the user's agenda (calendar.Service).
type Calendar interface {
	Agenda(ctx context.Context, userID string, r calendar.Range, loc *time.Location) ([]calendar.Occurrence, error)
}

// Birthday is someone's birthday: Date's month and day count (its year
// may be the year of birth, or absent as year 0 or 1).
type Birthday struct {
	Name string
	Date time.Time
}

// Birthdays finds the birthdays of the people a user knows that fall
// between from and to (the contacts package, adapted where os1 is wired).
type Birthdays interface {
	Birthdays(ctx context.Context, userID string, from, to time.Time) ([]Birthday, error)
}

// MeetingBriefs prepares what she knows of a meeting for the message
// that tells of it (briefing.Briefer: the brief reaches that turn's prompt).
type MeetingBriefs interface {
	PrepareMeeting(ctx context.Context, userID, eventID string, start time.Time) error
	DropMeeting(userID string) // the turn it was prepared for did not start
}

// Deps are what a Service is built from.
type Deps struct {
	Sched    *schedule.Scheduler
	Store    Store
	Profiles Profiles
	Users    Users // nil: no plan at start
	Clock    clock.Clock
	IDs      clock.IDs
	Log      *slog.Logger
}

// Service plans, gates, sends and logs proactive messages.
type Service struct {
	sched    *schedule.Scheduler
	jobs     schedule.Store
	store    Store
	profiles Profiles
	users    Users
	clock    clock.Clock
	ids      clock.IDs
	log      *slog.Logger

	// Set once before Start (the app builds the companion, calendar and
	// contacts around this service).
	Initiator Initiator
	Calendar  Calendar      // nil: no meeting notices
	Birthdays Birthdays     // nil: no birthdays
	Briefs    MeetingBriefs // nil: meeting notices go without a brief
	// Notify tells the user's other ways (Web Push to closed browsers) of
	// a message she started, with its reason; nil: none. Called after the
	// turn started; it must not fail the message.
	Notify func(ctx context.Context, userID, reason string)

	mu     sync.Mutex
	spent  map[string]*spent // tokens today per user, as this process counts them
	replan map[string]bool   // users whose plan was asked for and has not started
	// writing holds a channel per user while a message of theirs is
	// written, closed when it ends.
	writing map[string]chan struct{}
	behind  atomic.Int64 // plans running outside the scheduler (planBehind)
	planMu  sync.Mutex   // one plan at a time
	bg      context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// spent is a user's tokens of the day that starts at since: those stored
// when first read, plus every token of a turn this process followed.
type spent struct {
	since  time.Time
	tokens int
}

// New returns the service and registers its kinds on d.Sched (before it
// starts).
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.IDs == nil {
		d.IDs = clock.RandomIDs{}
	}
	bg, cancel := context.WithCancel(context.Background())
	s := &Service{sched: d.Sched, jobs: d.Sched.Store(), store: d.Store, profiles: d.Profiles, users: d.Users,
		clock: d.Clock, ids: d.IDs, log: d.Log, spent: map[string]*spent{}, replan: map[string]bool{}, writing: map[string]chan struct{}{}, bg: bg, cancel: cancel}
	// A message missed while os1 was down still fires late: its own
	// staleness decides (a meeting that started is dropped, a follow-up
	// is still asked).
	d.Sched.Handle(KindMessage, schedule.Kind{Handler: s.fire, Missed: schedule.FireLate})
	d.Sched.Handle(KindPlan, schedule.Kind{Handler: s.plan, Missed: schedule.FireLate})
	return s
}

// Start plans every user's coming day (in the scheduler, one job each).
func (s *Service) Start(ctx context.Context) error {
	if s.users == nil {
		return nil
	}
	us, err := s.users.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("proactive: list the users to plan for: %w", err)
	}
	for _, u := range us {
		if err := s.planSoon(ctx, u.ID); err != nil {
			s.log.Warn("proactive: plan", "user", u.ID, "err", err)
		}
	}
	return nil
}

// Close stops following turns (their messages are already stored by the
// companion) and waits for the followers.
func (s *Service) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

// Location is the user's zone.
func (s *Service) Location(ctx context.Context, userID string) *time.Location {
	p, err := s.profiles.Profile(ctx, userID)
	if err != nil {
		return store.Profile{}.Location()
	}
	return p.Location()
}

// dayStart is the start of t's day in loc.
func dayStart(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	d, _ := schedule.Local(l.Year(), l.Month(), l.Day(), 0, 0, loc)
	return d
}

// nextDay is the start of the day after t's in loc.
func nextDay(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc).AddDate(0, 0, 1)
	d, _ := schedule.Local(l.Year(), l.Month(), l.Day(), 0, 0, loc)
	return d
}

// jobID is the job of one message: the same user and key always make the
// same job, so planning twice schedules once.
func jobID(userID, key string) string {
	h := sha256.Sum256([]byte(userID + "\x00" + key))
	return "pro_" + hex.EncodeToString(h[:12])
}

// clip cuts s to n characters with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// later is the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
