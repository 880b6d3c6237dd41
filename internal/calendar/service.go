package calendar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/os1ai/os1/internal/clock"
)

// Sealer seals and opens secrets at rest (*secret.Box).
type Sealer interface {
	Seal(plaintext string) (string, error)
	Open(sealed string) (string, error)
}

// Syncer talks CalDAV for the service (caldavsync).
type Syncer interface {
	// Check signs in and finds the account's calendars, so a wrong
	// password or URL shows when the account is added.
	Check(ctx context.Context, a Account, password string) error
	// Sync brings the account's calendars and the server up to date with
	// each other.
	Sync(ctx context.Context, a Account, password string) (Report, error)
}

// Conflict is an event both sides changed since the last sync.
type Conflict struct {
	CalendarID string `json:"calendar_id"`
	UID        string `json:"uid"`
	Summary    string `json:"summary"`
	// CopyID is the event that keeps os1's edit, "" when the rule kept
	// the local edit as the event itself.
	CopyID string `json:"copy_id,omitempty"`
	Rule   string `json:"rule"`
}

// Report is what one sync did.
type Report struct {
	Calendars  int        `json:"calendars"`
	Pulled     int        `json:"pulled"`  // events created or changed here from the server
	Pushed     int        `json:"pushed"`  // events sent to the server
	Deleted    int        `json:"deleted"` // deletions applied, either way
	Conflicts  []Conflict `json:"conflicts,omitempty"`
	UsedTokens bool       `json:"used_sync_tokens,omitempty"`
	Errors     []string   `json:"errors,omitempty"` // events the server holds that os1 could not read
}

// Service is the calendar as the tools, the server and the CLI use it:
// the local calendar, events created, moved and cancelled (marked for the
// next sync on a synced calendar), ICS import and export, the agenda and
// free time, and CalDAV accounts with sealed passwords.
type Service struct {
	Store  Store
	Sealer Sealer
	Syncer Syncer // nil: no CalDAV
	Clock  clock.Clock
	IDs    clock.IDs
	Log    *slog.Logger
	// Every is the background sync period (0: DefaultEvery; negative:
	// only when asked).
	Every time.Duration
	// Feeds fetches subscriptions (nil: none); FeedEvery is how often they
	// are fetched in the background (0: DefaultFeedEvery; negative: only
	// when asked).
	Feeds     FeedFetcher
	FeedEvery time.Duration
	// OnChange is told after the user's events changed here or by a sync
	// (proactive meeting notices re-plan); nil: nobody. It must return
	// quickly.
	OnChange func(userID string)

	mu      sync.Mutex
	locks   map[string]*sync.Mutex // one sync at a time per account
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stopped bool
}

// DefaultEvery is how often every account syncs in the background.
const DefaultEvery = 15 * time.Minute

