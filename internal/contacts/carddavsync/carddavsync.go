// Package carddavsync syncs a user's address books on their DAV servers
// (the calendar accounts' servers, with the same sign-in) with os1's
// contacts, both ways, with emersion's go-webdav CardDAV client: it finds
// the address books, pushes os1's edits and deletions with If-Match (so a
// write never overwrites a change it has not seen), then pulls every card
// whose ETag changed and drops the ones the server no longer has.
//
// The conflict rule, so neither side's edit is lost:
//   - both sides changed a card: the server's card is kept, and the
//     handles os1 added that it lacks are added to it (and its relation
//     and birthday when it has none), then written back;
//   - changed here, deleted on the server: os1's card is put back;
//   - deleted here, changed on the server: the server's card is kept.
//
// Contacts made in os1 stay in os1 (source local); only cards that came
// from a server go back to it. It never deletes a card os1 did not delete.
package carddavsync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/carddav"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/contacts"
)

// DefaultTimeout bounds each request to a server.
const DefaultTimeout = 60 * time.Second

// Syncer is contacts.Syncer over CardDAV.
type Syncer struct {
	Store contacts.Store
	Clock clock.Clock
	IDs   clock.IDs
	// HTTP is the client for the servers (nil: one with DefaultTimeout).
	HTTP *http.Client
}

var _ contacts.Syncer = (*Syncer)(nil)

// exchange is one request's preconditions and, after it, its status: the
// go-webdav clients send neither If-Match nor If-None-Match and hide the
// status of a failed request.
type exchange struct {
	ifMatch, ifNoneMatch string
	status               int
}

type exchangeKey struct{}

type conn struct {
	http       *http.Client
	user, pass string
}

func (c *conn) Do(req *http.Request) (*http.Response, error) {
	req.SetBasicAuth(c.user, c.pass)
	x, _ := req.Context().Value(exchangeKey{}).(*exchange)
	if x != nil {
		if x.ifMatch != "" {
			req.Header.Set("If-Match", quote(x.ifMatch))
		}
		if x.ifNoneMatch != "" {
			req.Header.Set("If-None-Match", quote(x.ifNoneMatch))
		}
	}
	resp, err := c.http.Do(req)
	if x != nil && resp != nil {
		x.status = resp.StatusCode
	}
	return resp, err
}

// quote puts back the quotes go-webdav takes off the ETags it reads.
func quote(e string) string {
	if e == "*" || strings.HasPrefix(e, `"`) || strings.HasPrefix(e, `W/"`) {
		return e
	}
	return strconv.Quote(e)
}

var (
	errChanged = errors.New("changed on the server since the last sync") // 412
	errGone    = errors.New("not on the server")                         // 404, 410
	// ErrAuth is a server refusing the account's username or password.
	ErrAuth = errors.New("the server refused the username or password")
)

type session struct {
	acct contacts.Account
	dav  *webdav.Client
	card *carddav.Client
}

func (s *Syncer) session(a contacts.Account) (*session, error) {
	hc := s.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	c := &conn{http: hc, user: a.Username, pass: a.Password}
	dav, err := webdav.NewClient(c, a.URL)
	if err != nil {
		return nil, fmt.Errorf("the account %q: the URL %q: %w", a.Name, a.URL, err)
	}
	card, err := carddav.NewClient(c, a.URL)
	if err != nil {
		return nil, fmt.Errorf("the account %q: the URL %q: %w", a.Name, a.URL, err)
	}
	return &session{acct: a, dav: dav, card: card}, nil
}

// call runs one request with preconditions x and classifies its failure.
// A panic in a decoder is an error, not a crash.
func (ss *session) call(ctx context.Context, x *exchange, what string, f func(ctx context.Context) error) (err error) {
	if x == nil {
		x = &exchange{}
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: the server sent something os1 cannot read (%v)", what, p)
		}
	}()
	err = f(context.WithValue(ctx, exchangeKey{}, x))
	if err == nil {
		return nil
	}
	switch x.status {
	case http.StatusUnauthorized:
		return fmt.Errorf("the account %q (user %q at %s): %w", ss.acct.Name, ss.acct.Username, ss.acct.URL, ErrAuth)
	case http.StatusPreconditionFailed:
		return fmt.Errorf("%s: %w", what, errChanged)
	case http.StatusNotFound, http.StatusGone:
		return fmt.Errorf("%s: %w", what, errGone)
	}
	return fmt.Errorf("%s (account %q): %w", what, ss.acct.Name, err)
}

