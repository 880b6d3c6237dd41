package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/imapsync"
	"github.com/os1ai/os1/internal/mail/smtpsend/smtptest"
	"github.com/os1ai/os1/internal/mail/sqlitemail"
	"github.com/os1ai/os1/internal/secret"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// TestUnsubscribeMailIsSent: a mailto: unsubscribe goes out over SMTP from
// the user's account, composed by smtpsend, to the list's address only.
func TestUnsubscribeMailIsSent(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	box, err := secret.LoadOrCreateKey(filepath.Join(t.TempDir(), "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))
	if err := db.CreateUser(ctx, store.User{ID: "usr_ana", Username: "ana", DisplayName: "Ana", Role: store.RoleMember, PasswordHash: "x", CreatedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	sink := smtptest.Start(t, smtptest.Options{Passwords: map[string]string{"ana@example.org": "pw"}})
	svc := &mail.Service{Store: sqlitemail.New(db), Sealer: box, Clock: clk, IDs: clock.NewFakeIDs(), Every: -1}
	acct, err := svc.AddAccount(ctx, "usr_ana", mail.AccountInput{Address: "ana@example.org", Password: "pw",
		IMAP: mail.Endpoint{Host: "127.0.0.1", Port: 1, Security: mail.Plain}, SMTP: sink.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	engine := &imapsync.Engine{Now: clk.Now}
	b := newBulk(svc, engine, sendAndFile{svc: svc, engine: engine, log: slog.New(slog.DiscardHandler)})
	if err := b.Mailer.SendText(ctx, acct, mail.Address{Email: "leave@list.example"}, "unsubscribe climb", "unsubscribe"); err != nil {
		t.Fatal(err)
	}
	ds := sink.Deliveries()
	if len(ds) != 1 || ds[0].From != "ana@example.org" || len(ds[0].Rcpts) != 1 || ds[0].Rcpts[0] != "leave@list.example" {
		t.Fatalf("deliveries: %+v", ds)
	}
	data := string(ds[0].Data)
	for _, want := range []string{"From: <ana@example.org>", "To: <leave@list.example>", "Subject: unsubscribe climb"} {
		if !strings.Contains(data, want) {
			t.Errorf("the mail lacks %q:\n%s", want, data)
		}
	}
}
