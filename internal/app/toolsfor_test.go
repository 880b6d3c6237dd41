package app

import (
	"context"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/store"
)

// A user without a mail account is offered no mail tools (nor invitations,
// which go by mail); one with an account gets them. Each user's set is
// their own.
func TestToolsForOffersMailOnlyWithAnAccount(t *testing.T) {
	ctx := context.Background()
	a, err := New(ctx, testConfigWith(t, "OS1_MAIL_SYNC_EVERY", "0s"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Mail == nil {
		t.Fatal("no mail in os1 serve's app")
	}
	for _, u := range []string{"ana", "bob"} {
		if err := a.DB.CreateUser(ctx, store.User{ID: "usr_" + u, Username: u, Role: store.RoleMember, PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Mail.Service.Store.CreateAccount(ctx, mail.Account{ID: "mac_bob", UserID: "usr_bob", Address: "bob@example.org"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		user string
		mail bool
	}{{"usr_ana", false}, {"usr_bob", true}} {
		r, err := a.Companion.ToolsFor(ctx, c.user)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"mail_send", "mail_search", "calendar_invite", "calendar_respond"} {
			if _, ok := r.Lookup(name); ok != c.mail {
				t.Errorf("%s offered %s: %v, want %v", c.user, name, ok, c.mail)
			}
		}
		for _, name := range []string{"recall", "calendar_agenda", "reminders_add"} {
			if _, ok := r.Lookup(name); !ok {
				t.Errorf("%s is not offered %s", c.user, name)
			}
		}
	}
	// Everyone's registry still holds every tool (the UI's list, and the
	// summaries of stored actions).
	if _, ok := a.Companion.Tools().Lookup("mail_send"); !ok {
		t.Error("the full registry lost mail_send")
	}
}