// books finds the account's address books.
func (ss *session) books(ctx context.Context) ([]carddav.AddressBook, error) {
	var principal, home string
	var books []carddav.AddressBook
	err := ss.call(ctx, nil, "find the account's principal", func(ctx context.Context) (err error) {
		principal, err = ss.dav.FindCurrentUserPrincipal(ctx)
		return err
	})
	if err == nil {
		err = ss.call(ctx, nil, "find the address book home", func(ctx context.Context) (err error) {
			home, err = ss.card.FindAddressBookHomeSet(ctx, principal)
			return err
		})
		if err != nil && !errors.Is(err, ErrAuth) && ctx.Err() == nil {
			// The server signed in but keeps no address books (a CalDAV-only
			// server): nothing to sync, not a failure every 15 minutes.
			return nil, nil
		}
	}
	if err == nil {
		err = ss.call(ctx, nil, "list the address books", func(ctx context.Context) (err error) {
			books, err = ss.card.FindAddressBooks(ctx, home)
			return err
		})
	}
	return books, err
}

// Sync brings the account's address books and the user's contacts up to
// date with each other.
func (s *Syncer) Sync(ctx context.Context, userID string, a contacts.Account) (contacts.Report, error) {
	var rep contacts.Report
	ss, err := s.session(a)
	if err != nil {
		return rep, err
	}
	books, err := ss.books(ctx)
	if err != nil {
		return rep, err
	}
	all, err := s.Store.ListContacts(ctx, userID, true)
	if err != nil {
		return rep, err
	}
	byBook := map[string]map[string]contacts.Contact{}
	for _, c := range all {
		if c.AccountID != a.ID || c.Source != contacts.SourceCardDAV {
			continue
		}
		if byBook[c.Book] == nil {
			byBook[c.Book] = map[string]contacts.Contact{}
		}
		byBook[c.Book][c.Href] = c
	}
	for _, b := range books {
		rep.Books++
		mine := byBook[b.Path]
		delete(byBook, b.Path)
		if err := s.syncBook(ctx, ss, userID, b.Path, mine, &rep); err != nil {
			if errors.Is(err, ErrAuth) || ctx.Err() != nil {
				return rep, err
			}
			rep.Errors = append(rep.Errors, fmt.Sprintf("the address book %q: %v", b.Name, err))
		}
	}
	// Address books the server no longer has take their cards with them.
	for _, gone := range byBook {
		for _, c := range gone {
			if err := s.Store.DeleteContact(ctx, userID, c.ID); err != nil && !errors.Is(err, contacts.ErrNotFound) {
				return rep, err
			}
			rep.Deleted++
		}
	}
	return rep, nil
}

func (s *Syncer) syncBook(ctx context.Context, ss *session, userID, book string, mine map[string]contacts.Contact, rep *contacts.Report) error {
	if mine == nil {
		mine = map[string]contacts.Contact{}
	}
	// Push os1's edits first, so the pull below sees their new ETags.
	for href, c := range mine {
		if !c.LocalChange {
			continue
		}
		c, err := s.push(ctx, ss, c, rep)
		if err != nil {
			if errors.Is(err, ErrAuth) {
				return err
			}
			rep.Errors = append(rep.Errors, fmt.Sprintf("%q: %v", c.Name, err))
			continue
		}
		if c.ID == "" {
			delete(mine, href)
		} else {
			mine[href] = c
		}
	}
	var list []webdav.FileInfo
	err := ss.call(ctx, nil, "list the address book", func(ctx context.Context) (err error) {
		list, err = ss.dav.ReadDir(ctx, book, false)
		return err
	})
	if err != nil {
		return err
	}
	onServer := map[string]bool{}
	var changed []string
	for _, f := range list {
		if f.IsDir || strings.TrimSuffix(f.Path, "/") == strings.TrimSuffix(book, "/") {
			continue
		}
		onServer[f.Path] = true
		c, ok := mine[f.Path]
		if ok && c.LocalChange {
			continue // its push failed above: the edit waits for the next sync, never overwritten
		}
		if !ok || c.ETag != f.ETag || f.ETag == "" {
			changed = append(changed, f.Path)
		}
	}
	for href, c := range mine {
		if !onServer[href] && !c.LocalChange {
			if cur, err := s.Store.Contact(ctx, userID, c.ID); err == nil && cur.LocalChange {
				continue // edited in os1 meanwhile: the next sync puts it back
			}
			if err := s.Store.DeleteContact(ctx, userID, c.ID); err != nil && !errors.Is(err, contacts.ErrNotFound) {
				return err
			}
			rep.Deleted++
		}
	}
	for len(changed) > 0 {
		n := min(len(changed), 50)
		batch := changed[:n]
		changed = changed[n:]
		objs, err := s.fetch(ctx, ss, book, batch)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if o.err != nil {
				rep.Errors = append(rep.Errors, fmt.Sprintf("the card %s: %v", path.Base(o.href), o.err))
				continue
			}
			stored, err := s.pull(ctx, userID, ss.acct.ID, book, o, mine[o.href])
			if err != nil {
				rep.Errors = append(rep.Errors, fmt.Sprintf("the card %s: %v", path.Base(o.href), err))
				continue
			}
			if stored {
				rep.Pulled++
			}
		}
	}
	return nil
}

