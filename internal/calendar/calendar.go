// Package calendar is the user's time: calendars (a local one per user,
// and those synced from CalDAV servers), events with their time zones,
// recurrence and overrides, ICS import and export, and the expansion of
// recurring events into the occurrences of a range.
//
// It keeps every time in the zone it was written in (a TZID, floating
// wall-clock time, or a date for all-day events) and converts only when
// asked, so a weekly 09:00 meeting in Europe/Berlin stays at 09:00 across
// DST. It must never drop an event silently: an import reports each event
// it could not read, and a sync conflict keeps both sides' edits.
//
// Backends of Store live in subpackages (sqlitecal), and pass caltest.
package calendar

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors the store and the sync return; test them with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	// ErrAuth is a server refusing the account's username or password.
	ErrAuth = errors.New("the server refused the username or password")
	// ErrReadOnly is a write to a calendar os1 may not change.
	ErrReadOnly = errors.New("the calendar is read-only")
)

// TimeKind is how a time was written.
type TimeKind string

const (
	// Zoned is an instant written in a time zone (TZID) or in UTC.
	Zoned TimeKind = "zoned"
	// Floating is a wall-clock time with no zone: 09:00 wherever the user is.
	Floating TimeKind = "floating"
	// Date is a whole day (all-day events).
	Date TimeKind = "date"
)

// When is an event's start, end, exception or recurrence id as written.
type When struct {
	Kind TimeKind `json:"kind"`
	// Time is, for Zoned, the instant in Zone; for Floating the wall clock
	// read as UTC; for Date midnight UTC of that date.
	Time time.Time `json:"time"`
	// Zone is the IANA name of a Zoned time ("UTC" for ...Z times).
	Zone string `json:"zone,omitempty"`
}

// At is a Zoned time at t in t's location.
func At(t time.Time) When {
	return When{Kind: Zoned, Time: t, Zone: t.Location().String()}
}

// Day is the all-day date of y, m, d.
func Day(y int, m time.Month, d int) When {
	return When{Kind: Date, Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// FloatingAt is the wall-clock time of t with its zone dropped.
func FloatingAt(t time.Time) When {
	return When{Kind: Floating, Time: time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)}
}

// IsZero reports whether w was never set.
func (w When) IsZero() bool { return w.Time.IsZero() }

// Location is the zone w's wall clock is read in: its own for Zoned times,
// loc (the user's) for floating times and dates.
func (w When) Location(loc *time.Location) *time.Location {
	if loc == nil {
		loc = time.UTC
	}
	if w.Kind == Zoned {
		if l, err := LoadZone(w.Zone); err == nil {
			return l
		}
		return time.UTC
	}
	return loc
}

// In is the instant w names for a user in loc: a Zoned time is its own
// instant; a floating time and a date are read as wall clock in loc.
func (w When) In(loc *time.Location) time.Time {
	l := w.Location(loc)
	if w.Kind == Zoned {
		return w.Time.In(l)
	}
	t := w.Time
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), l)
}

// Equal reports whether w and o are the same time written the same way.
func (w When) Equal(o When) bool {
	return w.Kind == o.Kind && w.Time.Equal(o.Time) && (w.Kind != Zoned || w.Zone == o.Zone)
}

// String is w as a person reads it (for errors and approval cards).
func (w When) String() string {
	switch w.Kind {
	case Date:
		return w.Time.Format("Mon 2 Jan 2006") + " (all day)"
	case Floating:
		return w.Time.Format("Mon 2 Jan 2006 15:04") + " (local time)"
	}
	return w.In(nil).Format("Mon 2 Jan 2006 15:04") + " " + w.Zone
}

// LoadZone loads an IANA zone; it also accepts the TZIDs some clients write
// with a prefix ("/mozilla.org/20070129_1/Europe/Berlin",
// "/citadel.org/…/Europe/Berlin") by trying the name's last two or three
// parts.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "UTC" || name == "Z" {
		return time.UTC, nil
	}
	if l, err := time.LoadLocation(name); err == nil {
		return l, nil
	}
	if l, ok := windowsZones[name]; ok {
		return time.LoadLocation(l)
	}
	parts := strings.FieldsFunc(name, func(r rune) bool { return r == '/' })
	for n := 3; n >= 2; n-- {
		if len(parts) >= n {
			if l, err := time.LoadLocation(strings.Join(parts[len(parts)-n:], "/")); err == nil {
				return l, nil
			}
		}
	}
	return nil, fmt.Errorf("unknown time zone %q", name)
}

