package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/smtpsend/smtptest"
	"github.com/os1ai/os1/internal/reminders"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

// TestRemindersByEmail: with "also email me reminders" on and a mail
// account connected, a reminder that fires in os1 serve is mailed from
// the user's own address to it through the account's SMTP server, and the
// email holds the reminder's words, its time and why it came, nothing
// else. Off (the default), or with no account, nothing is sent, and one
// user's setting does not mail another's reminders. Deleting the user
// deletes the setting.
func TestRemindersByEmail(t *testing.T) {
	sink := smtptest.Start(t, smtptest.Options{Passwords: map[string]string{"theo": "pw"}})
	cfg := testConfigWith(t, "OS1_MAIL_SYNC_EVERY", "0s")
	ctx := context.Background()
	a, err := New(ctx, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"usr_theo", "usr_amy"} {
		if err := a.DB.CreateUser(ctx, store.User{ID: id, Username: id[4:], DisplayName: id[4:], Role: store.RoleMember,
			PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := a.DB.SaveProfile(ctx, store.Profile{UserID: id, Timezone: "Europe/Berlin", UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	notice := reminders.Notice{UserID: "usr_theo", ReminderID: "job_1", Text: "call mum", Line: "Reminder: call mum",
		Due: time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC)}
	notify := newMailReminder(a, nil)

	// Off by default; on without an account has nowhere to send.
	if set, err := a.EmailReminders(ctx, "usr_theo"); err != nil || set.On || set.Address != "" {
		t.Fatalf("default setting: %+v %v", set, err)
	}
	if err := notify.Notify(ctx, notice); !errors.Is(err, reminders.ErrNoRecipient) {
		t.Errorf("off: %v", err)
	}
	if set, err := a.SetEmailReminders(ctx, "usr_theo", true); err != nil || !set.On || set.Address != "" {
		t.Fatalf("on without mail: %+v %v", set, err)
	}
	if err := notify.Notify(ctx, notice); !errors.Is(err, reminders.ErrNoRecipient) {
		t.Errorf("on without an account: %v", err)
	}

	// Connect an account (its credentials sealed as the service seals them).
	sealed, err := a.Secrets.Seal(`{"password":"pw"}`)
	if err != nil {
		t.Fatal(err)
	}
	acct := mail.Account{ID: "mac_theo", UserID: "usr_theo", Name: "Home", Address: "theo@example.com", Username: "theo",
		Auth: mail.AuthPassword, Secret: sealed, SMTP: sink.Endpoint(), IMAP: sink.Endpoint(), SyncDays: 30, CreatedAt: time.Now()}
	if err := a.Mail.Service.Store.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	if set, _ := a.EmailReminders(ctx, "usr_theo"); !set.On || set.Address != "theo@example.com" {
		t.Fatalf("on with an account: %+v", set)
	}
	if set, _ := a.EmailReminders(ctx, "usr_amy"); set.On || set.Address != "" {
		t.Fatalf("Amy's setting: %+v", set)
	}

	// A reminder fires in os1 serve: the scheduler tells every notifier.
	fire := func(user, text string) {
		t.Helper()
		p, _ := json.Marshal(map[string]string{"text": text, "zone": "Europe/Berlin"})
		if _, err := a.Reminders.Scheduler.Add(ctx, schedule.Job{UserID: user, Kind: reminders.KindReminder,
			Due: time.Now().Add(100 * time.Millisecond), Payload: p}); err != nil {
			t.Fatal(err)
		}
	}
	fire("usr_amy", "amy's own thing")
	fire("usr_theo", "water the basil")
	testrig.Eventually(t, 20*time.Second, "the reminder is mailed", func() (bool, string) {
		return len(sink.Deliveries()) >= 1, ""
	})
	ds := sink.Deliveries()
	if len(ds) != 1 {
		t.Fatalf("%d emails, want Theo's one", len(ds))
	}
	d := ds[0]
	if d.User != "theo" || d.From != "theo@example.com" || strings.Join(d.Rcpts, ",") != "theo@example.com" {
		t.Errorf("envelope %+v", d)
	}
	msg, err := mail.Parse(bytes.NewReader(d.Data), 0)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != "Reminder: water the basil" || msg.From.Email != "theo@example.com" || len(msg.To) != 1 || msg.To[0].Email != "theo@example.com" {
		t.Errorf("headers: subject %q from %+v to %+v", msg.Subject, msg.From, msg.To)
	}
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(msg.Text, "\r\n", "\n")), "\n")
	if len(lines) != 6 || lines[0] != "Reminder: water the basil" || !strings.HasPrefix(lines[2], "Due ") ||
		!strings.Contains(lines[2], "(Europe/Berlin)") || !strings.Contains(lines[5], "Also email me reminders") {
		t.Errorf("the email's text is not just the reminder:\n%s", msg.Text)
	}
	if strings.Contains(string(d.Data), "amy") {
		t.Error("Amy's reminder reached Theo's mail")
	}

	// A mail server that does not answer holds no reminder: Notify hands the
	// submission on and returns; Close waits for it.
	stuck := &stuckSubmitter{release: make(chan struct{}), started: make(chan struct{}, 1)}
	slow := newMailReminder(a, nil)
	slow.smtp = stuck
	done := make(chan error, 1)
	go func() { done <- slow.Notify(ctx, notice) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("notify with a stuck server: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a stuck mail server held the reminder")
	}
	<-stuck.started
	closed := make(chan struct{})
	go func() { slow.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close did not wait for the email under way")
	case <-time.After(50 * time.Millisecond):
	}
	close(stuck.release)
	<-closed

	// Off again: nothing more is sent.
	if _, err := a.SetEmailReminders(ctx, "usr_theo", false); err != nil {
		t.Fatal(err)
	}
	if err := notify.Notify(ctx, notice); !errors.Is(err, reminders.ErrNoRecipient) {
		t.Errorf("turned off: %v", err)
	}

	// The setting goes with the user.
	if _, err := a.SetEmailReminders(ctx, "usr_theo", true); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.DeleteUser(ctx, "usr_theo"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB.Setting(ctx, reminderEmailKey+"usr_theo"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the setting outlived its user: %v", err)
	}
}

// stuckSubmitter is a mail server that holds each submission until released.
type stuckSubmitter struct {
	release chan struct{}
	started chan struct{}
}

func (s *stuckSubmitter) Send(ctx context.Context, _ mail.Account, _ mail.Credentials, _ []byte, _ string, _ []string) error {
	s.started <- struct{}{}
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return nil
}
