// Package contacts is the user's address book merged with the people
// memory knows: a contact holds one person's handles (emails, phones,
// postal addresses), birthday, other names and relation to the user
// ("sister"), kept in os1 (source local) or in an address book on the
// user's DAV server (source carddav, synced both ways by carddavsync with
// the calendar accounts' sign-in). A contact is linked to the memory
// entity of the same name or other name, so "my sister", "Catherine" and
// "Cathy" reach one person with all of her handles.
//
// It must never let one user reach another user's contacts, never drop
// the rest of an import for one bad card, and never act on what a card
// says: names and notes from a server are data shown to the user and the
// model, never instructions.
package contacts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors the store and the service return; test them with errors.Is.
var (
	ErrNotFound = errors.New("contact not found")
	ErrConflict = errors.New("contact already exists")
)

// Handle kinds.
const (
	Email   = "email"
	Phone   = "phone"
	Address = "address"
)

// Sources of a contact.
const (
	SourceLocal   = "local"   // kept in os1 only
	SourceCardDAV = "carddav" // a card in an address book on a DAV server
)

// Handle is one way to reach a person.
type Handle struct {
	Kind  string `json:"kind"`            // email, phone or address
	Value string `json:"value"`           // ana@example.org, +34 600 000 000, "1 Main St, Lisbon"
	Label string `json:"label,omitempty"` // home, work, cell… (free text)
}

// Contact is one person in the user's address book.
type Contact struct {
	ID         string   `json:"id"`
	UserID     string   `json:"-"`
	UID        string   `json:"uid"` // the vCard UID
	Name       string   `json:"name"`
	OtherNames []string `json:"other_names,omitempty"` // nicknames: "Cathy"
	Relation   string   `json:"relation,omitempty"`    // the person's tie to the user: "sister"
	Handles    []Handle `json:"handles,omitempty"`
	// Birthday is YYYY-MM-DD, or --MM-DD when the year is not known.
	Birthday string `json:"birthday,omitempty"`
	Notes    string `json:"notes,omitempty"`
	Source   string `json:"source"` // SourceLocal or SourceCardDAV
	// EntityID is the memory person this contact is; "" until one is
	// linked (People and Lookup also link by name at read time).
	EntityID string `json:"entity_id,omitempty"`

	// CardDAV: the account (a calendar account's id), the address book's
	// path, the card's path and ETag, and the card as the server last sent
	// it (its other fields are kept when os1 writes it back).
	AccountID   string    `json:"account_id,omitempty"`
	Book        string    `json:"book,omitempty"`
	Href        string    `json:"-"`
	ETag        string    `json:"-"`
	Card        string    `json:"-"`
	LocalChange bool      `json:"local_change,omitempty"` // edited in os1 since the last sync
	Deleted     bool      `json:"-"`                      // deleted in os1, the server not yet told
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Names is the contact's name and other names.
func (c Contact) Names() []string {
	return append([]string{c.Name}, c.OtherNames...)
}

// Store keeps contacts. Every call is scoped by user; another user's ids
// answer ErrNotFound. All backends pass contactstest.
type Store interface {
	// PutContact creates or replaces a contact by ID.
	PutContact(ctx context.Context, c Contact) error
	Contact(ctx context.Context, userID, id string) (Contact, error)
	// ListContacts lists userID's contacts by name; tombstones (Deleted)
	// only with deleted.
	ListContacts(ctx context.Context, userID string, deleted bool) ([]Contact, error)
	DeleteContact(ctx context.Context, userID, id string) error
}

// Limits of one contact.
const (
	MaxNameLen    = 200
	MaxHandles    = 50
	MaxHandleLen  = 500
	MaxOtherNames = 20
	MaxNotesLen   = 4000
)

// InputError is a mistake in what the user gave; its text says what to fix.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Validate checks and tidies a contact's user-given fields: trimmed
// values, known handle kinds, a well-formed birthday, within the limits.
func (c *Contact) Validate() error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return &InputError{"The contact needs a name."}
	}
	if len(c.Name) > MaxNameLen {
		return &InputError{fmt.Sprintf("The name is longer than %d bytes.", MaxNameLen)}
	}
	var names []string
	for _, n := range c.OtherNames {
		if n = strings.TrimSpace(n); n != "" && !strings.EqualFold(n, c.Name) && len(n) <= MaxNameLen {
			names = append(names, n)
		}
	}
	if len(names) > MaxOtherNames {
		return &InputError{fmt.Sprintf("A contact may have at most %d other names.", MaxOtherNames)}
	}
	c.OtherNames = names
	c.Relation = strings.ToLower(strings.TrimSpace(c.Relation))
	if len(c.Relation) > MaxNameLen {
		return &InputError{"The relation is too long."}
	}
	if len(c.Handles) > MaxHandles {
		return &InputError{fmt.Sprintf("A contact may have at most %d handles.", MaxHandles)}
	}
	hs := make([]Handle, 0, len(c.Handles))
	for _, h := range c.Handles {
		h.Kind = strings.ToLower(strings.TrimSpace(h.Kind))
		h.Value = strings.TrimSpace(h.Value)
		h.Label = strings.ToLower(strings.TrimSpace(h.Label))
		if h.Value == "" {
			continue
		}
		switch h.Kind {
		case Email:
			if !strings.Contains(h.Value, "@") || strings.ContainsAny(h.Value, " \t\r\n<>") {
				return &InputError{fmt.Sprintf("%q is not an email address.", h.Value)}
			}
		case Phone:
			if strings.IndexFunc(h.Value, func(r rune) bool { return r >= '0' && r <= '9' }) < 0 {
				return &InputError{fmt.Sprintf("%q is not a phone number.", h.Value)}
			}
		case Address:
		default:
			return &InputError{fmt.Sprintf("A handle is an email, a phone or an address, not %q.", h.Kind)}
		}
		if len(h.Value) > MaxHandleLen || len(h.Label) > MaxNameLen {
			return &InputError{"A handle is too long."}
		}
		if strings.ContainsAny(h.Value, "\r\n") && h.Kind != Address {
			return &InputError{"A handle is one line."}
		}
		hs = append(hs, h)
	}
	c.Handles = hs
	c.Birthday = strings.TrimSpace(c.Birthday)
	if c.Birthday != "" {
		d, err := ParseDate(c.Birthday)
		if err != nil {
			return &InputError{err.Error()}
		}
		c.Birthday = d.String()
	}
	if len(c.Notes) > MaxNotesLen {
		return &InputError{fmt.Sprintf("The notes are longer than %d bytes.", MaxNotesLen)}
	}
	return nil
}

