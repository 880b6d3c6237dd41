// Package mailtest is the contract every mail.Store backend passes:
// accounts, folders, messages, triage, search and rules kept per user, with
// another user's ids answering mail.ErrNotFound on every method; messages
// upserted by where they live on the server, keeping os1's id and triage;
// an account's folders and messages going with it; hostile search text
// taken as words, never as query syntax; and huge subjects and bodies
// stored whole and searchable.
package mailtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/mail"
)

// Open returns a fresh, empty store, and newUser, which creates a user of
// that name in the store's database and returns the user's id.
type Open func(t *testing.T) (s mail.Store, newUser func(name string) string)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// env is one test's store with two users, ana and bob.
type env struct {
	ctx      context.Context
	s        mail.Store
	ana, bob string
}

func setup(t *testing.T, open Open) env {
	t.Parallel()
	s, newUser := open(t)
	return env{ctx: t.Context(), s: s, ana: newUser("ana"), bob: newUser("bob")}
}

func account(user, id, address string) mail.Account {
	return mail.Account{
		ID: id, UserID: user, Name: "Work", Address: address,
		IMAP:     mail.Endpoint{Host: "imap.example.com", Port: 993, Security: mail.TLS},
		SMTP:     mail.Endpoint{Host: "smtp.example.com", Port: 587, Security: mail.StartTLS},
		Username: address, Auth: mail.AuthPassword, Secret: "sealed:" + id, SyncDays: 30, CreatedAt: t0,
	}
}

// message is a message of acc in folder at uid, dated t0 plus uid minutes.
func message(acc, folder string, uid uint32, subject string) mail.Message {
	return mail.Message{
		AccountID: acc, Folder: folder, UIDValidity: 7, UID: uid,
		MessageID: fmt.Sprintf("m%d@example.com", uid), ThreadID: fmt.Sprintf("t%d", uid),
		From:    mail.Address{Name: "Someone", Email: "someone@example.org"},
		To:      []mail.Address{{Email: "me@example.com"}},
		Subject: subject, Date: t0.Add(time.Duration(uid) * time.Minute),
		Text: "Hello.", Size: 100,
	}
}

func (e env) mustAccount(t *testing.T, user, id, address string) mail.Account {
	t.Helper()
	a := account(user, id, address)
	if err := e.s.CreateAccount(e.ctx, a); err != nil {
		t.Fatalf("CreateAccount %s: %v", id, err)
	}
	return a
}

func (e env) mustPut(t *testing.T, user string, ms ...mail.Message) []mail.Message {
	t.Helper()
	if err := e.s.PutMessages(e.ctx, user, ms); err != nil {
		t.Fatalf("PutMessages: %v", err)
	}
	return ms
}

func (e env) mustMessage(t *testing.T, user, id string) mail.Message {
	t.Helper()
	m, err := e.s.Message(e.ctx, user, id)
	if err != nil {
		t.Fatalf("Message %s: %v", id, err)
	}
	return m
}

func ids(ms []mail.Message) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func subjects(ms []mail.Message) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Subject)
	}
	return out
}

// allSet fails the test when a field of v (a struct, nested structs
// included) is zero, save UserID, which the store sets: a field added to
// the mail types must be set in the round-trip fixtures, so the contract
// checks every backend keeps it.
func allSet(t *testing.T, what string, v any) {
	t.Helper()
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		if v.Kind() == reflect.Struct && v.Type() != reflect.TypeOf(time.Time{}) {
			for i := range v.NumField() {
				f := v.Type().Field(i)
				if f.Name != "UserID" {
					walk(path+"."+f.Name, v.Field(i))
				}
			}
			return
		}
		if v.IsZero() {
			t.Errorf("%s: %s is zero; set it so the contract checks it is kept", what, path)
		}
	}
	walk(reflect.TypeOf(v).Name(), reflect.ValueOf(v))
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, mail.ErrNotFound) {
		t.Errorf("%s: got %v, want ErrNotFound", what, err)
	}
}

// Run runs the contract against the stores open makes.
func Run(t *testing.T, open Open) {
	t.Run("Accounts", func(t *testing.T) { testAccounts(t, setup(t, open)) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, setup(t, open)) })
	t.Run("MessageRoundTrip", func(t *testing.T) { testRoundTrip(t, setup(t, open)) })
	t.Run("UpsertKeepsIDAndTriage", func(t *testing.T) { testUpsert(t, setup(t, open)) })
	t.Run("PutMessagesAllOrNone", func(t *testing.T) { testAllOrNone(t, setup(t, open)) })
	t.Run("Folders", func(t *testing.T) { testFolders(t, setup(t, open)) })
	t.Run("ResetFolder", func(t *testing.T) { testResetFolder(t, setup(t, open)) })
	t.Run("Flags", func(t *testing.T) { testFlags(t, setup(t, open)) })
	t.Run("Move", func(t *testing.T) { testMove(t, setup(t, open)) })
	t.Run("DeleteMessages", func(t *testing.T) { testDeleteMessages(t, setup(t, open)) })
	t.Run("Query", func(t *testing.T) { testQuery(t, setup(t, open)) })
	t.Run("Triage", func(t *testing.T) { testTriage(t, setup(t, open)) })
	t.Run("Search", func(t *testing.T) { testSearch(t, setup(t, open)) })
	t.Run("Rules", func(t *testing.T) { testRules(t, setup(t, open)) })
	t.Run("DeleteAccountCascades", func(t *testing.T) { testCascade(t, setup(t, open)) })
	t.Run("HugeMessage", func(t *testing.T) { testHuge(t, setup(t, open)) })
}