// windowsZones are the Windows zone names Outlook and Exchange write as
// TZIDs, for the zones most users have.
var windowsZones = map[string]string{
	"W. Europe Standard Time":        "Europe/Berlin",
	"Romance Standard Time":          "Europe/Paris",
	"Central Europe Standard Time":   "Europe/Budapest",
	"GMT Standard Time":              "Europe/London",
	"Eastern Standard Time":          "America/New_York",
	"Central Standard Time":          "America/Chicago",
	"Mountain Standard Time":         "America/Denver",
	"Pacific Standard Time":          "America/Los_Angeles",
	"E. South America Standard Time": "America/Sao_Paulo",
	"Tokyo Standard Time":            "Asia/Tokyo",
	"India Standard Time":            "Asia/Kolkata",
	"AUS Eastern Standard Time":      "Australia/Sydney",
	"UTC":                            "UTC",
}

// Status of an event (STATUS).
const (
	StatusConfirmed = "CONFIRMED"
	StatusTentative = "TENTATIVE"
	StatusCancelled = "CANCELLED"
)

// Person is an organizer or attendee.
type Person struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
	// Status is the attendee's PARTSTAT (ACCEPTED, DECLINED, NEEDS-ACTION…).
	Status string `json:"status,omitempty"`
	Role   string `json:"role,omitempty"`
}

// Prop is an iCalendar property os1 does not model, kept so that an
// import, an export and a sync lose nothing (X- properties, alarms'
// neighbours, CATEGORIES…).
type Prop struct {
	Name   string              `json:"name"`
	Params map[string][]string `json:"params,omitempty"`
	Value  string              `json:"value"`
}

// Event is one calendar object: a single event, or a recurring series with
// its rule, exceptions and overridden occurrences.
type Event struct {
	ID          string `json:"id"`
	UserID      string `json:"user_id"`
	CalendarID  string `json:"calendar_id"`
	UID         string `json:"uid"`
	Summary     string `json:"summary"`
	Description string `json:"description,omitempty"`
	Location    string `json:"location,omitempty"`
	Start       When   `json:"start"`
	// End is exclusive (an all-day event on the 3rd ends on the 4th).
	End    When   `json:"end"`
	Status string `json:"status,omitempty"`
	// RRule is the RRULE value ("FREQ=WEEKLY;BYDAY=MO"), "" for one-offs.
	RRule   string `json:"rrule,omitempty"`
	RDates  []When `json:"rdates,omitempty"`
	ExDates []When `json:"exdates,omitempty"`
	// RecurrenceID is set on an override: the occurrence it replaces.
	RecurrenceID When `json:"recurrence_id,omitzero"`
	// Overrides are the series' overridden occurrences (RECURRENCE-ID).
	Overrides []Event  `json:"overrides,omitempty"`
	Organizer Person   `json:"organizer,omitzero"`
	Attendees []Person `json:"attendees,omitempty"`
	Sequence  int      `json:"sequence,omitempty"`
	Extra     []Prop   `json:"extra,omitempty"`
	// Alarms are the event's VALARM components as ICS text, kept whole.
	Alarms []string `json:"alarms,omitempty"`

	// Href and ETag say where a synced event lives on its server.
	Href string `json:"href,omitempty"`
	ETag string `json:"etag,omitempty"`
	// LocalChange: edited in os1 since the last sync (to be sent).
	LocalChange bool `json:"local_change,omitempty"`
	// Deleted: deleted in os1, the server not told yet (a tombstone;
	// listings leave it out).
	Deleted   bool      `json:"deleted,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Recurring reports whether e repeats.
func (e Event) Recurring() bool { return e.RRule != "" || len(e.RDates) > 0 }

// Duration is the length of one occurrence.
func (e Event) Duration() time.Duration {
	if e.End.IsZero() {
		if e.Start.Kind == Date {
			return 24 * time.Hour
		}
		return 0
	}
	return e.End.Time.Sub(e.Start.Time)
}

// Validate checks what every stored event must have.
func (e Event) Validate() error {
	switch {
	case e.UID == "":
		return fmt.Errorf("the event %q has no UID", e.Summary)
	case e.Start.IsZero():
		return fmt.Errorf("the event %q has no start", e.Summary)
	case !e.End.IsZero() && e.End.Kind != e.Start.Kind && (e.End.Kind == Date || e.Start.Kind == Date):
		return fmt.Errorf("the event %q mixes an all-day start with a timed end", e.Summary)
	case !e.End.IsZero() && e.End.In(time.UTC).Before(e.Start.In(time.UTC)):
		return fmt.Errorf("the event %q ends (%s) before it starts (%s)", e.Summary, e.End, e.Start)
	}
	if e.Start.Kind == Zoned {
		if _, err := LoadZone(e.Start.Zone); err != nil {
			return fmt.Errorf("the event %q: %w", e.Summary, err)
		}
	}
	return nil
}

// Calendar is one of a user's calendars.
type Calendar struct {
	ID     string `json:"id"`
	UserID string `json:"user_id"`
	// AccountID is the CalDAV account it syncs with; "" for the local one.
	AccountID   string `json:"account_id,omitempty"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Color       string `json:"color,omitempty"`
	ReadOnly    bool   `json:"read_only,omitempty"`
	// Href is the collection's path on the server.
	Href string `json:"href,omitempty"`
	// SyncToken (RFC 6578) and CTag (the collection's ETag) are where the
	// last sync left off.
	SyncToken string    `json:"-"`
	CTag      string    `json:"-"`
	CreatedAt time.Time `json:"created_at,omitzero"`

	// URL is, for a subscription, the .ics address it is fetched from
	// ("" for every other calendar). A subscription is read-only.
	URL string `json:"url,omitempty"`
	// FeedETag and FeedModified are the last fetch's validators, sent back
	// as If-None-Match and If-Modified-Since.
	FeedETag     string `json:"-"`
	FeedModified string `json:"-"`
	// FetchedAt is the last fetch that reached the server (a 304 too);
	// FetchError why the last one failed ("" when it did not).
	FetchedAt  time.Time `json:"fetched_at,omitzero"`
	FetchError string    `json:"fetch_error,omitempty"`
	// FeedErrors are the events of the last fetched file that could not
	// be read, one line each.
	FeedErrors []string `json:"feed_errors,omitempty"`
}

