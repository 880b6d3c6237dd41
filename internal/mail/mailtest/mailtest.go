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
	"strings"
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

func testAccounts(t *testing.T, e env) {
	a := account(e.ana, "acc_1", "ana@example.com")
	a.LastSyncAt = t0.Add(time.Hour)
	a.LastError = "timeout"
	allSet(t, "the round-trip account", a)
	if err := e.s.CreateAccount(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.Account(e.ctx, e.ana, "acc_1")
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("Account = %+v, %v; want %+v", got, err, a)
	}

	// The same id, or the same address in another case, is a conflict.
	if err := e.s.CreateAccount(e.ctx, account(e.ana, "acc_1", "other@example.com")); !errors.Is(err, mail.ErrConflict) {
		t.Errorf("a taken id: got %v, want ErrConflict", err)
	}
	if err := e.s.CreateAccount(e.ctx, account(e.ana, "acc_2", "ANA@example.com")); !errors.Is(err, mail.ErrConflict) {
		t.Errorf("a taken address: got %v, want ErrConflict", err)
	}
	// Another user may have an account of the same address.
	e.mustAccount(t, e.bob, "acc_b", "ana@example.com")
	for _, bad := range []mail.Account{account(e.ana, "", "x@example.com"), account(e.ana, "acc_x", ""), account("", "acc_y", "y@example.com")} {
		if err := e.s.CreateAccount(e.ctx, bad); err == nil {
			t.Errorf("CreateAccount %+v: no error", bad)
		}
	}

	// SyncDays defaults.
	d := account(e.ana, "acc_3", "ana@home.example")
	d.SyncDays = 0
	d.CreatedAt = t0.Add(time.Minute)
	if err := e.s.CreateAccount(e.ctx, d); err != nil {
		t.Fatal(err)
	}
	if got, err := e.s.Account(e.ctx, e.ana, "acc_3"); err != nil || got.SyncDays != mail.DefaultSyncDays {
		t.Errorf("SyncDays 0 read back as %d (%v), want %d", got.SyncDays, err, mail.DefaultSyncDays)
	}

	list, err := e.s.Accounts(e.ctx, e.ana)
	if err != nil || len(list) != 2 || list[0].ID != "acc_1" || list[1].ID != "acc_3" {
		t.Errorf("Accounts(ana) = %v, %v; want acc_1, acc_3", list, err)
	}
	all, err := e.s.AllAccounts(e.ctx)
	if err != nil || len(all) != 3 {
		t.Errorf("AllAccounts = %d accounts, %v; want 3", len(all), err)
	}
	for _, acc := range all {
		if want := map[string]string{"acc_1": e.ana, "acc_3": e.ana, "acc_b": e.bob}[acc.ID]; acc.UserID != want {
			t.Errorf("AllAccounts: %s has user %q, want %q", acc.ID, acc.UserID, want)
		}
	}

	// Update replaces everything but the user and CreatedAt.
	u := a
	u.Name, u.Address, u.Username, u.Secret = "Personal", "ana@new.example", "ana2", "sealed:new"
	u.IMAP = mail.Endpoint{Host: "127.0.0.1", Port: 1143, Security: mail.Plain}
	u.Auth, u.SyncDays, u.LastSyncAt, u.LastError = mail.AuthOAuth2, 7, t0.Add(2*time.Hour), ""
	u.CreatedAt = t0.Add(time.Hour)
	if err := e.s.UpdateAccount(e.ctx, u); err != nil {
		t.Fatal(err)
	}
	u.CreatedAt = a.CreatedAt
	if got, err := e.s.Account(e.ctx, e.ana, "acc_1"); err != nil || !reflect.DeepEqual(got, u) {
		t.Errorf("after UpdateAccount: %+v, %v; want %+v", got, err, u)
	}
	u.Address = "ana@home.example" // acc_3's
	if err := e.s.UpdateAccount(e.ctx, u); !errors.Is(err, mail.ErrConflict) {
		t.Errorf("UpdateAccount to a taken address: got %v, want ErrConflict", err)
	}
	wantNotFound(t, "UpdateAccount of an unknown id", e.s.UpdateAccount(e.ctx, account(e.ana, "acc_none", "z@example.com")))

	if err := e.s.DeleteAccount(e.ctx, e.ana, "acc_1"); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Account(e.ctx, e.ana, "acc_1")
	wantNotFound(t, "Account after DeleteAccount", err)
	wantNotFound(t, "DeleteAccount twice", e.s.DeleteAccount(e.ctx, e.ana, "acc_1"))
}

