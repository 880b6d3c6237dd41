package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/smtpsend"
	"github.com/os1ai/os1/internal/reminders"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/store"
)

// Reminders by email (docs/reminders.md). The policy: a user who turned on
// "Also email me reminders" (Settings → Reminders; off by default) and has
// a mail account connected gets each reminder and wake-up call that fires
// as an email from their own address to their own address, through that
// account's SMTP server (the oldest account, when there are several). It
// goes besides the open pages and Web Push, not instead: an email is the
// copy that is still there later.
//
// Sending to oneself needs no approval, so the email holds nothing but the
// reminder's own words (the user's), its time and a line saying why it
// came: no model text, no mail, no memory.

// reminderEmailKey + user ID is the setting ("on"); the ".<user>" suffix
// makes store.DeleteUser remove it with the account.
const reminderEmailKey = "reminders.email."

// ReminderEmail is a user's reminders-by-email setting (as the API shows it).
type ReminderEmail = server.ReminderEmail

// EmailReminders reads userID's setting and the address it mails.
func (a *App) EmailReminders(ctx context.Context, userID string) (ReminderEmail, error) {
	v, err := a.DB.Setting(ctx, reminderEmailKey+userID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return ReminderEmail{}, err
	}
	r := ReminderEmail{On: v == "on"}
	if acct, ok, err := a.reminderAccount(ctx, userID); err != nil {
		return r, err
	} else if ok {
		r.Address = acct.Address
	}
	return r, nil
}

// SetEmailReminders turns reminders by email on or off for userID.
func (a *App) SetEmailReminders(ctx context.Context, userID string, on bool) (ReminderEmail, error) {
	var err error
	if on {
		err = a.DB.SetSetting(ctx, reminderEmailKey+userID, "on")
	} else {
		err = a.DB.DeleteSetting(ctx, reminderEmailKey+userID)
	}
	if err != nil {
		return ReminderEmail{}, err
	}
	return a.EmailReminders(ctx, userID)
}

// reminderAccount is the account reminders are mailed through: the user's
// oldest; ok is false without mail or an account.
func (a *App) reminderAccount(ctx context.Context, userID string) (mail.Account, bool, error) {
	if a.Mail == nil {
		return mail.Account{}, false, nil
	}
	accts, err := a.Mail.Service.Accounts(ctx, userID)
	if err != nil || len(accts) == 0 {
		return mail.Account{}, false, err
	}
	first := accts[0]
	for _, x := range accts[1:] {
		if x.CreatedAt.Before(first.CreatedAt) {
			first = x
		}
	}
	return first, true, nil
}

// submitter submits a composed message (smtpsend.Sender).
type submitter interface {
	Send(ctx context.Context, acct mail.Account, creds mail.Credentials, raw []byte, from string, rcpts []string) error
}

// reminderMailTimeout bounds one reminder's submission.
const reminderMailTimeout = 30 * time.Second

// mailReminder is the reminders.Notifier that emails a fired reminder to
// its user (a.Mail is built after the reminders, so it is read when one
// fires). Notify decides and composes at once, then hands the submission to
// a goroutine: a slow or unreachable mail server never delays the open
// pages and Web Push, which the scheduler tells after it. A failed
// submission is logged; Close waits for those under way.
type mailReminder struct {
	a    *App
	smtp submitter // nil: smtpsend.Sender{}
	wg   *sync.WaitGroup
	log  *slog.Logger
}

func newMailReminder(a *App, log *slog.Logger) mailReminder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return mailReminder{a: a, wg: &sync.WaitGroup{}, log: log}
}

var _ reminders.Notifier = mailReminder{}

func (m mailReminder) Notify(ctx context.Context, n reminders.Notice) error {
	set, err := m.a.EmailReminders(ctx, n.UserID)
	if err != nil {
		return err
	}
	if !set.On || set.Address == "" {
		return reminders.ErrNoRecipient
	}
	acct, ok, err := m.a.reminderAccount(ctx, n.UserID)
	if err != nil || !ok {
		return cmpErr(err, reminders.ErrNoRecipient)
	}
	raw, err := reminderMessage(acct.Address, n, m.a.Reminders.Service.Location(ctx, n.UserID), m.a.Clock)
	if err != nil {
		return err
	}
	var s submitter = &smtpsend.Sender{Timeout: reminderMailTimeout}
	if m.smtp != nil {
		s = m.smtp
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				m.log.Error("email a reminder: panic", "reminder", n.ReminderID, "panic", r)
			}
		}()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reminderMailTimeout)
		defer cancel()
		creds, err := m.a.Mail.Service.SignIn(ctx, acct)
		if err == nil {
			err = s.Send(ctx, acct, creds, raw, acct.Address, []string{acct.Address})
		}
		if err != nil {
			m.log.Warn("email a reminder", "reminder", n.ReminderID, "user", n.UserID, "account", acct.ID, "err", err)
		}
	}()
	return nil
}

// Close waits for the emails being sent.
func (m mailReminder) Close() error {
	m.wg.Wait()
	return nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// reminderMessage is the email of a fired reminder: from and to addr, the
// line os1 says as its subject, and in its body that line, when it was due
// and why the email came. Nothing else.
func reminderMessage(addr string, n reminders.Notice, loc *time.Location, c clock.Clock) ([]byte, error) {
	subject := n.Line
	if r := []rune(subject); len(r) > 120 {
		subject = string(r[:119]) + "…"
	}
	var body strings.Builder
	body.WriteString(n.Line + "\n\n")
	fmt.Fprintf(&body, "Due %s (%s).\n\n", n.Due.In(loc).Format("Monday 2 January 2006, 15:04 MST"), loc)
	body.WriteString("-- \nos1 sent this to you because \"Also email me reminders\" is on (Settings → Reminders).\n")
	me := mail.Address{Email: addr}
	d := smtpsend.Draft{From: me, To: []mail.Address{me}, Subject: subject, Body: body.String()}
	return smtpsend.Compose(d, c, clock.RandomIDs{})
}