type fetched struct {
	href, etag string
	card       vcard.Card
	err        error
}

// fetch reads cards with one addressbook-multiget, or one by one when the
// batch fails (one card the decoder refuses fails the whole batch).
func (s *Syncer) fetch(ctx context.Context, ss *session, book string, hrefs []string) ([]fetched, error) {
	var objs []carddav.AddressObject
	err := ss.call(ctx, nil, "read the cards", func(ctx context.Context) (err error) {
		objs, err = ss.card.MultiGetAddressBook(ctx, book, &carddav.AddressBookMultiGet{Paths: hrefs, DataRequest: carddav.AddressDataRequest{AllProp: true}})
		return err
	})
	if err == nil {
		out := make([]fetched, 0, len(objs))
		for _, o := range objs {
			out = append(out, fetched{href: o.Path, etag: o.ETag, card: o.Card})
		}
		return out, nil
	}
	if errors.Is(err, ErrAuth) {
		return nil, err
	}
	out := make([]fetched, 0, len(hrefs))
	for _, h := range hrefs {
		var o *carddav.AddressObject
		err := ss.call(ctx, nil, "read the card", func(ctx context.Context) (err error) {
			o, err = ss.card.GetAddressObject(ctx, h)
			return err
		})
		if errors.Is(err, ErrAuth) {
			return nil, err
		}
		f := fetched{href: h, err: err}
		if err == nil {
			f.etag, f.card = o.ETag, o.Card
		}
		out = append(out, f)
	}
	return out, nil
}

// pull stores a card from the server, keeping the contact's id and its
// link to a memory person.
//
// A card the user edited in os1 while this sync ran is left as the user
// made it (false): the next sync pushes it, with the conflict rule.
func (s *Syncer) pull(ctx context.Context, userID, accountID, book string, o fetched, old contacts.Contact) (bool, error) {
	c, err := contacts.FromCard(o.card)
	if err != nil {
		return false, err
	}
	if old.ID != "" {
		if cur, err := s.Store.Contact(ctx, userID, old.ID); err == nil && cur.LocalChange {
			return false, nil
		}
	}
	now := s.Clock.Now()
	c.ID, c.UserID, c.CreatedAt, c.EntityID = old.ID, userID, old.CreatedAt, old.EntityID
	if c.ID == "" {
		c.ID, c.CreatedAt = s.IDs.NewID("ct"), now
	}
	if c.UID == "" {
		c.UID = path.Base(o.href)
	}
	c.Source, c.AccountID, c.Book, c.Href, c.ETag = contacts.SourceCardDAV, accountID, book, o.href, o.etag
	c.UpdatedAt = now
	return true, s.Store.PutContact(ctx, c)
}

// push sends one of os1's edits (or deletions) to the server. The contact
// it returns has an empty ID when it is gone.
func (s *Syncer) push(ctx context.Context, ss *session, c contacts.Contact, rep *contacts.Report) (contacts.Contact, error) {
	orig := c
	if c.Deleted {
		err := ss.call(ctx, &exchange{ifMatch: c.ETag}, "delete the card", func(ctx context.Context) error {
			return ss.dav.RemoveAll(ctx, c.Href)
		})
		switch {
		case err == nil || errors.Is(err, errGone):
			if err := s.Store.DeleteContact(ctx, c.UserID, c.ID); err != nil && !errors.Is(err, contacts.ErrNotFound) {
				return c, err
			}
			rep.Deleted++
			return contacts.Contact{}, nil
		case errors.Is(err, errChanged):
			// Changed on the server: its card is kept; the pull reads it.
			c.Deleted, c.LocalChange, c.ETag = false, false, ""
			rep.Conflicts = append(rep.Conflicts, fmt.Sprintf("%q: deleted in os1, changed on the server: the server's card is kept", c.Name))
			return c, s.Store.PutContact(ctx, c)
		}
		return c, err
	}
	card := contacts.ToCard(c)
	cond := &exchange{ifMatch: c.ETag}
	if c.ETag == "" {
		cond = &exchange{ifNoneMatch: "*"} // made in os1: never over a card already there
	}
	etag, err := s.put(ctx, ss, c.Href, card, cond)
	if errors.Is(err, errChanged) {
		// 412: changed on the server, or (If-Match on a card that is not
		// there any more) deleted on it.
		var merged contacts.Contact
		var mcard vcard.Card
		merged, mcard, err = s.merge(ctx, ss, c)
		if err == nil {
			etag, err = s.put(ctx, ss, c.Href, mcard, &exchange{ifMatch: merged.ETag})
			if err == nil {
				rep.Conflicts = append(rep.Conflicts, fmt.Sprintf("%q: changed on both sides: the server's card is kept, with os1's new handles added", c.Name))
				c, card = merged, mcard
			}
		}
	}
	if errors.Is(err, errGone) {
		etag, err = s.put(ctx, ss, c.Href, card, &exchange{ifNoneMatch: "*"})
		if err == nil {
			rep.Conflicts = append(rep.Conflicts, fmt.Sprintf("%q: changed in os1, deleted on the server: os1's card is put back", c.Name))
		}
	}
	if err != nil {
		return c, err
	}
	c.Card = encode(card)
	c.ETag, c.LocalChange = etag, false
	rep.Pushed++
	if cur, err := s.Store.Contact(ctx, c.UserID, c.ID); err == nil && !reflect.DeepEqual(cur, orig) {
		// Edited again in os1 while this one was sent: keep that edit (still
		// marked), with the server's new ETag, for the next sync.
		cur.ETag, cur.Card = etag, c.Card
		return cur, s.Store.PutContact(ctx, cur)
	}
	return c, s.Store.PutContact(ctx, c)
}

// merge is the server's card with os1's edit laid over it where the
// server has nothing: handles it lacks, a relation, a birthday.
func (s *Syncer) merge(ctx context.Context, ss *session, mine contacts.Contact) (contacts.Contact, vcard.Card, error) {
	var o *carddav.AddressObject
	err := ss.call(ctx, nil, "read the card changed on the server", func(ctx context.Context) (err error) {
		o, err = ss.card.GetAddressObject(ctx, mine.Href)
		return err
	})
	if err != nil {
		return mine, nil, err
	}
	theirs, err := contacts.FromCard(o.Card)
	if err != nil {
		return mine, nil, err
	}
	m := mine
	m.Name, m.OtherNames, m.Notes, m.Card, m.ETag = theirs.Name, theirs.OtherNames, theirs.Notes, theirs.Card, o.ETag
	m.Handles = theirs.Handles
	for _, h := range mine.Handles {
		found := false
		for _, t := range theirs.Handles {
			if t.Kind == h.Kind && strings.EqualFold(t.Value, h.Value) {
				found = true
				break
			}
		}
		if !found {
			m.Handles = append(m.Handles, h)
		}
	}
	if theirs.Relation != "" {
		m.Relation = theirs.Relation
	}
	if theirs.Birthday != "" {
		m.Birthday = theirs.Birthday
	}
	return m, contacts.ToCard(m), nil
}

func (s *Syncer) put(ctx context.Context, ss *session, href string, card vcard.Card, x *exchange) (string, error) {
	var o *carddav.AddressObject
	err := ss.call(ctx, x, "write the card", func(ctx context.Context) (err error) {
		o, err = ss.card.PutAddressObject(ctx, href, card)
		if err == nil && x.status >= 300 {
			err = fmt.Errorf("the server answered %d", x.status)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	if o.ETag == "" {
		// A server that does not say the new ETag: ask, so the next write
		// is still conditional (an empty If-Match is no condition at all).
		var got *carddav.AddressObject
		if err := ss.call(ctx, nil, "read the card's new ETag", func(ctx context.Context) (err error) {
			got, err = ss.card.GetAddressObject(ctx, href)
			return err
		}); err == nil {
			return got.ETag, nil
		}
	}
	return o.ETag, nil
}

func encode(card vcard.Card) string {
	var b strings.Builder
	if err := vcard.NewEncoder(&b).Encode(card); err != nil {
		return ""
	}
	return b.String()
}

// CalendarAccounts are the user's calendar accounts as the DAV accounts
// whose servers keep their address books.
type CalendarAccounts struct{ Calendar *calendar.Service }

var _ contacts.Accounts = CalendarAccounts{}

// DAVAccounts lists the user's calendar accounts with their passwords.
func (c CalendarAccounts) DAVAccounts(ctx context.Context, userID string) ([]contacts.Account, error) {
	as, err := c.Calendar.Store.ListAccounts(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]contacts.Account, 0, len(as))
	for _, a := range as {
		a, pw, err := c.Calendar.Password(ctx, userID, a.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, contacts.Account{ID: a.ID, Name: a.Name, URL: a.URL, Username: a.Username, Password: pw})
	}
	return out, nil
}

// DAVUsers lists the users who have a calendar account.
func (c CalendarAccounts) DAVUsers(ctx context.Context) ([]string, error) {
	as, err := c.Calendar.Store.AllAccounts(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, a := range as {
		if !seen[a.UserID] {
			seen[a.UserID] = true
			out = append(out, a.UserID)
		}
	}
	return out, nil
}