// testIsolation tries every method as bob on ana's ids, then checks ana's
// data is unchanged.
func testIsolation(t *testing.T, e env) {
	a := e.mustAccount(t, e.ana, "acc_a", "ana@example.com")
	e.mustAccount(t, e.bob, "acc_b", "bob@example.com")
	folder := mail.Folder{AccountID: "acc_a", Name: "INBOX", Role: mail.RoleInbox, UIDValidity: 7, UIDNext: 2, Messages: 1}
	if err := e.s.SaveFolder(e.ctx, e.ana, folder); err != nil {
		t.Fatal(err)
	}
	m := e.mustPut(t, e.ana, message("acc_a", "INBOX", 1, "Deposit for the flat"))[0]
	rule := mail.Rule{ID: "rule_1", UserID: e.ana, Text: "landlord is important", Enabled: true, CreatedAt: t0,
		Understood: mail.RuleSpec{From: []string{"landlord"}, Summary: "from the landlord: important"}}
	if err := e.s.SaveRule(e.ctx, rule); err != nil {
		t.Fatal(err)
	}
	before := e.mustMessage(t, e.ana, m.ID)

	_, err := e.s.Account(e.ctx, e.bob, "acc_a")
	wantNotFound(t, "Account", err)
	if list, err := e.s.Accounts(e.ctx, e.bob); err != nil || len(list) != 1 || list[0].ID != "acc_b" {
		t.Errorf("Accounts(bob) = %v, %v; want only acc_b", list, err)
	}
	stolen := account(e.bob, "acc_a", "bob2@example.com")
	wantNotFound(t, "UpdateAccount", e.s.UpdateAccount(e.ctx, stolen))
	wantNotFound(t, "DeleteAccount", e.s.DeleteAccount(e.ctx, e.bob, "acc_a"))
	_, err = e.s.Folders(e.ctx, e.bob, "acc_a")
	wantNotFound(t, "Folders", err)
	wantNotFound(t, "SaveFolder", e.s.SaveFolder(e.ctx, e.bob, mail.Folder{AccountID: "acc_a", Name: "INBOX", UIDValidity: 99}))
	wantNotFound(t, "SaveFolder of a new folder", e.s.SaveFolder(e.ctx, e.bob, mail.Folder{AccountID: "acc_a", Name: "Bob's"}))
	wantNotFound(t, "ResetFolder", e.s.ResetFolder(e.ctx, e.bob, "acc_a", "INBOX"))
	overwrite := message("acc_a", "INBOX", 1, "Send me your password")
	wantNotFound(t, "PutMessages onto ana's message", e.s.PutMessages(e.ctx, e.bob, []mail.Message{overwrite}))
	wantNotFound(t, "PutMessages into ana's account", e.s.PutMessages(e.ctx, e.bob, []mail.Message{message("acc_a", "INBOX", 2, "new")}))
	_, err = e.s.Message(e.ctx, e.bob, m.ID)
	wantNotFound(t, "Message", err)
	_, err = e.s.MessageByUID(e.ctx, e.bob, "acc_a", "INBOX", 1)
	wantNotFound(t, "MessageByUID", err)
	for _, q := range []mail.Query{{}, {AccountID: "acc_a"}, {Folder: "INBOX"}, {ThreadID: m.ThreadID}} {
		if list, err := e.s.Messages(e.ctx, e.bob, q); err != nil || len(list) != 0 {
			t.Errorf("Messages(bob, %+v) = %v, %v; want none", q, ids(list), err)
		}
	}
	wantNotFound(t, "SetFlags", e.s.SetFlags(e.ctx, e.bob, m.ID, []string{mail.FlagSeen}))
	wantNotFound(t, "MoveMessage", e.s.MoveMessage(e.ctx, e.bob, m.ID, "Trash", 5))
	wantNotFound(t, "SetTriage", e.s.SetTriage(e.ctx, e.bob, m.ID, mail.Triage{Category: mail.Spam, At: t0}))
	if err := e.s.DeleteMessages(e.ctx, e.bob, []string{m.ID}); err != nil {
		t.Errorf("DeleteMessages(bob, ana's id): %v", err)
	}
	if list, err := e.s.Untriaged(e.ctx, e.bob, 0); err != nil || len(list) != 0 {
		t.Errorf("Untriaged(bob) = %v, %v; want none", ids(list), err)
	}
	if list, err := e.s.Search(e.ctx, e.bob, "deposit flat", 0); err != nil || len(list) != 0 {
		t.Errorf("Search(bob) = %v, %v; want none", ids(list), err)
	}
	if list, err := e.s.Rules(e.ctx, e.bob); err != nil || len(list) != 0 {
		t.Errorf("Rules(bob) = %v, %v; want none", list, err)
	}
	wantNotFound(t, "DeleteRule", e.s.DeleteRule(e.ctx, e.bob, "rule_1"))
	// A rule of bob's with the same id is bob's own.
	if err := e.s.SaveRule(e.ctx, mail.Rule{ID: "rule_1", UserID: e.bob, Text: "archive everything", Enabled: true}); err != nil {
		t.Errorf("SaveRule(bob, rule_1): %v", err)
	}

	// Ana's data is as it was.
	if got, err := e.s.Account(e.ctx, e.ana, "acc_a"); err != nil || !reflect.DeepEqual(got, a) {
		t.Errorf("ana's account after bob: %+v, %v", got, err)
	}
	if got, err := e.s.Folders(e.ctx, e.ana, "acc_a"); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], folder) {
		t.Errorf("ana's folders after bob: %+v, %v; want %+v", got, err, folder)
	}
	if got := e.mustMessage(t, e.ana, m.ID); !reflect.DeepEqual(got, before) {
		t.Errorf("ana's message after bob:\n got %+v\nwant %+v", got, before)
	}
	if list, err := e.s.Messages(e.ctx, e.ana, mail.Query{}); err != nil || len(list) != 1 {
		t.Errorf("ana's messages after bob: %v, %v; want 1", ids(list), err)
	}
	if got, err := e.s.Rules(e.ctx, e.ana); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], rule) {
		t.Errorf("ana's rules after bob: %+v, %v; want %+v", got, err, rule)
	}
}

