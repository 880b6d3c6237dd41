package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/calendar/radicaletest"
	"github.com/os1ai/os1/internal/contacts"
	"github.com/os1ai/os1/internal/store"
)

// The calendar as the app wires it: a CalDAV account's password sealed
// with the data dir's secret.key, a sync against Radicale, and the local
// calendar beside it.
func TestCalendarWired(t *testing.T) {
	srv := radicaletest.Start(t)
	srv.AddUser("ana", "radicale-password-of-ana")
	srv.MakeCalendar("ana", "work", "Work")
	cfg := testConfigWith(t)
	ctx := context.Background()
	a, err := NewTalk(ctx, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Calendar == nil {
		t.Fatal("no calendar in os1 talk")
	}
	if err := a.DB.CreateUser(ctx, store.User{ID: "usr_ana", Username: "ana", DisplayName: "Ana", Role: store.RoleMember,
		PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	svc := a.Calendar.Service
	acct, err := svc.AddAccount(ctx, "usr_ana", calendar.AccountInput{URL: srv.URL, Username: "ana", Password: "radicale-password-of-ana"})
	if err != nil {
		t.Fatal(err)
	}
	// A short password could appear in the sealed text's base64 by chance;
	// this one cannot.
	if strings.Contains(acct.Secret, "radicale-password") {
		t.Fatal("the password is stored in the clear")
	}
	cals, _ := svc.Store.ListCalendars(ctx, "usr_ana")
	if len(cals) != 0 {
		t.Fatalf("calendars before the first sync: %v", cals)
	}
	if rep, err := svc.Sync(ctx, "usr_ana", acct.ID); err != nil || rep.Calendars != 1 {
		t.Fatalf("sync: %+v %v", rep, err)
	}
	if _, err := svc.LocalCalendar(ctx, "usr_ana"); err != nil {
		t.Fatal(err)
	}
	if cals, _ := svc.Store.ListCalendars(ctx, "usr_ana"); len(cals) != 2 {
		t.Errorf("calendars: %+v", cals)
	}
}

// The calendar tools find "Ana" and "my sister" in the contacts, each
// user in their own.
func TestCalendarPeopleFromContacts(t *testing.T) {
	cfg := testConfigWith(t)
	ctx := context.Background()
	a, err := NewTalk(ctx, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Contacts == nil {
		t.Fatal("no contacts in os1 talk")
	}
	for _, u := range []string{"usr_theo", "usr_amy"} {
		if err := a.DB.CreateUser(ctx, store.User{ID: u, Username: strings.TrimPrefix(u, "usr_"), DisplayName: u, Role: store.RoleMember,
			PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Contacts.Create(ctx, "usr_theo", contacts.Contact{Name: "Catherine Twombly", Relation: "sister",
		Handles: []contacts.Handle{{Kind: contacts.Email, Value: "cathy@example.org"}, {Kind: contacts.Phone, Value: "+1 555 0100"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Contacts.Create(ctx, "usr_theo", contacts.Contact{Name: "Ana Souza",
		Handles: []contacts.Handle{{Kind: contacts.Email, Value: "ana@example.org"}}}); err != nil {
		t.Fatal(err)
	}
	p := calendarPeople{a: a}
	for who, want := range map[string]string{"Ana": "ana@example.org", "my sister": "cathy@example.org"} {
		got, err := p.Emails(ctx, "usr_theo", who)
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("Emails(%q) = %v, %v; want [%s]", who, got, err, want)
		}
	}
	if got, err := p.Emails(ctx, "usr_amy", "Ana"); err != nil || len(got) != 0 {
		t.Errorf("another user's contacts reached: %v, %v", got, err)
	}
}
