package mailtest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/mail"
)

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
	for i := range 600 {
		many = append(many, message("acc_a", "INBOX", uint32(i+1), fmt.Sprint("n", i)))
	}
	e.mustPut(t, e.ana, many...)
	seen := map[string]bool{}
	for _, m := range many {
		if m.ID == "" || seen[m.ID] {
			t.Fatalf("PutMessages of 600: id %q empty or repeated", m.ID)
		}
		seen[m.ID] = true
	}
	if list, err := e.s.Messages(e.ctx, e.ana, mail.Query{Limit: 500}); err != nil || len(list) != 500 {
		t.Errorf("after 600 puts: %d listed, %v", len(list), err)
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
