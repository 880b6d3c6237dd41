package contacts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/memory"
)

// Entities is what the service reads of memory's people (memory.Store).
type Entities interface {
	Entities(ctx context.Context, userID string) ([]memory.Entity, error)
}

// Account is a DAV account's sign-in, opened for a sync: the calendar
// accounts' servers keep the address books too.
type Account struct {
	ID, Name, URL, Username, Password string
}

// Accounts lists a user's DAV accounts with their passwords (the calendar
// service, in app).
type Accounts interface {
	DAVAccounts(ctx context.Context, userID string) ([]Account, error)
	// DAVUsers lists the users who have an account (the background sync).
	DAVUsers(ctx context.Context) ([]string, error)
}

// Syncer syncs one account's address books with the user's contacts
// (carddavsync).
type Syncer interface {
	Sync(ctx context.Context, userID string, a Account) (Report, error)
}

// Report is what a sync did.
type Report struct {
	Accounts  int      `json:"accounts"`
	Books     int      `json:"books"`
	Pulled    int      `json:"pulled"`  // cards created or changed here from a server
	Pushed    int      `json:"pushed"`  // os1's edits sent to a server
	Deleted   int      `json:"deleted"` // deletions applied, either way
	Conflicts []string `json:"conflicts,omitempty"`
	Errors    []string `json:"errors,omitempty"` // cards or accounts that could not be synced
}

// Add sums two reports.
func (r *Report) Add(o Report) {
	r.Accounts += o.Accounts
	r.Books += o.Books
	r.Pulled += o.Pulled
	r.Pushed += o.Pushed
	r.Deleted += o.Deleted
	r.Conflicts = append(r.Conflicts, o.Conflicts...)
	r.Errors = append(r.Errors, o.Errors...)
}

// Service is the contacts as the tool, the server and the CLI use them.
type Service struct {
	Store    Store
	Entities Entities // nil: no memory people
	Accounts Accounts // nil: no CardDAV
	Syncer   Syncer   // nil: no CardDAV
	Clock    clock.Clock
	IDs      clock.IDs
	Log      *slog.Logger

	// Every is the background sync period (0: DefaultEvery; negative:
	// only when asked).
	Every time.Duration

	mu      sync.Mutex
	locks   map[string]*sync.Mutex // one sync at a time per user
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stopped bool
}

// DefaultEvery is how often every user's address books sync in the
// background (as the calendars do).
const DefaultEvery = 15 * time.Minute