// Date is a day of the year with or without a year (a birthday whose
// year is not known).
type Date struct {
	Year  int // 0: not known
	Month time.Month
	Day   int
}

// String is YYYY-MM-DD, or --MM-DD without a year.
func (d Date) String() string {
	if d.Year == 0 {
		return fmt.Sprintf("--%02d-%02d", d.Month, d.Day)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// ParseDate reads a birthday as people and vCards write it: 1990-04-12,
// 19900412, --04-12, --0412 (no year), with any time after a T ignored.
func ParseDate(s string) (Date, error) {
	orig := s
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, 'T'); i > 0 {
		s = s[:i]
	}
	bad := fmt.Errorf("the birthday %q is not a date (YYYY-MM-DD, or --MM-DD without the year)", orig)
	var d Date
	var digits string
	if strings.HasPrefix(s, "--") {
		digits = strings.ReplaceAll(s[2:], "-", "")
		if len(digits) != 4 {
			return Date{}, bad
		}
		digits = "0000" + digits
	} else {
		digits = strings.ReplaceAll(s, "-", "")
		if len(digits) != 8 || (strings.Contains(s, "-") && len(s) != 10) {
			return Date{}, bad
		}
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return Date{}, bad
		}
	}
	d.Year, _ = strconv.Atoi(digits[:4])
	m, _ := strconv.Atoi(digits[4:6])
	d.Day, _ = strconv.Atoi(digits[6:])
	d.Month = time.Month(m)
	if d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 {
		return Date{}, bad
	}
	y := d.Year
	if y == 0 {
		y = 2000 // a leap year: --02-29 is a birthday
	}
	if t := time.Date(y, d.Month, d.Day, 0, 0, 0, 0, time.UTC); t.Day() != d.Day {
		return Date{}, bad
	}
	return d, nil
}

// Next is the first occurrence of the date on or after the day of from,
// as midnight in from's zone. A 29 February birthday falls on 28 February
// in other years.
func (d Date) Next(from time.Time) time.Time {
	loc := from.Location()
	day := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc)
	for y := day.Year(); ; y++ {
		dd := d.Day
		if d.Month == time.February && dd == 29 && !leap(y) {
			dd = 28
		}
		t := time.Date(y, d.Month, dd, 0, 0, 0, 0, loc)
		if !t.Before(day) {
			return t
		}
	}
}

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }
