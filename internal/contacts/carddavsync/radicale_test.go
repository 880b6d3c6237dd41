package carddavsync_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/calendar/caldavsync"
	"github.com/os1ai/os1/internal/calendar/radicaletest"
	"github.com/os1ai/os1/internal/calendar/sqlitecal"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/contacts"
	"github.com/os1ai/os1/internal/contacts/carddavsync"
	"github.com/os1ai/os1/internal/contacts/sqlitecontacts"
	"github.com/os1ai/os1/internal/secret"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
	"github.com/os1ai/os1/internal/testrig"
)

// rig is os1 (a store, the calendar with Ana's account on radicale, the
// contacts service) and radicale with Ana's address book "contacts".
type rig struct {
	t   *testing.T
	srv *radicaletest.Server
	svc *contacts.Service
	cal *calendar.Service
	clk *clock.Fake
}

const book = "/ana/contacts/"

func newRig(t *testing.T) *rig {
	t.Helper()
	srv := radicaletest.Start(t)
	srv.AddUser("ana", "s3cret")
	srv.MakeCalendar("ana", "work", "Work")
	mkcol := `<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">
  <D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype>
    <D:displayname>Contacts</D:displayname></D:prop></D:set>
</D:mkcol>`
	if resp := srv.Do("MKCOL", "ana", book, "application/xml", mkcol); resp.StatusCode != http.StatusCreated {
		t.Fatalf("MKCOL %s: %s %s\n%s", book, resp.Status, resp.Header.Get("X-Test-Body"), srv.Log())
	}
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, u := range []string{"ana", "ben"} {
		if err := db.CreateUser(t.Context(), store.User{ID: "usr_" + u, Username: u, DisplayName: u, Role: store.RoleMember, PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	box, err := secret.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC))
	ids := clock.RandomIDs{}
	hc := &http.Client{Timeout: 20 * time.Second}
	cst := sqlitecal.New(db)
	cal := &calendar.Service{Store: cst, Sealer: box, Clock: clk, IDs: ids, Syncer: &caldavsync.Syncer{Store: cst, Clock: clk, IDs: ids, HTTP: hc}}
	if _, err := cal.AddAccount(t.Context(), "usr_ana", calendar.AccountInput{Name: "Radicale", URL: srv.URL, Username: "ana", Password: "s3cret"}); err != nil {
		t.Fatalf("add the account: %v\n%s", err, srv.Log())
	}
	st := sqlitecontacts.New(db)
	svc := &contacts.Service{Store: st, Accounts: carddavsync.CalendarAccounts{Calendar: cal}, Clock: clk, IDs: ids,
		Syncer: &carddavsync.Syncer{Store: st, Clock: clk, IDs: ids, HTTP: hc}}
	return &rig{t: t, srv: srv, svc: svc, cal: cal, clk: clk}
}

func (r *rig) put(name, card string) {
	r.t.Helper()
	card = strings.ReplaceAll(strings.TrimSpace(card), "\n", "\r\n") + "\r\n"
	if resp := r.srv.Do("PUT", "ana", book+name, "text/vcard; charset=utf-8", card); resp.StatusCode >= 300 {
		r.t.Fatalf("PUT %s: %s %s", name, resp.Status, resp.Header.Get("X-Test-Body"))
	}
}

func (r *rig) get(name string) (int, string) {
	r.t.Helper()
	resp := r.srv.Do("GET", "ana", book+name, "", "")
	return resp.StatusCode, strings.ReplaceAll(resp.Header.Get("X-Test-Body"), "\r", "")
}

func (r *rig) sync() contacts.Report {
	r.t.Helper()
	rep, err := r.svc.Sync(r.t.Context(), "usr_ana")
	if err != nil {
		r.t.Fatalf("sync: %v\n%s", err, r.srv.Log())
	}
	if len(rep.Errors) > 0 {
		r.t.Fatalf("sync errors: %v\n%s", rep.Errors, r.srv.Log())
	}
	return rep
}

func (r *rig) contact(name string) contacts.Contact {
	r.t.Helper()
	cs, err := r.svc.Store.ListContacts(r.t.Context(), "usr_ana", false)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	r.t.Fatalf("no contact %q in %+v", name, cs)
	return contacts.Contact{}
}

const catherine = `BEGIN:VCARD
VERSION:3.0
UID:cat-1
FN:Catherine Lima
N:Lima;Catherine;;;
NICKNAME:Cathy
EMAIL;TYPE=HOME:cathy@example.org
ORG:Lima & Co
END:VCARD`

// Both ways against a real radicale: cards come in, os1's edits go back
// with If-Match and keep the fields os1 does not know, a deletion either
// side reaches the other, and an edit made on both sides keeps both.
func TestSyncBothWaysWithRadicale(t *testing.T) {
	r := newRig(t)
	r.put("cat.vcf", catherine)
	r.put("bruno.vcf", "BEGIN:VCARD\nVERSION:3.0\nUID:bruno-1\nFN:Bruno\nTEL:+1 555 0100\nEND:VCARD")
	rep := r.sync()
	if rep.Accounts != 1 || rep.Books != 1 || rep.Pulled != 2 {
		t.Fatalf("first sync: %+v", rep)
	}
	cat := r.contact("Catherine Lima")
	if cat.Source != contacts.SourceCardDAV || cat.Href != book+"cat.vcf" || cat.ETag == "" || len(cat.Handles) != 1 || cat.OtherNames[0] != "Cathy" {
		t.Fatalf("pulled: %+v", cat)
	}
	// Nothing changed: nothing moves.
	if rep := r.sync(); rep.Pulled != 0 || rep.Pushed != 0 || rep.Deleted != 0 {
		t.Fatalf("idle sync: %+v", rep)
	}

	// An edit in os1 goes to the server, which keeps ORG.
	hs := append(cat.Handles, contacts.Handle{Kind: contacts.Phone, Value: "+34 600 111 222", Label: "cell"})
	rel := "sister"
	if _, err := r.svc.Update(t.Context(), "usr_ana", cat.ID, contacts.Edit{Handles: &hs, Relation: &rel}); err != nil {
		t.Fatal(err)
	}
	if rep := r.sync(); rep.Pushed != 1 || rep.Pulled != 0 || len(rep.Conflicts) != 0 {
		t.Fatalf("push sync: %+v", rep)
	}
	code, body := r.get("cat.vcf")
	for _, want := range []string{"TEL;TYPE=cell:+34 600 111 222", "ORG:Lima & Co", "EMAIL;TYPE=HOME:cathy@example.org", "X-OS1-RELATION:sister"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("server's card lacks %q (%d):\n%s", want, code, body)
		}
	}
	if c := r.contact("Catherine Lima"); c.LocalChange || c.ETag == cat.ETag {
		t.Fatalf("after push: %+v", c)
	}

	// Both sides change Catherine: the server adds a work email, os1 a
	// second phone. Neither edit is lost.
	r.put("cat.vcf", strings.Replace(catherine, "ORG:", "EMAIL;TYPE=WORK:cat@lima.example\nORG:", 1))
	cat = r.contact("Catherine Lima")
	hs = append(cat.Handles, contacts.Handle{Kind: contacts.Phone, Value: "+351 21 000 0000", Label: "home"})
	if _, err := r.svc.Update(t.Context(), "usr_ana", cat.ID, contacts.Edit{Handles: &hs}); err != nil {
		t.Fatal(err)
	}
	rep = r.sync()
	if len(rep.Conflicts) != 1 || !strings.Contains(rep.Conflicts[0], "both sides") {
		t.Fatalf("conflict sync: %+v", rep)
	}
	_, body = r.get("cat.vcf")
	for _, want := range []string{"cat@lima.example", "+351 21 000 0000", "+34 600 111 222", "cathy@example.org"} {
		if !strings.Contains(body, want) {
			t.Fatalf("after the conflict the server's card lacks %q:\n%s", want, body)
		}
	}
	if c := r.contact("Catherine Lima"); len(c.Handles) != 4 || c.LocalChange {
		t.Fatalf("after the conflict os1 has: %+v", c.Handles)
	}

	// Deleted on the server: gone here. Deleted here: gone there.
	if resp := r.srv.Do("DELETE", "ana", book+"bruno.vcf", "", ""); resp.StatusCode >= 300 {
		t.Fatal(resp.Status)
	}
	if rep := r.sync(); rep.Deleted != 1 {
		t.Fatalf("server deletion: %+v", rep)
	}
	if cs, _ := r.svc.Store.ListContacts(t.Context(), "usr_ana", true); len(cs) != 1 {
		t.Fatalf("after the server's deletion: %+v", cs)
	}
	cat = r.contact("Catherine Lima")
	if err := r.svc.Delete(t.Context(), "usr_ana", cat.ID); err != nil {
		t.Fatal(err)
	}
	// Until the server is told, the contact is a tombstone: gone for the user.
	if err := r.svc.Delete(t.Context(), "usr_ana", cat.ID); !errors.Is(err, contacts.ErrNotFound) {
		t.Fatalf("delete a tombstone: %v", err)
	}
	if people, _ := r.svc.People(t.Context(), "usr_ana"); len(people) != 0 {
		t.Fatalf("a deleted contact is listed: %+v", people)
	}
	if rep := r.sync(); rep.Deleted != 1 {
		t.Fatalf("os1 deletion: %+v", rep)
	}
	if code, _ := r.get("cat.vcf"); code != http.StatusNotFound {
		t.Fatalf("the card deleted in os1 is still on the server: %d", code)
	}
	// Ben has no account and none of Ana's contacts.
	if rep, err := r.svc.Sync(t.Context(), "usr_ben"); err != nil || rep.Accounts != 0 {
		t.Fatalf("ben's sync: %+v %v", rep, err)
	}
}

// A deletion in os1 of a card changed on the server keeps the server's
// card; an edit in os1 of a card deleted on the server puts it back.
func TestSyncConflictRulesForDeletions(t *testing.T) {
	r := newRig(t)
	r.put("cat.vcf", catherine)
	r.put("bruno.vcf", "BEGIN:VCARD\nVERSION:3.0\nUID:bruno-1\nFN:Bruno\nTEL:+1 555 0100\nEND:VCARD")
	r.sync()
	cat, bruno := r.contact("Catherine Lima"), r.contact("Bruno")
	if err := r.svc.Delete(t.Context(), "usr_ana", cat.ID); err != nil {
		t.Fatal(err)
	}
	r.put("cat.vcf", strings.Replace(catherine, "Cathy", "Cat", 1))
	hs := []contacts.Handle{{Kind: contacts.Email, Value: "bruno@example.org"}}
	if _, err := r.svc.Update(t.Context(), "usr_ana", bruno.ID, contacts.Edit{Handles: &hs}); err != nil {
		t.Fatal(err)
	}
	r.srv.Do("DELETE", "ana", book+"bruno.vcf", "", "")
	rep := r.sync()
	if len(rep.Conflicts) != 2 {
		t.Fatalf("conflicts: %+v", rep)
	}
	if c := r.contact("Catherine Lima"); c.OtherNames[0] != "Cat" || c.Deleted {
		t.Fatalf("the server's changed card was not kept: %+v", c)
	}
	if code, body := r.get("bruno.vcf"); code != 200 || !strings.Contains(body, "bruno@example.org") {
		t.Fatalf("os1's edit was not put back: %d %s", code, body)
	}
}

func TestSyncWrongPasswordSaysSo(t *testing.T) {
	r := newRig(t)
	r.srv.AddUser("ana", "changed")
	rep, err := r.svc.Sync(t.Context(), "usr_ana")
	if err != nil || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0], "refused") {
		t.Fatalf("wrong password: %+v %v", rep, err)
	}
	// The syncer's own error is ErrAuth.
	as, _ := carddavsync.CalendarAccounts{Calendar: r.cal}.DAVAccounts(t.Context(), "usr_ana")
	if _, err := r.svc.Syncer.Sync(t.Context(), "usr_ana", as[0]); !errors.Is(err, carddavsync.ErrAuth) {
		t.Fatalf("syncer: %v", err)
	}
}

// os1 serve syncs every user's address books at start and then every
// contacts.DefaultEvery on the injected clock; Close stops it.
func TestBackgroundSyncRunsOnTheClock(t *testing.T) {
	r := newRig(t)
	r.put("cat.vcf", catherine)
	if err := r.svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.svc.Close() })
	count := func() (bool, string) {
		cs, err := r.svc.Store.ListContacts(t.Context(), "usr_ana", false)
		return err == nil, fmt.Sprint(len(cs))
	}
	has := func(n string) func() (bool, string) {
		return func() (bool, string) { ok, got := count(); return ok && got == n, got }
	}
	testrig.Eventually(t, 20*time.Second, "the sync at start", has("1"))
	r.put("bruno.vcf", "BEGIN:VCARD\nVERSION:3.0\nUID:bruno-1\nFN:Bruno\nEND:VCARD")
	r.clk.Advance(contacts.DefaultEvery)
	testrig.Eventually(t, 20*time.Second, "the sync a period later", has("2"))
	if err := r.svc.Close(); err != nil {
		t.Fatal(err)
	}
}

// A server that signs in but keeps no address books (CalDAV only) is an
// account with nothing to sync, not an error at every sync. Here a proxy
// in front of radicale asks it for a property it does not know instead of
// the address book home.
func TestSyncAServerWithoutAddressBooks(t *testing.T) {
	r := newRig(t)
	target, _ := url.Parse(r.srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	director := proxy.Director
	proxy.Director = func(req *http.Request) {
		director(req)
		if req.Body == nil {
			return
		}
		b, _ := io.ReadAll(req.Body)
		b = bytes.ReplaceAll(b, []byte("addressbook-home-set"), []byte("no-such-property"))
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		req.Header.Del("Content-Length")
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	st := r.svc.Store
	only := &carddavsync.Syncer{Store: st, Clock: r.clk, IDs: clock.RandomIDs{}}
	rep, err := only.Sync(t.Context(), "usr_ana", contacts.Account{ID: "x", Name: "CalDAV only", URL: front.URL + "/", Username: "ana", Password: "s3cret"})
	if err != nil || rep.Books != 0 || len(rep.Errors) != 0 {
		t.Fatalf("a server without address books: %+v %v", rep, err)
	}
	// A wrong password is still an error there.
	if _, err := only.Sync(t.Context(), "usr_ana", contacts.Account{ID: "x", Name: "CalDAV only", URL: front.URL + "/", Username: "ana", Password: "nope"}); !errors.Is(err, carddavsync.ErrAuth) {
		t.Fatalf("a wrong password: %v", err)
	}
}

// hooked is a proxy in front of radicale that runs hook once, before the
// first request of method passes.
func (r *rig) hooked(method string, hook func()) contacts.Account {
	r.t.Helper()
	target, _ := url.Parse(r.srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var once sync.Once
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == method {
			once.Do(hook)
		}
		proxy.ServeHTTP(w, req)
	}))
	r.t.Cleanup(front.Close)
	as, err := carddavsync.CalendarAccounts{Calendar: r.cal}.DAVAccounts(r.t.Context(), "usr_ana")
	if err != nil || len(as) != 1 {
		r.t.Fatalf("accounts: %v %v", as, err)
	}
	a := as[0]
	a.URL = front.URL + "/"
	return a
}

// An edit the user makes in os1 while a sync sends the previous one, or
// while it reads the server's cards, is never lost: it stays marked and
// goes to the server at the next sync.
func TestEditsDuringASyncAreKept(t *testing.T) {
	r := newRig(t)
	r.put("cat.vcf", catherine)
	r.sync()
	cat := r.contact("Catherine Lima")
	edit := func(v string) {
		c, err := r.svc.Store.Contact(t.Context(), "usr_ana", cat.ID)
		if err != nil {
			t.Error(err)
			return
		}
		hs := append(c.Handles, contacts.Handle{Kind: contacts.Email, Value: v})
		if _, err := r.svc.Update(t.Context(), "usr_ana", cat.ID, contacts.Edit{Handles: &hs}); err != nil {
			t.Error(err)
		}
	}
	syncer := r.svc.Syncer.(*carddavsync.Syncer)

	// While the first edit is PUT, a second one is made.
	edit("one@example.org")
	a := r.hooked("PUT", func() { edit("two@example.org") })
	if _, err := syncer.Sync(t.Context(), "usr_ana", a); err != nil {
		t.Fatal(err)
	}
	if c := r.contact("Catherine Lima"); !c.LocalChange || len(c.Handles) != 3 {
		t.Fatalf("the edit made during the push: %+v", c)
	}
	r.sync()
	if _, body := r.get("cat.vcf"); !strings.Contains(body, "one@example.org") || !strings.Contains(body, "two@example.org") {
		t.Fatalf("the server's card after the next sync:\n%s", body)
	}

	// While the server's changed card is read, the user edits it in os1.
	r.put("cat.vcf", strings.Replace(catherine, "ORG:", "TEL:+1 555 0100\nORG:", 1))
	a = r.hooked("REPORT", func() { edit("three@example.org") })
	if _, err := syncer.Sync(t.Context(), "usr_ana", a); err != nil {
		t.Fatal(err)
	}
	if c := r.contact("Catherine Lima"); !c.LocalChange || !strings.Contains(fmt.Sprint(c.Handles), "three@example.org") {
		t.Fatalf("the edit made during the pull was overwritten: %+v", c.Handles)
	}
	rep := r.sync()
	if len(rep.Conflicts) != 1 {
		t.Fatalf("the next sync: %+v", rep)
	}
	_, body := r.get("cat.vcf")
	for _, want := range []string{"three@example.org", "+1 555 0100"} {
		if !strings.Contains(body, want) {
			t.Fatalf("the server's card lacks %q:\n%s", want, body)
		}
	}
}

// A contact made in os1 in a synced address book is created on the server
// at the next sync (If-None-Match: *), and edited there like any card; an
// address book that is not the user's is refused.
func TestCreateInASyncedAddressBook(t *testing.T) {
	r := newRig(t)
	r.put("cat.vcf", catherine)
	r.sync()
	books, err := r.svc.Books(t.Context(), "usr_ana")
	if err != nil || len(books) != 1 || books[0].Path != book {
		t.Fatalf("books: %+v %v", books, err)
	}
	if _, err := r.svc.Create(t.Context(), "usr_ben", contacts.Contact{Name: "Mallory", AccountID: books[0].AccountID, Book: book}); err == nil {
		t.Fatal("ben made a card in ana's address book")
	}
	c, err := r.svc.Create(t.Context(), "usr_ana", contacts.Contact{Name: "Ana Souza", AccountID: books[0].AccountID, Book: book,
		Handles: []contacts.Handle{{Kind: contacts.Email, Value: "ana@example.org"}}})
	if err != nil {
		t.Fatal(err)
	}
	if rep := r.sync(); rep.Pushed != 1 || rep.Pulled != 0 || len(rep.Conflicts) != 0 {
		t.Fatalf("the sync that creates it: %+v", rep)
	}
	code, body := r.get(c.ID + ".vcf")
	if code != 200 || !strings.Contains(body, "FN:Ana Souza") || !strings.Contains(body, "ana@example.org") {
		t.Fatalf("the server's card: %d\n%s", code, body)
	}
	hs := []contacts.Handle{{Kind: contacts.Email, Value: "ana@new.example"}}
	if _, err := r.svc.Update(t.Context(), "usr_ana", c.ID, contacts.Edit{Handles: &hs}); err != nil {
		t.Fatal(err)
	}
	r.sync()
	if _, body := r.get(c.ID + ".vcf"); !strings.Contains(body, "ana@new.example") || strings.Contains(body, "ana@example.org") {
		t.Fatalf("after an edit:\n%s", body)
	}
}