// Start syncs every user's address books now and then every Every, until
// Close. Without CardDAV it does nothing.
func (s *Service) Start(ctx context.Context) error {
	every := s.Every
	if every == 0 {
		every = DefaultEvery
	}
	if every < 0 || s.Syncer == nil || s.Accounts == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || s.cancel != nil {
		return nil
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := s.Clock.NewTicker(every)
		defer t.Stop()
		for {
			s.syncAll(bg)
			select {
			case <-bg.Done():
				return
			case <-t.C():
			}
		}
	}()
	return nil
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

// syncAll syncs every user with an account; a panic is logged, never
// the process's end.
func (s *Service) syncAll(ctx context.Context) {
	defer func() {
		if p := recover(); p != nil {
			s.logger().Error("contacts: background sync panicked", "panic", p)
		}
	}()
	users, err := s.Accounts.DAVUsers(ctx)
	if err != nil {
		s.logger().Warn("contacts: list the users to sync", "err", err)
		return
	}
	for _, u := range users {
		if ctx.Err() != nil {
			return
		}
		if _, err := s.Sync(ctx, u); err != nil && ctx.Err() == nil {
			s.logger().Warn("contacts: sync", "user", u, "err", err)
		}
	}
}

// Create adds a contact kept in os1.
//
// With Book (and its AccountID) set to one of the user's synced address
// books — one that already holds a card of theirs — the contact is made
// there instead: the next sync creates the card on the server
// (If-None-Match: *).
func (s *Service) Create(ctx context.Context, userID string, c Contact) (Contact, error) {
	if err := c.Validate(); err != nil {
		return Contact{}, err
	}
	book, account := c.Book, c.AccountID
	now := s.Clock.Now()
	c.ID, c.UserID, c.UID = s.IDs.NewID("ct"), userID, s.IDs.NewID("os1")+"@os1"
	c.Source, c.AccountID, c.Book, c.Href, c.ETag, c.Card, c.LocalChange, c.Deleted = SourceLocal, "", "", "", "", "", false, false
	c.CreatedAt, c.UpdatedAt = now, now
	if book != "" || account != "" {
		books, err := s.Books(ctx, userID)
		if err != nil {
			return Contact{}, err
		}
		if !slices.Contains(books, Book{AccountID: account, Path: book}) {
			return Contact{}, &InputError{"That address book is not one of yours that os1 has synced; sync it first, or keep the contact in os1."}
		}
		c.Source, c.AccountID, c.Book, c.LocalChange = SourceCardDAV, account, book, true
		c.Href = strings.TrimSuffix(book, "/") + "/" + c.ID + ".vcf"
	}
	if c.EntityID != "" {
		if err := s.checkEntity(ctx, userID, c.EntityID); err != nil {
			return Contact{}, err
		}
	}
	return c, s.Store.PutContact(ctx, c)
}

// Book is a synced address book: its account and its path on the server.
type Book struct {
	AccountID string `json:"account_id"`
	Path      string `json:"path"`
}

// Books are the address books the user's synced contacts come from.
func (s *Service) Books(ctx context.Context, userID string) ([]Book, error) {
	cs, err := s.Store.ListContacts(ctx, userID, true)
	if err != nil {
		return nil, err
	}
	var out []Book
	for _, c := range cs {
		b := Book{AccountID: c.AccountID, Path: c.Book}
		if c.Source == SourceCardDAV && b.Path != "" && !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out, nil
}

// Edit is what a user may change of a contact; nil fields stay.
type Edit struct {
	Name       *string   `json:"name,omitempty"`
	OtherNames *[]string `json:"other_names,omitempty"`
	Relation   *string   `json:"relation,omitempty"`
	Handles    *[]Handle `json:"handles,omitempty"`
	Birthday   *string   `json:"birthday,omitempty"`
	Notes      *string   `json:"notes,omitempty"`
	EntityID   *string   `json:"entity_id,omitempty"`
}

// Update edits a contact; a synced one goes to its server at the next
// sync (If-Match its ETag).
func (s *Service) Update(ctx context.Context, userID, id string, e Edit) (Contact, error) {
	c, err := s.Store.Contact(ctx, userID, id)
	if err != nil || c.Deleted {
		return Contact{}, errors.Join(err, notFoundIf(c.Deleted))
	}
	set(&c.Name, e.Name)
	set(&c.OtherNames, e.OtherNames)
	set(&c.Relation, e.Relation)
	set(&c.Handles, e.Handles)
	set(&c.Birthday, e.Birthday)
	set(&c.Notes, e.Notes)
	if e.EntityID != nil && *e.EntityID != c.EntityID {
		if *e.EntityID != "" {
			if err := s.checkEntity(ctx, userID, *e.EntityID); err != nil {
				return Contact{}, err
			}
		}
		c.EntityID = *e.EntityID
	}
	if err := c.Validate(); err != nil {
		return Contact{}, err
	}
	c.LocalChange = c.Source == SourceCardDAV
	c.UpdatedAt = s.Clock.Now()
	return c, s.Store.PutContact(ctx, c)
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func notFoundIf(b bool) error {
	if b {
		return ErrNotFound
	}
	return nil
}

func (s *Service) checkEntity(ctx context.Context, userID, id string) error {
	if s.Entities == nil {
		return &InputError{"There are no people in memory to link to."}
	}
	ents, err := s.Entities.Entities(ctx, userID)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.ID == id {
			return nil
		}
	}
	return &InputError{fmt.Sprintf("No person %q in memory.", id)}
}

// Delete removes a contact; a synced one stays as a tombstone until its
// server is told at the next sync.
func (s *Service) Delete(ctx context.Context, userID, id string) error {
	c, err := s.Store.Contact(ctx, userID, id)
	if err != nil {
		return err
	}
	if c.Deleted {
		return fmt.Errorf("contact %s: %w", id, ErrNotFound)
	}
	if c.Source != SourceCardDAV || c.Href == "" {
		return s.Store.DeleteContact(ctx, userID, id)
	}
	c.Deleted, c.LocalChange, c.UpdatedAt = true, true, s.Clock.Now()
	return s.Store.PutContact(ctx, c)
}

// ImportResult says what an import did.
type ImportResult struct {
	Imported int         `json:"imported"`
	Updated  int         `json:"updated"`
	Failed   []CardError `json:"-"`
	Errors   []string    `json:"errors"`
}

// Import reads a .vcf file into the user's local contacts. A card whose
// UID is already a local contact replaces it; each card that cannot be
// read is reported, and the others are all kept.
func (s *Service) Import(ctx context.Context, userID string, r io.Reader) (ImportResult, error) {
	res := ImportResult{Errors: []string{}}
	cs, bad, err := ParseVCF(r)
	if err != nil {
		return res, err
	}
	res.Failed = bad
	for _, b := range bad {
		res.Errors = append(res.Errors, b.Error())
	}
	have, err := s.Store.ListContacts(ctx, userID, false)
	if err != nil {
		return res, err
	}
	byUID := map[string]Contact{}
	for _, c := range have {
		if c.Source == SourceLocal && c.UID != "" {
			byUID[c.UID] = c
		}
	}
	now := s.Clock.Now()
	for _, c := range cs {
		c.UserID, c.Source, c.UpdatedAt = userID, SourceLocal, now
		if c.UID == "" {
			c.UID = contentUID(c) // the same card imported again is the same contact
		}
		if old, ok := byUID[c.UID]; ok && c.UID != "" {
			c.ID, c.CreatedAt, c.EntityID = old.ID, old.CreatedAt, old.EntityID
			res.Updated++
		} else {
			c.ID, c.CreatedAt = s.IDs.NewID("ct"), now
			if c.UID == "" {
				c.UID = s.IDs.NewID("os1") + "@os1"
			}
			res.Imported++
		}
		byUID[c.UID] = c
		if err := s.Store.PutContact(ctx, c); err != nil {
			return res, fmt.Errorf("import %q: %w", c.Name, err)
		}
	}
	return res, nil
}

// contentUID is a UID for a card that has none, made from what it says,
// so importing the same file twice replaces its UID-less cards instead of
// adding them again; a card changed since is a new contact.
func contentUID(c Contact) string {
	b, _ := json.Marshal([]any{c.Name, c.OtherNames, c.Relation, c.Handles, c.Birthday, c.Notes})
	sum := sha256.Sum256(b)
	return "vcf-" + hex.EncodeToString(sum[:12]) + "@os1"
}

// Export writes the user's contacts as a .vcf file.
func (s *Service) Export(ctx context.Context, userID string, w io.Writer) error {
	cs, err := s.Store.ListContacts(ctx, userID, false)
	if err != nil {
		return err
	}
	return WriteVCF(w, cs)
}

// Sync syncs every DAV account of the user with its address books now.
// An account that fails is reported in Errors; the others still sync.
func (s *Service) Sync(ctx context.Context, userID string) (Report, error) {
	if s.Accounts == nil || s.Syncer == nil {
		return Report{}, errors.New("CardDAV is not available in this os1")
	}
	defer s.lock(userID)()
	as, err := s.Accounts.DAVAccounts(ctx, userID)
	if err != nil {
		return Report{}, err
	}
	var rep Report
	for _, a := range as {
		r, err := s.Syncer.Sync(ctx, userID, a)
		rep.Add(r)
		rep.Accounts++
		if err != nil {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			rep.Errors = append(rep.Errors, fmt.Sprintf("the account %q: %v", a.Name, err))
			s.logger().Warn("contacts: sync", "user", userID, "account", a.ID, "err", err)
		}
	}
	return rep, nil
}

func (s *Service) lock(userID string) func() {
	s.mu.Lock()
	if s.locks == nil {
		s.locks = map[string]*sync.Mutex{}
	}
	m, ok := s.locks[userID]
	if !ok {
		m = &sync.Mutex{}
		s.locks[userID] = m
	}
	s.mu.Unlock()
	m.Lock()
	return m.Unlock
}

func (s *Service) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Birthday is a contact's next birthday.
type Birthday struct {
	ContactID, Name string
	Date            time.Time // the next occurrence: midnight of the day, in from's zone
}

// Birthdays are the birthdays of the user's contacts that fall in
// [from, to), soonest first; Date is the occurrence, a local date in
// from's zone (a 29 February birthday is on 28 February in other years).
func (s *Service) Birthdays(ctx context.Context, userID string, from, to time.Time) ([]Birthday, error) {
	cs, err := s.Store.ListContacts(ctx, userID, false)
	if err != nil {
		return nil, err
	}
	var out []Birthday
	for _, c := range cs {
		if c.Birthday == "" {
			continue
		}
		d, err := ParseDate(c.Birthday)
		if err != nil {
			continue
		}
		for t := d.Next(from); t.Before(to); t = d.Next(time.Date(t.Year()+1, 1, 1, 0, 0, 0, 0, t.Location())) {
			if !t.Before(dayOf(from)) {
				out = append(out, Birthday{ContactID: c.ID, Name: c.Name, Date: t})
			}
		}
	}
	sortBirthdays(out)
	return out, nil
}

func dayOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

func sortBirthdays(bs []Birthday) {
	for i := 1; i < len(bs); i++ {
		for j := i; j > 0 && (bs[j].Date.Before(bs[j-1].Date) ||
			bs[j].Date.Equal(bs[j-1].Date) && strings.ToLower(bs[j].Name) < strings.ToLower(bs[j-1].Name)); j-- {
			bs[j], bs[j-1] = bs[j-1], bs[j]
		}
	}
}
