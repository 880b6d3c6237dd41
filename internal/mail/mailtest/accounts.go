package mailtest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/mail"
)

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