// Start syncs every user's accounts now and then every Every, and fetches
// every subscription now and then every FeedEvery, until Close.
func (s *Service) Start(ctx context.Context) error {
	every, feedEvery := s.Every, s.FeedEvery
	if every == 0 {
		every = DefaultEvery
	}
	if feedEvery == 0 {
		feedEvery = DefaultFeedEvery
	}
	if s.Syncer == nil {
		every = -1
	}
	if s.Feeds == nil {
		feedEvery = -1
	}
	if every < 0 && feedEvery < 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || s.cancel != nil {
		return nil
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	if every > 0 {
		s.loop(bg, every, s.syncAll)
	}
	if feedEvery > 0 {
		s.loop(bg, feedEvery, s.refreshAll)
	}
	return nil
}

// loop runs work now and then every d until bg ends.
func (s *Service) loop(bg context.Context, d time.Duration, work func(context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := s.Clock.NewTicker(d)
		defer t.Stop()
		for {
			work(bg)
			select {
			case <-bg.Done():
				return
			case <-t.C():
			}
		}
	}()
}

// Close stops the background sync and waits for a running one to stop.
func (s *Service) Close() error {
	s.mu.Lock()
	s.stopped = true
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Service) syncAll(ctx context.Context) {
	as, err := s.Store.AllAccounts(ctx)
	if err != nil {
		s.logger().Warn("calendar: list the accounts to sync", "err", err)
		return
	}
	for _, a := range as {
		if ctx.Err() != nil {
			return
		}
		if _, err := s.Sync(ctx, a.UserID, a.ID); err != nil && ctx.Err() == nil {
			s.logger().Warn("calendar: sync", "user", a.UserID, "account", a.ID, "err", err)
		}
	}
}

func (s *Service) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// lock takes the account's sync lock: a sync asked for while the
// background one runs waits for it.
func (s *Service) lock(accountID string) func() {
	s.mu.Lock()
	if s.locks == nil {
		s.locks = map[string]*sync.Mutex{}
	}
	m, ok := s.locks[accountID]
	if !ok {
		m = &sync.Mutex{}
		s.locks[accountID] = m
	}
	s.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// LocalName is the name of the calendar each user gets in os1.
const LocalName = "Personal"

// LocalCalendar is the user's calendar kept in os1, made on first use.
func (s *Service) LocalCalendar(ctx context.Context, userID string) (Calendar, error) {
	cals, err := s.Store.ListCalendars(ctx, userID)
	if err != nil {
		return Calendar{}, err
	}
	for _, c := range cals {
		if c.Local() {
			return c, nil
		}
	}
	c := Calendar{ID: s.IDs.NewID("cal"), UserID: userID, Name: LocalName, CreatedAt: s.Clock.Now()}
	if err := s.Store.CreateCalendar(ctx, c); err != nil {
		return Calendar{}, err
	}
	return c, nil
}

// writable is the user's calendar id (the local one for ""), refused when
// read-only.
func (s *Service) writable(ctx context.Context, userID, calendarID string) (Calendar, error) {
	if calendarID == "" {
		return s.LocalCalendar(ctx, userID)
	}
	c, err := s.Store.Calendar(ctx, userID, calendarID)
	if err != nil {
		return c, err
	}
	if c.Subscription() {
		return c, fmt.Errorf("the calendar %q is a subscription to %s, which os1 only reads: %w", c.Name, c.URL, ErrReadOnly)
	}
	if c.ReadOnly {
		return c, fmt.Errorf("the calendar %q: %w", c.Name, ErrReadOnly)
	}
	return c, nil
}

// ImportResult says what an import did.
type ImportResult struct {
	Imported int           `json:"imported"`
	Updated  int           `json:"updated"`
	Failed   []ImportError `json:"-"`
	Errors   []string      `json:"errors,omitempty"`
}

// Import reads an ICS file into a calendar ("" = the local one). An event
// whose UID is already there is replaced; each event that cannot be read
// is reported, and the others are all kept.
func (s *Service) Import(ctx context.Context, userID, calendarID string, r io.Reader) (ImportResult, error) {
	var res ImportResult
	cal, err := s.writable(ctx, userID, calendarID)
	if err != nil {
		return res, err
	}
	evs, bad, err := ParseICS(r)
	if err != nil {
		return res, err
	}
	res.Failed = bad
	for _, b := range bad {
		res.Errors = append(res.Errors, b.Error())
	}
	for _, e := range evs {
		old, err := s.Store.EventByUID(ctx, userID, cal.ID, e.UID)
		switch {
		case err == nil:
			e.ID, e.Href, e.ETag, e.CreatedAt = old.ID, old.Href, old.ETag, old.CreatedAt
			res.Updated++
		case errors.Is(err, ErrNotFound):
			e.ID, e.CreatedAt = s.IDs.NewID("ev"), s.Clock.Now()
			res.Imported++
		default:
			return res, err
		}
		e.UserID, e.CalendarID, e.UpdatedAt = userID, cal.ID, s.Clock.Now()
		e.LocalChange = !cal.Local()
		if err := s.Store.PutEvent(ctx, e); err != nil {
			return res, fmt.Errorf("import %q: %w", e.Summary, err)
		}
	}
	return res, s.changed(userID, nil)
}

// Export writes a calendar ("" = the local one) as an ICS file.
func (s *Service) Export(ctx context.Context, userID, calendarID string, w io.Writer) error {
	var cal Calendar
	var err error
	if calendarID == "" {
		cal, err = s.LocalCalendar(ctx, userID)
	} else {
		cal, err = s.Store.Calendar(ctx, userID, calendarID)
	}
	if err != nil {
		return err
	}
	evs, err := s.Store.ListEvents(ctx, userID, cal.ID, Range{}, false)
	if err != nil {
		return err
	}
	return WriteICS(w, cal.Name, evs, s.Clock.Now())
}

// Agenda is the user's occurrences in r across every calendar, read in loc.
func (s *Service) Agenda(ctx context.Context, userID string, r Range, loc *time.Location) ([]Occurrence, error) {
	evs, err := s.Store.ListEvents(ctx, userID, "", r, false)
	if err != nil {
		return nil, err
	}
	occ, errs := Agenda(evs, r, loc)
	for _, err := range errs {
		s.logger().Warn("calendar: an event could not be expanded", "user", userID, "err", err)
	}
	return occ, nil
}

// Busy reports whether an occurrence blocks time (not transparent, not
// declined by the user, not cancelled).
func (o Occurrence) Busy() bool {
	if o.Event.Status == StatusCancelled {
		return false
	}
	for _, x := range o.Event.Extra {
		if x.Name == "TRANSP" && strings.EqualFold(x.Value, "TRANSPARENT") {
			return false
		}
	}
	return true
}

// Hours bound the part of each day free time is looked for in.
type Hours struct{ From, To int } // 9, 18: 09:00–18:00

// FreeSlots are the spans of at least d in r, within hours of each day in
// loc, that no busy occurrence of the user touches; weekends are skipped
// unless weekends is true.
func (s *Service) FreeSlots(ctx context.Context, userID string, r Range, d time.Duration, h Hours, weekends bool, loc *time.Location) ([]Range, error) {
	occ, err := s.Agenda(ctx, userID, r, loc)
	if err != nil {
		return nil, err
	}
	return FreeSlots(occ, r, d, h, weekends, loc), nil
}

// FreeSlots computes free spans from occurrences (see Service.FreeSlots).
func FreeSlots(occ []Occurrence, r Range, d time.Duration, h Hours, weekends bool, loc *time.Location) []Range {
	if loc == nil {
		loc = time.UTC
	}
	var busy []Range
	for _, o := range occ {
		if o.Busy() {
			busy = append(busy, Range{From: o.Start, To: o.End})
		}
	}
	sort.Slice(busy, func(i, j int) bool { return busy[i].From.Before(busy[j].From) })
	var out []Range
	from := r.From.In(loc)
	for day := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc); day.Before(r.To); day = day.AddDate(0, 0, 1) {
		if !weekends && (day.Weekday() == time.Saturday || day.Weekday() == time.Sunday) {
			continue
		}
		ws := time.Date(day.Year(), day.Month(), day.Day(), h.From, 0, 0, 0, loc)
		we := time.Date(day.Year(), day.Month(), day.Day(), h.To, 0, 0, 0, loc)
		if ws.Before(r.From) {
			ws = r.From
		}
		if we.After(r.To) {
			we = r.To
		}
		cur := ws
		for _, b := range busy {
			if !b.To.After(cur) || !b.From.Before(we) {
				continue
			}
			if b.From.Sub(cur) >= d {
				out = append(out, Range{From: cur, To: b.From})
			}
			if b.To.After(cur) {
				cur = b.To
			}
		}
		if we.Sub(cur) >= d {
			out = append(out, Range{From: cur, To: we})
		}
	}
	return out
}

// EventInput is an event a user (or the companion, with approval) makes.
type EventInput struct {
	CalendarID  string   `json:"calendar_id,omitempty"` // "" = the local calendar
	Summary     string   `json:"summary"`
	Description string   `json:"description,omitempty"`
	Location    string   `json:"location,omitempty"`
	Start       When     `json:"start"`
	End         When     `json:"end"`
	RRule       string   `json:"rrule,omitempty"`
	Attendees   []Person `json:"attendees,omitempty"`
}

// InputError is a mistake in what the user asked; its text says what to fix.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Create makes an event; on a synced calendar it goes to the server at
// the next sync.
func (s *Service) Create(ctx context.Context, userID string, in EventInput) (Event, error) {
	cal, err := s.writable(ctx, userID, in.CalendarID)
	if err != nil {
		return Event{}, err
	}
	if strings.TrimSpace(in.Summary) == "" {
		return Event{}, &InputError{"The event needs a title."}
	}
	now := s.Clock.Now()
	e := Event{ID: s.IDs.NewID("ev"), UserID: userID, CalendarID: cal.ID, UID: s.IDs.NewID("os1") + "@os1",
		Summary: strings.TrimSpace(in.Summary), Description: in.Description, Location: in.Location,
		Start: in.Start, End: in.End, RRule: in.RRule, Attendees: in.Attendees,
		LocalChange: !cal.Local(), CreatedAt: now, UpdatedAt: now}
	if e.End.IsZero() {
		e.End = e.Start
		if e.Start.Kind == Date {
			e.End.Time = e.Start.Time.AddDate(0, 0, 1)
		} else {
			e.End.Time = e.Start.Time.Add(time.Hour)
		}
	}
	if e.RRule != "" {
		if _, err := e.rule(time.UTC); err != nil {
			return Event{}, &InputError{fmt.Sprintf("The repeat rule %q is not valid: %v.", e.RRule, err)}
		}
	}
	if err := e.Validate(); err != nil {
		return Event{}, &InputError{err.Error()}
	}
	return e, s.changed(userID, s.Store.PutEvent(ctx, e))
}

// Move gives an event (or, with occurrence set, one occurrence of a
// series) a new start, keeping its length unless end is given.
func (s *Service) Move(ctx context.Context, userID, eventID string, occurrence, start, end When) (Event, error) {
	e, err := s.Store.Event(ctx, userID, eventID)
	if err != nil {
		return e, err
	}
	if _, err := s.writable(ctx, userID, e.CalendarID); err != nil {
		return e, err
	}
	if end.IsZero() {
		end = start
		end.Time = start.Time.Add(e.Duration())
	}
	if occurrence.IsZero() || !e.Recurring() {
		e.Start, e.End = start, end
	} else {
		o := e
		o.Overrides, o.RRule, o.RDates, o.ExDates = nil, "", nil, nil
		o.ID, o.Href, o.ETag = "", "", ""
		o.RecurrenceID, o.Start, o.End = occurrence, start, end
		kept := e.Overrides[:0]
		for _, x := range e.Overrides {
			if !x.RecurrenceID.Equal(occurrence) {
				kept = append(kept, x)
			}
		}
		e.Overrides = append(kept, o)
	}
	if err := e.Validate(); err != nil {
		return e, &InputError{err.Error()}
	}
	return e, s.touch(ctx, e)
}

// Cancel removes an event (or one occurrence of a series, as an EXDATE).
// On a synced calendar the event stays as a tombstone until the server is
// told at the next sync.
func (s *Service) Cancel(ctx context.Context, userID, eventID string, occurrence When) (Event, error) {
	e, err := s.Store.Event(ctx, userID, eventID)
	if err != nil {
		return e, err
	}
	cal, err := s.writable(ctx, userID, e.CalendarID)
	if err != nil {
		return e, err
	}
	if !occurrence.IsZero() && e.Recurring() {
		e.ExDates = append(e.ExDates, occurrence)
		kept := e.Overrides[:0]
		for _, x := range e.Overrides {
			if !x.RecurrenceID.Equal(occurrence) {
				kept = append(kept, x)
			}
		}
		e.Overrides = kept
		return e, s.touch(ctx, e)
	}
	if cal.Local() || e.Href == "" {
		return e, s.changed(userID, s.Store.DeleteEvent(ctx, userID, e.ID))
	}
	e.Deleted = true
	return e, s.touch(ctx, e)
}

// Put stores e as it is (its SEQUENCE included) in its calendar ("" =
// the local one), which must be writable: an invitation sent or accepted.
// An event of the same UID already there is replaced; a synced calendar
// gets it at the next sync.
func (s *Service) Put(ctx context.Context, userID string, e Event) (Event, error) {
	cal, err := s.writable(ctx, userID, e.CalendarID)
	if err != nil {
		return e, err
	}
	if err := e.Validate(); err != nil {
		return e, &InputError{err.Error()}
	}
	now := s.Clock.Now()
	e.UserID, e.CalendarID, e.Deleted = userID, cal.ID, false
	switch old, err := s.Store.EventByUID(ctx, userID, cal.ID, e.UID); {
	case err == nil:
		e.ID, e.Href, e.ETag, e.CreatedAt = old.ID, old.Href, old.ETag, old.CreatedAt
		if e.Alarms == nil {
			e.Alarms = old.Alarms
		}
	case errors.Is(err, ErrNotFound):
		e.ID, e.Href, e.ETag, e.CreatedAt = s.IDs.NewID("ev"), "", "", now
	default:
		return e, err
	}
	e.LocalChange, e.UpdatedAt = !cal.Local(), now
	return e, s.changed(userID, s.Store.PutEvent(ctx, e))
}

// touch stores a local edit, marking it for the next sync.
func (s *Service) touch(ctx context.Context, e Event) error {
	cal, err := s.Store.Calendar(ctx, e.UserID, e.CalendarID)
	if err != nil {
		return err
	}
	e.LocalChange = !cal.Local()
	e.Sequence++
	e.UpdatedAt = s.Clock.Now()
	return s.changed(e.UserID, s.Store.PutEvent(ctx, e))
}

// changed tells OnChange of a change to the user's events that err says
// was made, and returns err.
func (s *Service) changed(userID string, err error) error {
	if err == nil && s.OnChange != nil {
		s.OnChange(userID)
	}
	return err
}

// AccountInput is what a user gives to connect a CalDAV account.
type AccountInput struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// AddAccount checks the input, signs in once (finding the calendars),
// seals the password and stores the account.
func (s *Service) AddAccount(ctx context.Context, userID string, in AccountInput) (Account, error) {
	u, err := url.Parse(strings.TrimSpace(in.URL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Account{}, &InputError{fmt.Sprintf("%q is not the address of a CalDAV server (https://…).", in.URL)}
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return Account{}, &InputError{fmt.Sprintf("The server at %s needs https: os1 sends passwords in the clear only to this machine.", u.Host)}
	}
	if in.Username == "" || in.Password == "" {
		return Account{}, &InputError{"The username and password are both needed."}
	}
	if s.Syncer == nil {
		return Account{}, errors.New("CalDAV is not available in this os1")
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = in.Username + "@" + u.Host
	}
	a := Account{ID: s.IDs.NewID("cala"), UserID: userID, Name: name, URL: u.String(), Username: in.Username, CreatedAt: s.Clock.Now()}
	if err := s.Syncer.Check(ctx, a, in.Password); err != nil {
		return Account{}, err
	}
	if a.Secret, err = s.Sealer.Seal(in.Password); err != nil {
		return Account{}, fmt.Errorf("seal the password: %w", err)
	}
	return a, s.Store.CreateAccount(ctx, a)
}

// Password is one of userID's accounts with its password opened, for the
// address books (contacts) its server keeps under the same sign-in.
func (s *Service) Password(ctx context.Context, userID, accountID string) (Account, string, error) {
	a, err := s.Store.Account(ctx, userID, accountID)
	if err != nil {
		return a, "", err
	}
	pw, err := s.Sealer.Open(a.Secret)
	if err != nil {
		return a, "", fmt.Errorf("the calendar account %q: its password cannot be read (was secret.key replaced?): %w", a.Name, err)
	}
	return a, pw, nil
}

func isLoopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}

// Sync syncs one account now, recording when and any error on it.
func (s *Service) Sync(ctx context.Context, userID, accountID string) (Report, error) {
	defer s.lock(accountID)()
	a, err := s.Store.Account(ctx, userID, accountID)
	if err != nil {
		return Report{}, err
	}
	if s.Syncer == nil {
		return Report{}, errors.New("CalDAV is not available in this os1")
	}
	pw, err := s.Sealer.Open(a.Secret)
	if err != nil {
		return Report{}, fmt.Errorf("the calendar account %q: its password cannot be read (was secret.key replaced?): %w", a.Name, err)
	}
	rep, err := s.Syncer.Sync(ctx, a, pw)
	if rep.Pulled+rep.Deleted > 0 || len(rep.Conflicts) > 0 {
		_ = s.changed(userID, nil)
	}
	a.LastSyncAt, a.LastError = s.Clock.Now(), ""
	if err != nil {
		a.LastError = err.Error()
	}
	if uerr := s.Store.UpdateAccount(context.WithoutCancel(ctx), a); uerr != nil && err == nil {
		err = uerr
	}
	return rep, err
}
