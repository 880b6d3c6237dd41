package calendar

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"
)

// Subscriptions: read-only calendars fetched from an .ics address (a
// holidays calendar, a team's published calendar). The file is fetched
// when the subscription is added, then every FeedEvery in the background
// and whenever the user asks, with the last ETag and Last-Modified so an
// unchanged file costs a 304. Each fetch makes the calendar's events the
// file's: new UIDs added, changed ones replaced, gone ones removed. An
// event the file holds that cannot be read is listed on the calendar
// (FeedErrors); the others are kept. os1 never writes to a subscription.

// FeedVersion is what a fetch of a feed returned last, sent back so that
// an unchanged file is not sent again.
type FeedVersion struct {
	ETag         string
	LastModified string
}

// Feed is one fetch's answer: NotModified (304), or the file's body.
type Feed struct {
	NotModified bool
	Body        []byte
	Version     FeedVersion
}

// FeedFetcher fetches subscriptions' files (icsfeed): over HTTP(S), from
// public addresses only, with a size cap.
type FeedFetcher interface {
	Fetch(ctx context.Context, url string, since FeedVersion) (Feed, error)
}

// DefaultFeedEvery is how often subscriptions are fetched in the background.
const DefaultFeedEvery = 6 * time.Hour

// Bounds on what one user's subscriptions may cost the server.
const (
	// MaxSubscriptions is how many subscriptions one user may have.
	MaxSubscriptions = 25
	// MaxFeedEvents is how many events one subscription's file may hold.
	MaxFeedEvents = 20000
)

// SubscriptionInput is what a user gives to subscribe to a calendar.
type SubscriptionInput struct {
	URL  string `json:"url"`
	Name string `json:"name,omitempty"`
}

// FeedReport is what one fetch of a subscription did.
type FeedReport struct {
	NotModified bool `json:"not_modified,omitempty"`
	Added       int  `json:"added"`
	Updated     int  `json:"updated"`
	Removed     int  `json:"removed"`
	// Errors are the file's events that could not be read, one line each.
	Errors []string `json:"errors,omitempty"`
}

// feedURL checks a subscription's address: http or https (webcal://, as
// calendar sites publish them, is https), a host, no password in it.
func feedURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return "", &InputError{fmt.Sprintf("%q is not an address of a calendar file (https://…/calendar.ics).", raw)}
	}
	switch strings.ToLower(u.Scheme) {
	case "webcal", "webcals":
		u.Scheme = "https"
	case "http", "https":
		u.Scheme = strings.ToLower(u.Scheme)
	default:
		return "", &InputError{fmt.Sprintf("%q is not an address of a calendar file (https://…/calendar.ics).", raw)}
	}
	if u.Host == "" {
		return "", &InputError{fmt.Sprintf("%q has no server name.", raw)}
	}
	if u.User != nil {
		return "", &InputError{"os1 does not keep passwords in a subscription's address; use a CalDAV account for a calendar that needs one."}
	}
	u.Fragment = ""
	return u.String(), nil
}

// feedName is a subscription's default name: the file's name without
// .ics, or its host.
func feedName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	base := strings.TrimSuffix(path.Base(u.Path), ".ics")
	if base == "" || base == "." || base == "/" || strings.EqualFold(base, "basic") || strings.EqualFold(base, "calendar") {
		return u.Hostname()
	}
	return base
}

// Subscribe adds a read-only calendar fetched from in.URL. The file is
// fetched at once: an address that cannot be fetched, or that holds no
// calendar, is refused and nothing is kept.
func (s *Service) Subscribe(ctx context.Context, userID string, in SubscriptionInput) (Calendar, FeedReport, error) {
	if s.Feeds == nil {
		return Calendar{}, FeedReport{}, errors.New("calendar subscriptions are not available in this os1")
	}
	u, err := feedURL(in.URL)
	if err != nil {
		return Calendar{}, FeedReport{}, err
	}
	cals, err := s.Store.ListCalendars(ctx, userID)
	if err != nil {
		return Calendar{}, FeedReport{}, err
	}
	n := 0
	for _, c := range cals {
		if c.URL == u {
			return c, FeedReport{}, fmt.Errorf("you are already subscribed to %s (%q): %w", u, c.Name, ErrConflict)
		}
		if c.Subscription() {
			n++
		}
	}
	if n >= MaxSubscriptions {
		return Calendar{}, FeedReport{}, &InputError{fmt.Sprintf("You have %d subscriptions, the most os1 keeps; remove one first.", n)}
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = feedName(u)
	}
	feed, err := s.Feeds.Fetch(ctx, u, FeedVersion{})
	if err != nil {
		return Calendar{}, FeedReport{}, &InputError{fmt.Sprintf("Could not fetch %s: %v.", u, err)}
	}
	if err := checkFeed(feed.Body); err != nil {
		return Calendar{}, FeedReport{}, &InputError{fmt.Sprintf("%s: %v.", u, err)}
	}
	c := Calendar{ID: s.IDs.NewID("cal"), UserID: userID, Name: name, ReadOnly: true, URL: u, CreatedAt: s.Clock.Now()}
	if err := s.Store.CreateCalendar(ctx, c); err != nil {
		return Calendar{}, FeedReport{}, err
	}
	rep, err := s.apply(ctx, &c, feed)
	if err != nil {
		_ = s.Store.DeleteCalendar(context.WithoutCancel(ctx), userID, c.ID)
		return Calendar{}, FeedReport{}, err
	}
	return c, rep, nil
}