func testRoundTrip(t *testing.T, e env) {
	e.mustAccount(t, e.ana, "acc_a", "ana@example.com")
	m := mail.Message{
		ID: "mm_given", AccountID: "acc_a", Folder: "INBOX", UIDValidity: 4000000000, UID: 4294967295,
		MessageID: "abc@example.org", InReplyTo: "prev@example.com", References: []string{"first@example.com", "prev@example.com"},
		ThreadID: "thr_1", From: mail.Address{Name: "Rosa Díaz", Email: "rosa@example.org"},
		To:      []mail.Address{{Name: "Ana", Email: "ana@example.com"}, {Email: "x@example.com"}},
		Cc:      []mail.Address{{Email: "cc@example.com"}},
		ReplyTo: []mail.Address{{Email: "reply@example.org"}},
		Subject: "Re: the deposit 🏠", Date: time.Date(2026, 2, 3, 4, 5, 6, 789, time.UTC),
		Text:  "Line one\nLine two\x00 after a NUL",
		Parts: []mail.Part{{Name: "lease.pdf", MIME: "application/pdf", Size: 12345, Path: "2"}},
		Flags: []string{mail.FlagSeen, "$Label1"}, Size: 99999,
		ListID: "list.example.org", ListUnsubscribe: "<https://example.org/u>", ListUnsubscribePost: "List-Unsubscribe=One-Click",
		AuthResults: "dkim=pass",
		Precedence:  "bulk",
		Triage:      mail.Triage{Category: mail.NeedsReply, Importance: 0.75, Reason: "from your landlord", Summary: "deposit", By: "rules", At: t0, Archive: true},
	}
	allSet(t, "the round-trip message", m)
	other := message("acc_a", "INBOX", 2, "no id given")
	ms := e.mustPut(t, e.ana, m, other)
	if ms[0].ID != "mm_given" {
		t.Errorf("a new message's given id became %q", ms[0].ID)
	}
	if ms[1].ID == "" || ms[1].ID == ms[0].ID {
		t.Errorf("a new message without id got %q", ms[1].ID)
	}
	want := m
	want.UserID = e.ana
	got := e.mustMessage(t, e.ana, "mm_given")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	if byUID, err := e.s.MessageByUID(e.ctx, e.ana, "acc_a", "INBOX", 4294967295); err != nil || !reflect.DeepEqual(byUID, want) {
		t.Errorf("MessageByUID = %+v, %v", byUID, err)
	}
	if got := e.mustMessage(t, e.ana, ms[1].ID); got.Subject != "no id given" || got.UserID != e.ana {
		t.Errorf("message with an assigned id: %+v", got)
	}
	_, err := e.s.MessageByUID(e.ctx, e.ana, "acc_a", "INBOX", 3)
	wantNotFound(t, "MessageByUID of an unknown uid", err)
	_, err = e.s.MessageByUID(e.ctx, e.ana, "acc_a", "Archive", 2)
	wantNotFound(t, "MessageByUID in another folder", err)
	_, err = e.s.Message(e.ctx, e.ana, "mm_none")
	wantNotFound(t, "Message of an unknown id", err)
	// The same uid under another UIDVALIDITY is another message.
	newer := message("acc_a", "INBOX", 2, "same uid, new validity")
	newer.UIDValidity = 8
	e.mustPut(t, e.ana, newer)
	if list, _ := e.s.Messages(e.ctx, e.ana, mail.Query{}); len(list) != 3 {
		t.Errorf("after a put under a new UIDVALIDITY: %d messages, want 3", len(list))
	}
	// With the folder's UIDVALIDITY saved, MessageByUID answers from it.
	for _, v := range []uint32{7, 8} {
		if err := e.s.SaveFolder(e.ctx, e.ana, mail.Folder{AccountID: "acc_a", Name: "INBOX", UIDValidity: v}); err != nil {
			t.Fatal(err)
		}
		if got, err := e.s.MessageByUID(e.ctx, e.ana, "acc_a", "INBOX", 2); err != nil || got.UIDValidity != v {
			t.Errorf("MessageByUID with the folder at UIDVALIDITY %d: %+v, %v", v, got, err)
		}
	}
	// A message id taken by another message is a conflict.
	dup := message("acc_a", "INBOX", 3, "dup")
	dup.ID = "mm_given"
	if err := e.s.PutMessages(e.ctx, e.ana, []mail.Message{dup}); !errors.Is(err, mail.ErrConflict) {
		t.Errorf("PutMessages with a taken id: got %v, want ErrConflict", err)
	}
	if err := e.s.PutMessages(e.ctx, e.ana, []mail.Message{message("acc_none", "INBOX", 1, "x")}); !errors.Is(err, mail.ErrNotFound) {
		t.Errorf("PutMessages into an unknown account: got %v, want ErrNotFound", err)
	}
	if err := e.s.PutMessages(e.ctx, e.ana, []mail.Message{message("acc_a", "", 1, "x")}); err == nil {
		t.Errorf("PutMessages without a folder: no error")
	}
	if err := e.s.PutMessages(e.ctx, e.ana, nil); err != nil {
		t.Errorf("PutMessages of nothing: %v", err)
	}
	// Updated and deleted, the index follows (a NUL in the text included).
	m.Text = "now without"
	e.mustPut(t, e.ana, m)
	if err := e.s.DeleteMessages(e.ctx, e.ana, []string{"mm_given"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Message(e.ctx, e.ana, "mm_given")
	wantNotFound(t, "a deleted message", err)
}

func testUpsert(t *testing.T, e env) {
	e.mustAccount(t, e.ana, "acc_a", "ana@example.com")
	first := e.mustPut(t, e.ana, message("acc_a", "INBOX", 1, "old words zebra"))[0]
	tri := mail.Triage{Category: mail.FYI, Importance: 0.4, Reason: "a list", Summary: "s", By: "model", At: t0}
	if err := e.s.SetTriage(e.ctx, e.ana, first.ID, tri); err != nil {
		t.Fatal(err)
	}
	again := message("acc_a", "INBOX", 1, "new words giraffe")
	again.ID = "mm_other" // ignored: the stored message keeps its id
	again.Flags = []string{mail.FlagSeen}
	again.Triage = mail.Triage{Category: mail.Spam, At: t0.Add(time.Hour)} // ignored too
	again.Text = "fresh body"
	ms := e.mustPut(t, e.ana, again)
	if ms[0].ID != first.ID {
		t.Errorf("upsert: id written back %q, want the stored %q", ms[0].ID, first.ID)
	}
	got := e.mustMessage(t, e.ana, first.ID)
	if got.Subject != "new words giraffe" || got.Text != "fresh body" || !got.HasFlag(mail.FlagSeen) {
		t.Errorf("upsert did not replace the content: %+v", got)
	}
	if !reflect.DeepEqual(got.Triage, tri) {
		t.Errorf("upsert lost the triage: %+v, want %+v", got.Triage, tri)
	}
	if _, err := e.s.Message(e.ctx, e.ana, "mm_other"); !errors.Is(err, mail.ErrNotFound) {
		t.Errorf("upsert stored a second message under the given id: %v", err)
	}
	if list, _ := e.s.Messages(e.ctx, e.ana, mail.Query{}); len(list) != 1 {
		t.Errorf("upsert: %d messages, want 1", len(list))
	}
	// The index follows the content.
	if hits, err := e.s.Search(e.ctx, e.ana, "zebra", 0); err != nil || len(hits) != 0 {
		t.Errorf("search for the old subject: %v, %v; want none", ids(hits), err)
	}
	if hits, err := e.s.Search(e.ctx, e.ana, "giraffe", 0); err != nil || len(hits) != 1 {
		t.Errorf("search for the new subject: %v, %v; want it", ids(hits), err)
	}
}

func testAllOrNone(t *testing.T, e env) {
	e.mustAccount(t, e.ana, "acc_a", "ana@example.com")
	good := message("acc_a", "INBOX", 1, "fine")
	bad := message("acc_missing", "INBOX", 2, "no account")
	if err := e.s.PutMessages(e.ctx, e.ana, []mail.Message{good, bad}); !errors.Is(err, mail.ErrNotFound) {
		t.Fatalf("PutMessages with one bad message: got %v, want ErrNotFound", err)
	}
	if list, err := e.s.Messages(e.ctx, e.ana, mail.Query{}); err != nil || len(list) != 0 {
		t.Errorf("after a failed PutMessages: %v stored, want none", subjects(list))
	}
	// Many in one call.
	var many []mail.Message
	for i := range 1200 {
		many = append(many, message("acc_a", "INBOX", uint32(i+1), fmt.Sprint("n", i)))
	}
	e.mustPut(t, e.ana, many...)
	seen := map[string]bool{}
	for _, m := range many {
		if m.ID == "" || seen[m.ID] {
			t.Fatalf("PutMessages of 1200: id %q empty or repeated", m.ID)
		}
		seen[m.ID] = true
	}
	if list, err := e.s.Messages(e.ctx, e.ana, mail.Query{Limit: 500}); err != nil || len(list) != 500 {
		t.Errorf("after 1200 puts: %d listed, %v", len(list), err)
	}
}

func testFolders(t *testing.T, e env) {
	e.mustAccount(t, e.ana, "acc_a", "ana@example.com")
	e.mustAccount(t, e.ana, "acc_2", "ana@home.example")
	if got, err := e.s.Folders(e.ctx, e.ana, "acc_a"); err != nil || len(got) != 0 {
		t.Errorf("Folders of a new account: %v, %v", got, err)
	}
	inbox := mail.Folder{AccountID: "acc_a", Name: "INBOX", Role: mail.RoleInbox, UIDValidity: 1, UIDNext: 10,
		HighestModSeq: 1<<63 - 1, Messages: 9, SyncedTo: t0, Complete: true}
	allSet(t, "the round-trip folder", inbox)
	sent := mail.Folder{AccountID: "acc_a", Name: "Sent", Role: mail.RoleSent, UIDValidity: 2, UIDNext: 1}
	for _, f := range []mail.Folder{sent, inbox, {AccountID: "acc_2", Name: "INBOX"}} {
		if err := e.s.SaveFolder(e.ctx, e.ana, f); err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.s.Folders(e.ctx, e.ana, "acc_a")
	if err != nil || !reflect.DeepEqual(got, []mail.Folder{inbox, sent}) {
		t.Errorf("Folders = %+v, %v; want INBOX, Sent", got, err)
	}
	inbox.UIDNext, inbox.Complete, inbox.SyncedTo = 12, false, time.Time{}
	if err := e.s.SaveFolder(e.ctx, e.ana, inbox); err != nil {
		t.Fatal(err)
	}
	if got, err := e.s.Folders(e.ctx, e.ana, "acc_a"); err != nil || len(got) != 2 || !reflect.DeepEqual(got[0], inbox) {
		t.Errorf("after saving again: %+v, %v; want %+v first", got, err, inbox)
	}
	wantNotFound(t, "SaveFolder of an unknown account", e.s.SaveFolder(e.ctx, e.ana, mail.Folder{AccountID: "acc_none", Name: "INBOX"}))
	_, err = e.s.Folders(e.ctx, e.ana, "acc_none")
	wantNotFound(t, "Folders of an unknown account", err)
	if err := e.s.SaveFolder(e.ctx, e.ana, mail.Folder{AccountID: "acc_a"}); err == nil {
		t.Errorf("SaveFolder without a name: no error")
	}
}

func testResetFolder(t *testing.T, e env) {
	e.mustAccount(t, e.ana, "acc_a", "ana@example.com")
	e.mustAccount(t, e.ana, "acc_2", "ana@home.example")
	e.mustPut(t, e.ana,
		message("acc_a", "INBOX", 1, "inbox one quokka"), message("acc_a", "INBOX", 2, "inbox two quokka"),
		message("acc_a", "Archive", 1, "archived quokka"), message("acc_2", "INBOX", 1, "other account quokka"))
	if err := e.s.ResetFolder(e.ctx, e.ana, "acc_a", "INBOX"); err != nil {
		t.Fatal(err)
	}
	list, err := e.s.Messages(e.ctx, e.ana, mail.Query{})
	if got := strings.Join(subjects(list), ","); err != nil || got != "other account quokka,archived quokka" {
		t.Errorf("after ResetFolder: %s, %v", got, err)
	}
	if hits, err := e.s.Search(e.ctx, e.ana, "quokka", 0); err != nil || len(hits) != 2 {
		t.Errorf("search after ResetFolder: %v, %v; want 2", subjects(hits), err)
	}
	if err := e.s.ResetFolder(e.ctx, e.ana, "acc_a", "Empty"); err != nil {
		t.Errorf("ResetFolder of an empty folder: %v", err)
	}
	wantNotFound(t, "ResetFolder of an unknown account", e.s.ResetFolder(e.ctx, e.ana, "acc_none", "INBOX"))
}

func testFlags(t *testing.T, e env) {
	e.mustAccount(t, e.ana, "acc_a", "ana@example.com")
	ms := e.mustPut(t, e.ana, message("acc_a", "INBOX", 1, "one"), message("acc_a", "INBOX", 2, "two"))
	unread := func() string {
		list, err := e.s.Messages(e.ctx, e.ana, mail.Query{Unread: true})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(subjects(list), ",")
	}
	if got := unread(); got != "two,one" {
		t.Errorf("unread at first: %s", got)
	}
	if err := e.s.SetFlags(e.ctx, e.ana, ms[0].ID, []string{`\seen`, mail.FlagFlagged}); err != nil {
		t.Fatal(err)
	}
	if got := e.mustMessage(t, e.ana, ms[0].ID); !reflect.DeepEqual(got.Flags, []string{`\seen`, mail.FlagFlagged}) {
		t.Errorf("flags = %v", got.Flags)
	}
	if got := unread(); got != "two" {
		t.Errorf("unread after \\seen (any case): %s, want two", got)
	}
	if err := e.s.SetFlags(e.ctx, e.ana, ms[0].ID, nil); err != nil {
		t.Fatal(err)
	}
	if got := e.mustMessage(t, e.ana, ms[0].ID); len(got.Flags) != 0 {
		t.Errorf("flags after clearing = %v", got.Flags)
	}
	if got := unread(); got != "two,one" {
		t.Errorf("unread after clearing: %s", got)
	}
	// A put carrying \Seen marks it read too.
	seen := message("acc_a", "INBOX", 2, "two")
	seen.Flags = []string{mail.FlagSeen}
	e.mustPut(t, e.ana, seen)
	if got := unread(); got != "one" {
		t.Errorf("unread after a put with \\Seen: %s, want one", got)
	}
	wantNotFound(t, "SetFlags of an unknown id", e.s.SetFlags(e.ctx, e.ana, "mm_none", nil))
}

func testMove(t *testing.T, e env) {
	e.mustAccount(t, e.ana, "acc_a", "ana@example.com")
	ms := e.mustPut(t, e.ana, message("acc_a", "INBOX", 1, "one"), message("acc_a", "INBOX", 2, "two"),
		message("acc_a", "INBOX", 3, "three"), message("acc_a", "Archive", 5, "archived"))
	if err := e.s.SaveFolder(e.ctx, e.ana, mail.Folder{AccountID: "acc_a", Name: "Archive", UIDValidity: 7}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.MoveMessage(e.ctx, e.ana, ms[0].ID, "Archive", 9); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.MessageByUID(e.ctx, e.ana, "acc_a", "Archive", 9)
	if err != nil || got.ID != ms[0].ID || got.Folder != "Archive" || got.UID != 9 || got.Subject != "one" {
		t.Errorf("after the move: %+v, %v", got, err)
	}
	_, err = e.s.MessageByUID(e.ctx, e.ana, "acc_a", "INBOX", 1)
	wantNotFound(t, "the old place after a move", err)
	// The destination's saved UIDVALIDITY is taken.
	if err := e.s.SaveFolder(e.ctx, e.ana, mail.Folder{AccountID: "acc_a", Name: "Trash", UIDValidity: 70}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.MoveMessage(e.ctx, e.ana, ms[1].ID, "Trash", 1); err != nil {
		t.Fatal(err)
	}
	if got := e.mustMessage(t, e.ana, ms[1].ID); got.UIDValidity != 70 {
		t.Errorf("moved to Trash: UIDVALIDITY %d, want the folder's 70", got.UIDValidity)
	}
	// Onto a UID already taken: a conflict.
	if err := e.s.MoveMessage(e.ctx, e.ana, ms[2].ID, "Archive", 5); !errors.Is(err, mail.ErrConflict) {
		t.Errorf("move onto a taken UID: got %v, want ErrConflict", err)
	}
	// UID 0 (not known yet) never conflicts.
	for _, m := range ms[1:3] {
		if err := e.s.MoveMessage(e.ctx, e.ana, m.ID, "Junk", 0); err != nil {
			t.Errorf("move to Junk with UID 0: %v", err)
		}
	}
	if list, err := e.s.Messages(e.ctx, e.ana, mail.Query{Folder: "Junk"}); err != nil || len(list) != 2 || list[0].UID != 0 {
		t.Errorf("Junk after two moves with UID 0: %+v, %v", list, err)
	}
	wantNotFound(t, "MoveMessage of an unknown id", e.s.MoveMessage(e.ctx, e.ana, "mm_none", "INBOX", 1))
}

func testDeleteMessages(t *testing.T, e env) {
	e.mustAccount(t, e.ana, "acc_a", "ana@example.com")
	var in []mail.Message
	for i := range 600 {
		in = append(in, message("acc_a", "INBOX", uint32(i+1), fmt.Sprint("walrus ", i)))
	}
	ms := e.mustPut(t, e.ana, in...)
	del := append(ids(ms[:550]), "mm_none")
	if err := e.s.DeleteMessages(e.ctx, e.ana, del); err != nil {
		t.Fatal(err)
	}
	list, err := e.s.Messages(e.ctx, e.ana, mail.Query{Limit: 500})
	if err != nil || len(list) != 50 {
		t.Fatalf("after deleting 550 of 600: %d left, %v", len(list), err)
	}
	if _, err := e.s.Message(e.ctx, e.ana, ms[0].ID); !errors.Is(err, mail.ErrNotFound) {
		t.Errorf("a deleted message: %v", err)
	}
	if hits, err := e.s.Search(e.ctx, e.ana, "walrus", 500); err != nil || len(hits) != 50 {
		t.Errorf("search after deleting: %d hits, %v; want 50", len(hits), err)
	}
	if err := e.s.DeleteMessages(e.ctx, e.ana, nil); err != nil {
		t.Errorf("DeleteMessages of nothing: %v", err)
	}
}

func testQuery(t *testing.T, e env) {
	e.mustAccount(t, e.ana, "acc_a", "ana@example.com")
	e.mustAccount(t, e.ana, "acc_2", "ana@home.example")
	var in []mail.Message
	for i := range 520 {
		m := message("acc_a", "INBOX", uint32(i+1), fmt.Sprint("m", i+1))
		if i%2 == 0 {
			m.Folder = "Archive"
		}
		if i%3 == 0 {
			m.Flags = []string{mail.FlagSeen}
		}
		if i < 4 {
			m.ThreadID = "thread_x"
		}
		in = append(in, m)
	}
	other := message("acc_2", "INBOX", 1, "other")
	other.Date = t0.Add(-time.Hour)
	in = append(in, other)
	ms := e.mustPut(t, e.ana, in...)
	if err := e.s.SetTriage(e.ctx, e.ana, ms[10].ID, mail.Triage{Category: mail.Receipt, At: t0}); err != nil {
		t.Fatal(err)
	}
	count := func(q mail.Query) int {
		list, err := e.s.Messages(e.ctx, e.ana, q)
		if err != nil {
			t.Fatalf("Messages %+v: %v", q, err)
		}
		for i := 1; i < len(list); i++ {
			if list[i].Date.After(list[i-1].Date) {
				t.Fatalf("Messages %+v: not newest first at %d", q, i)
			}
		}
		return len(list)
	}
	for _, c := range []struct {
		q    mail.Query
		want int
	}{
		{mail.Query{}, mail.DefaultLimit},
		{mail.Query{Limit: 10}, 10},
		{mail.Query{Limit: 100000}, 500},
		{mail.Query{AccountID: "acc_2"}, 1},
		{mail.Query{AccountID: "acc_a", Folder: "INBOX", Limit: 500}, 260},
		{mail.Query{Folder: "INBOX", Limit: 500}, 261},
		{mail.Query{Unread: true, Limit: 500}, 521 - 174},
		{mail.Query{Category: mail.Receipt}, 1},
		{mail.Query{ThreadID: "thread_x"}, 4},
		{mail.Query{Before: t0.Add(5 * time.Minute)}, 5}, // uids 1-4 and the other account's
		{mail.Query{AccountID: "acc_a", Before: t0.Add(5 * time.Minute), Folder: "Archive"}, 2},
	} {
		if got := count(c.q); got != c.want {
			t.Errorf("Messages %+v: %d messages, want %d", c.q, got, c.want)
		}
	}
	list, _ := e.s.Messages(e.ctx, e.ana, mail.Query{Limit: 3})
	if got := strings.Join(subjects(list), ","); got != "m520,m519,m518" {
		t.Errorf("newest three: %s", got)
	}
	// Paging by Before.
	page2, _ := e.s.Messages(e.ctx, e.ana, mail.Query{Limit: 3, Before: list[2].Date})
	if got := strings.Join(subjects(page2), ","); got != "m517,m516,m515" {
		t.Errorf("the page after m518: %s", got)
	}
}

func testTriage(t *testing.T, e env) {
	e.mustAccount(t, e.ana, "acc_a", "ana@example.com")
	var in []mail.Message
	for i := range 60 {
		in = append(in, message("acc_a", "INBOX", uint32(i+1), fmt.Sprint("m", i+1)))
	}
	ms := e.mustPut(t, e.ana, in...)
	list, err := e.s.Untriaged(e.ctx, e.ana, 0)
	if err != nil || len(list) != mail.DefaultLimit || list[0].Subject != "m60" {
		t.Fatalf("Untriaged = %v, %v; want %d from m60", subjects(list), err, mail.DefaultLimit)
	}
	tri := mail.Triage{Category: mail.NeedsReply, Importance: 0.9, Reason: "from your sister", Summary: "asks about Sunday",
		By: "rule:r1", At: t0.Add(time.Hour), Archive: false}
	if err := e.s.SetTriage(e.ctx, e.ana, ms[59].ID, tri); err != nil {
		t.Fatal(err)
	}
	if got := e.mustMessage(t, e.ana, ms[59].ID); !reflect.DeepEqual(got.Triage, tri) || !got.Triage.Triaged() {
		t.Errorf("triage = %+v, want %+v", got.Triage, tri)
	}
	list, _ = e.s.Untriaged(e.ctx, e.ana, 100)
	if len(list) != 59 || list[0].Subject != "m59" {
		t.Errorf("Untriaged after one triage: %v; want 59 from m59", subjects(list))
	}
	if list, _ := e.s.Untriaged(e.ctx, e.ana, 2); len(list) != 2 {
		t.Errorf("Untriaged limit 2: %d", len(list))
	}
	// A zero At clears triage.
	if err := e.s.SetTriage(e.ctx, e.ana, ms[59].ID, mail.Triage{}); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.s.Untriaged(e.ctx, e.ana, 100); len(list) != 60 {
		t.Errorf("Untriaged after clearing: %d, want 60", len(list))
	}
	wantNotFound(t, "SetTriage of an unknown id", e.s.SetTriage(e.ctx, e.ana, "mm_none", tri))
}

func testSearch(t *testing.T, e env) {
	e.mustAccount(t, e.ana, "acc_a", "ana@example.com")
	e.mustAccount(t, e.bob, "acc_b", "bob@example.com")
	landlord := message("acc_a", "INBOX", 1, "About the flat")
	landlord.From = mail.Address{Name: "Karl Vermieter", Email: "karl@hausverwaltung.example"}
	landlord.Text = "The deposit will be returned on Friday."
	climbing := message("acc_a", "INBOX", 2, "Climbing club newsletter")
	climbing.Text = "Bouldering night on Tuesday."
	receipt := message("acc_a", "Archive", 3, "Your receipt")
	receipt.Text = "Thanks for your order of climbing shoes."
	ms := e.mustPut(t, e.ana, landlord, climbing, receipt)
	bobs := message("acc_b", "INBOX", 1, "Bob's deposit")
	bobs.From = mail.Address{Name: "Karl", Email: "karl@hausverwaltung.example"}
	e.mustPut(t, e.bob, bobs)

	for _, c := range []struct{ q, want string }{
		{"flat", "About the flat"},                                          // subject
		{"Vermieter", "About the flat"},                                     // sender's name
		{"karl@hausverwaltung.example", "About the flat"},                   // sender's address
		{"hausverwaltung", "About the flat"},                                // part of the address
		{"deposit", "About the flat"},                                       // text
		{"what did the landlord say about the DEPOSITS?", "About the flat"}, // stemmed, any case, stopwords
		{"bouldering", "Climbing club newsletter"},
		{"rücksendung receipt", "Your receipt"},
	} {
		hits, err := e.s.Search(e.ctx, e.ana, c.q, 0)
		if err != nil || len(hits) == 0 || hits[0].Subject != c.want {
			t.Errorf("Search %q = %v, %v; want %q first", c.q, subjects(hits), err, c.want)
		}
		for _, h := range hits {
			if h.UserID != e.ana {
				t.Errorf("Search %q found another user's message %s", c.q, h.ID)
			}
		}
	}
	// A word in the subject ranks above the same word in a body.
	hits, err := e.s.Search(e.ctx, e.ana, "climbing", 0)
	if got := strings.Join(subjects(hits), ","); err != nil || got != "Climbing club newsletter,Your receipt" {
		t.Errorf("Search climbing = %s, %v", got, err)
	}
	// Among equals, the newest first; limit applies.
	twins := []mail.Message{message("acc_a", "INBOX", 10, "twin okapi"), message("acc_a", "INBOX", 11, "twin okapi")}
	e.mustPut(t, e.ana, twins...)
	hits, err = e.s.Search(e.ctx, e.ana, "okapi", 0)
	if err != nil || len(hits) != 2 || hits[0].ID != twins[1].ID {
		t.Errorf("Search okapi = %v, %v; want the newer twin %s first", ids(hits), err, twins[1].ID)
	}
	if hits, _ := e.s.Search(e.ctx, e.ana, "okapi", 1); len(hits) != 1 {
		t.Errorf("Search limit 1: %d hits", len(hits))
	}
	// Hostile and empty queries are words or nothing, never errors.
	for _, q := range []string{`"`, `""`, `*`, `deposit*`, `NEAR(`, `NEAR(deposit flat, 1)`, `OR`, `AND`, `NOT`,
		`deposit OR`, `OR deposit`, `subject:flat`, `sender:karl`, `{subject sender}: flat`, `^flat`, `(`, `)`,
		`- deposit`, `+`, `'`, `\`, "\x00", ``, `   `, `the`, `a b c`, `"unterminated`, `col:"x"`, `🏠`,
		strings.Repeat("deposit ", 5000), strings.Repeat("é", 3000)} {
		if _, err := e.s.Search(e.ctx, e.ana, q, 0); err != nil {
			t.Errorf("Search %q: %v", q, err)
		}
	}
	// Syntax is text: "NEAR(deposit" finds the deposit, column filters don't apply.
	if hits, err := e.s.Search(e.ctx, e.ana, `NEAR(deposit`, 0); err != nil || len(hits) == 0 || hits[0].ID != ms[0].ID {
		t.Errorf(`Search "NEAR(deposit" = %v, %v`, subjects(hits), err)
	}
	if hits, err := e.s.Search(e.ctx, e.ana, `text:bouldering`, 0); err != nil || len(hits) != 1 {
		t.Errorf(`Search "text:bouldering" = %v, %v`, subjects(hits), err)
	}
	if hits, err := e.s.Search(e.ctx, e.ana, `the`, 0); err != nil || len(hits) != 0 {
		t.Errorf(`Search "the" = %v, %v; want nothing`, subjects(hits), err)
	}
	// Isolation: bob finds only his own.
	hits, err = e.s.Search(e.ctx, e.bob, "deposit karl flat bouldering", 0)
	if err != nil || len(hits) != 1 || hits[0].Subject != "Bob's deposit" {
		t.Errorf("Search as bob = %v, %v; want only his own", subjects(hits), err)
	}
}

func testRules(t *testing.T, e env) {
	yes, no := true, false
	r1 := mail.Rule{ID: "r1", UserID: e.ana, Text: "archive newsletters unless they're from the climbing club",
		Understood: mail.RuleSpec{Categories: []mail.Category{mail.Newsletter}, UnlessFrom: []string{"climbing"},
			Archive: true, Summary: "archive newsletters, not the climbing club's"},
		Enabled: true, CreatedAt: t0}
	allSet(t, "the round-trip rule", mail.Rule{ID: "r", UserID: "u", Text: "t", Enabled: true, CreatedAt: t0,
		Understood: mail.RuleSpec{From: []string{"a"}, Subject: []string{"b"}, Words: []string{"c"},
			Categories: []mail.Category{mail.FYI}, UnlessFrom: []string{"d"}, Category: mail.Receipt,
			Important: new(bool), Archive: true, Summary: "s"}})
	r2 := mail.Rule{ID: "r2", UserID: e.ana, Text: "anything from my landlord is important",
		Understood: mail.RuleSpec{From: []string{"hausverwaltung.example"}, Important: &yes, Summary: "landlord: important"},
		CreatedAt:  t0.Add(time.Minute)}
	for _, r := range []mail.Rule{r2, r1} {
		if err := e.s.SaveRule(e.ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.s.Rules(e.ctx, e.ana)
	if err != nil || !reflect.DeepEqual(got, []mail.Rule{r1, r2}) {
		t.Fatalf("Rules = %+v, %v; want r1, r2", got, err)
	}
	r2.Understood.Important = &no
	r2.Enabled = true
	r2.Text = "my landlord is not important"
	if err := e.s.SaveRule(e.ctx, r2); err != nil {
		t.Fatal(err)
	}
	got, _ = e.s.Rules(e.ctx, e.ana)
	if len(got) != 2 || !reflect.DeepEqual(got[1], r2) || *got[1].Understood.Important {
		t.Errorf("after saving r2 again: %+v", got)
	}
	if err := e.s.DeleteRule(e.ctx, e.ana, "r1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.s.Rules(e.ctx, e.ana); len(got) != 1 || got[0].ID != "r2" {
		t.Errorf("after DeleteRule r1: %+v", got)
	}
	wantNotFound(t, "DeleteRule twice", e.s.DeleteRule(e.ctx, e.ana, "r1"))
	if err := e.s.SaveRule(e.ctx, mail.Rule{UserID: e.ana, Text: "no id"}); err == nil {
		t.Errorf("SaveRule without an id: no error")
	}
}

func testCascade(t *testing.T, e env) {
	e.mustAccount(t, e.ana, "acc_a", "ana@example.com")
	e.mustAccount(t, e.ana, "acc_2", "ana@home.example")
	if err := e.s.SaveFolder(e.ctx, e.ana, mail.Folder{AccountID: "acc_a", Name: "INBOX"}); err != nil {
		t.Fatal(err)
	}
	gone := e.mustPut(t, e.ana, message("acc_a", "INBOX", 1, "capybara one"), message("acc_a", "Sent", 1, "capybara two"))
	kept := e.mustPut(t, e.ana, message("acc_2", "INBOX", 1, "capybara kept"))
	if err := e.s.DeleteAccount(e.ctx, e.ana, "acc_a"); err != nil {
		t.Fatal(err)
	}
	for _, m := range gone {
		_, err := e.s.Message(e.ctx, e.ana, m.ID)
		wantNotFound(t, "a message of a deleted account", err)
	}
	_, err := e.s.Folders(e.ctx, e.ana, "acc_a")
	wantNotFound(t, "Folders of a deleted account", err)
	if list, err := e.s.Messages(e.ctx, e.ana, mail.Query{}); err != nil || len(list) != 1 || list[0].ID != kept[0].ID {
		t.Errorf("messages after deleting acc_a: %v, %v; want only acc_2's", subjects(list), err)
	}
	if hits, err := e.s.Search(e.ctx, e.ana, "capybara", 0); err != nil || len(hits) != 1 || hits[0].ID != kept[0].ID {
		t.Errorf("search after deleting acc_a: %v, %v; want only acc_2's", subjects(hits), err)
	}
	// The account can be added again, empty.
	e.mustAccount(t, e.ana, "acc_a", "ana@example.com")
	if f, err := e.s.Folders(e.ctx, e.ana, "acc_a"); err != nil || len(f) != 0 {
		t.Errorf("a re-added account has folders %v, %v", f, err)
	}
}

func testHuge(t *testing.T, e env) {
	e.mustAccount(t, e.ana, "acc_a", "ana@example.com")
	m := message("acc_a", "INBOX", 1, "")
	m.Subject = "tapir " + strings.Repeat("kk ", (1<<20)/3)
	m.Text = "narwhal " + strings.Repeat("zz yy ", (5<<20)/6)
	m = e.mustPut(t, e.ana, m, message("acc_a", "INBOX", 2, "kk zz small"))[0]
	got := e.mustMessage(t, e.ana, m.ID)
	if got.Subject != m.Subject || got.Text != m.Text {
		t.Fatalf("huge message came back with a %d-byte subject and %d-byte text, want %d and %d",
			len(got.Subject), len(got.Text), len(m.Subject), len(m.Text))
	}
	for _, q := range []string{"tapir", "narwhal", "kk", "zz yy"} {
		hits, err := e.s.Search(e.ctx, e.ana, q, 0)
		if err != nil || len(hits) == 0 {
			t.Errorf("Search %q with a huge message stored: %d hits, %v", q, len(hits), err)
		}
	}
	// Updated and deleted whole.
	m.Text = "short now"
	e.mustPut(t, e.ana, m)
	if hits, err := e.s.Search(e.ctx, e.ana, "narwhal", 0); err != nil || len(hits) != 0 {
		t.Errorf("search for the old huge text: %v, %v", ids(hits), err)
	}
	if err := e.s.DeleteMessages(e.ctx, e.ana, []string{m.ID}); err != nil {
		t.Fatal(err)
	}
	if hits, err := e.s.Search(e.ctx, e.ana, "tapir", 0); err != nil || len(hits) != 0 {
		t.Errorf("search after deleting the huge message: %v, %v", ids(hits), err)
	}
}