// Local reports whether the calendar lives only in os1 (neither synced
// with a CalDAV account nor fetched from a subscription).
func (c Calendar) Local() bool { return c.AccountID == "" && c.URL == "" }

// Subscription reports whether the calendar is a read-only ICS subscription.
func (c Calendar) Subscription() bool { return c.URL != "" }

// Account is a CalDAV account of a user.
type Account struct {
	ID       string `json:"id"`
	UserID   string `json:"user_id"`
	Name     string `json:"name"`
	URL      string `json:"url"`
	Username string `json:"username"`
	// Secret is the sealed password (secret.Box); never sent to a client.
	Secret     string    `json:"-"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	LastSyncAt time.Time `json:"last_sync_at,omitzero"`
	LastError  string    `json:"last_error,omitempty"`
}

// Range is a half-open span of time [From, To).
type Range struct{ From, To time.Time }

// overlaps reports whether the span [s, e) meets r (an instant, s == e,
// meets it when it lies inside).
func (r Range) overlaps(s, e time.Time) bool {
	if e.Equal(s) {
		return !s.Before(r.From) && s.Before(r.To)
	}
	return s.Before(r.To) && e.After(r.From)
}

// Calendars keeps a user's calendars.
type Calendars interface {
	CreateCalendar(ctx context.Context, c Calendar) error
	UpdateCalendar(ctx context.Context, c Calendar) error
	Calendar(ctx context.Context, userID, id string) (Calendar, error)
	ListCalendars(ctx context.Context, userID string) ([]Calendar, error)
	// DeleteCalendar deletes the calendar and its events.
	DeleteCalendar(ctx context.Context, userID, id string) error
	// AllSubscriptions lists every user's subscription calendars (the
	// background refresh's work).
	AllSubscriptions(ctx context.Context) ([]Calendar, error)
}

// Events keeps events, one row per calendar object (series and overrides).
type Events interface {
	// PutEvent creates or replaces the event with e's ID; the pair
	// (calendar, UID) is unique (ErrConflict).
	PutEvent(ctx context.Context, e Event) error
	Event(ctx context.Context, userID, id string) (Event, error)
	EventByUID(ctx context.Context, userID, calendarID, uid string) (Event, error)
	// ListEvents lists a calendar's events ("" = every calendar of the
	// user) that may have an occurrence in r (zero r: all), recurring ones
	// always; tombstones are left out unless withDeleted.
	ListEvents(ctx context.Context, userID, calendarID string, r Range, withDeleted bool) ([]Event, error)
	DeleteEvent(ctx context.Context, userID, id string) error
}

// Accounts keeps CalDAV accounts.
type Accounts interface {
	CreateAccount(ctx context.Context, a Account) error
	UpdateAccount(ctx context.Context, a Account) error
	Account(ctx context.Context, userID, id string) (Account, error)
	ListAccounts(ctx context.Context, userID string) ([]Account, error)
	// AllAccounts lists every user's accounts (the background sync's work).
	AllAccounts(ctx context.Context) ([]Account, error)
	// DeleteAccount deletes the account, its calendars and their events.
	DeleteAccount(ctx context.Context, userID, id string) error
}

// Store is everything the calendar keeps. Every method is scoped by user:
// another user's ids answer ErrNotFound.
type Store interface {
	Calendars
	Events
	Accounts
}