// Subscriptions lists the user's subscriptions.
func (s *Service) Subscriptions(ctx context.Context, userID string) ([]Calendar, error) {
	cals, err := s.Store.ListCalendars(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := []Calendar{}
	for _, c := range cals {
		if c.Subscription() {
			out = append(out, c)
		}
	}
	return out, nil
}

// subscription is the user's subscription calendarID (ErrNotFound for
// any other calendar).
func (s *Service) subscription(ctx context.Context, userID, calendarID string) (Calendar, error) {
	c, err := s.Store.Calendar(ctx, userID, calendarID)
	if err != nil {
		return c, err
	}
	if !c.Subscription() {
		return c, fmt.Errorf("the calendar %q is not a subscription: %w", c.Name, ErrNotFound)
	}
	return c, nil
}

// Unsubscribe removes a subscription and its events.
func (s *Service) Unsubscribe(ctx context.Context, userID, calendarID string) error {
	c, err := s.subscription(ctx, userID, calendarID)
	if err != nil {
		return err
	}
	defer s.lock("feed:" + c.ID)()
	return s.Store.DeleteCalendar(ctx, userID, c.ID)
}

// Refresh fetches a subscription now (a 304 when the file did not
// change), recording when, and any error, on the calendar.
func (s *Service) Refresh(ctx context.Context, userID, calendarID string) (FeedReport, error) {
	if s.Feeds == nil {
		return FeedReport{}, errors.New("calendar subscriptions are not available in this os1")
	}
	if _, err := s.subscription(ctx, userID, calendarID); err != nil {
		return FeedReport{}, err // no lock is made for another user's id
	}
	defer s.lock("feed:" + calendarID)()
	c, err := s.subscription(ctx, userID, calendarID) // again, under the lock: the last fetch's validators
	if err != nil {
		return FeedReport{}, err
	}
	feed, err := s.Feeds.Fetch(ctx, c.URL, FeedVersion{ETag: c.FeedETag, LastModified: c.FeedModified})
	if err == nil && !feed.NotModified {
		if err = checkFeed(feed.Body); err != nil {
			err = fmt.Errorf("the file at %s: %w", c.URL, err)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return FeedReport{}, err
		}
		c.FetchError = err.Error()
		if uerr := s.Store.UpdateCalendar(context.WithoutCancel(ctx), c); uerr != nil {
			s.logger().Warn("calendar: record a failed fetch", "calendar", c.ID, "err", uerr)
		}
		return FeedReport{}, err
	}
	if feed.NotModified {
		c.FetchedAt, c.FetchError = s.Clock.Now(), ""
		return FeedReport{NotModified: true, Errors: c.FeedErrors}, s.Store.UpdateCalendar(ctx, c)
	}
	return s.apply(ctx, &c, feed)
}

// checkFeed refuses a file that is no calendar, or holds more than
// MaxFeedEvents events.
func checkFeed(body []byte) error {
	evs, bad, err := ParseICS(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("it is not a calendar file: %w", err)
	}
	if n := len(evs) + len(bad); n > MaxFeedEvents {
		return fmt.Errorf("it holds %d events, more than the %d os1 takes from a subscription", n, MaxFeedEvents)
	}
	return nil
}

// apply makes c's events the feed's and records the fetch on c.
func (s *Service) apply(ctx context.Context, c *Calendar, feed Feed) (FeedReport, error) {
	var rep FeedReport
	evs, bad, err := ParseICS(bytes.NewReader(feed.Body))
	if err != nil {
		return rep, err
	}
	for _, b := range bad {
		rep.Errors = append(rep.Errors, b.Error())
	}
	old, err := s.Store.ListEvents(ctx, c.UserID, c.ID, Range{}, true)
	if err != nil {
		return rep, err
	}
	byUID := make(map[string]Event, len(old))
	for _, e := range old {
		byUID[e.UID] = e
	}
	now := s.Clock.Now()
	for _, e := range evs {
		o, had := byUID[e.UID]
		if had {
			delete(byUID, e.UID)
			e.ID, e.CreatedAt = o.ID, o.CreatedAt
		} else {
			e.ID, e.CreatedAt = s.IDs.NewID("ev"), now
		}
		e.UserID, e.CalendarID, e.UpdatedAt = c.UserID, c.ID, now
		e.LocalChange, e.Deleted = false, false
		if err := s.Store.PutEvent(ctx, e); err != nil {
			// An event the store refuses is that event's problem alone.
			rep.Errors = append(rep.Errors, fmt.Sprintf("%q: %v", e.Summary, err))
			continue
		}
		if had {
			rep.Updated++
		} else {
			rep.Added++
		}
	}
	for _, e := range byUID {
		if err := s.Store.DeleteEvent(ctx, c.UserID, e.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return rep, err
		}
		rep.Removed++
	}
	c.FeedETag, c.FeedModified = feed.Version.ETag, feed.Version.LastModified
	c.FetchedAt, c.FetchError, c.FeedErrors = now, "", rep.Errors
	return rep, s.Store.UpdateCalendar(ctx, *c)
}

// refreshAll fetches every user's subscriptions (the background's work).
func (s *Service) refreshAll(ctx context.Context) {
	cals, err := s.Store.AllSubscriptions(ctx)
	if err != nil {
		s.logger().Warn("calendar: list the subscriptions to fetch", "err", err)
		return
	}
	for _, c := range cals {
		if ctx.Err() != nil {
			return
		}
		if _, err := s.Refresh(ctx, c.UserID, c.ID); err != nil && ctx.Err() == nil {
			s.logger().Warn("calendar: fetch a subscription", "user", c.UserID, "calendar", c.ID, "err", err)
		}
	}
}
