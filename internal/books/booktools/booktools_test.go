package booktools_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/books"
	"github.com/os1ai/os1/internal/books/booktools"
	"github.com/os1ai/os1/internal/books/sqlitebooks"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/mailtools"
	"github.com/os1ai/os1/internal/mail/smtpsend/smtptest"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

type fixedModel struct{ p llm.Provider }

func (f fixedModel) Provider(context.Context) (llm.Provider, error) { return f.p, nil }

type desk map[string]books.Letter

func (d desk) Letters(_ context.Context, user string) ([]books.Letter, error) {
	var out []books.Letter
	for _, l := range d {
		if user == "usr_ana" {
			out = append(out, l)
		}
	}
	return out, nil
}

func (d desk) Letter(_ context.Context, user, id string) (books.Letter, error) {
	if l, ok := d[id]; ok && user == "usr_ana" {
		return l, nil
	}
	return books.Letter{}, books.ErrNotFound
}

type press struct{}

func (press) Typeset(_ context.Context, format string, m books.Manuscript, w io.Writer, p func(int, int)) error {
	fmt.Fprintf(w, "%%PDF-1.7 %s", m.Title)
	for _, l := range m.Letters {
		fmt.Fprintf(w, "\n%s", l.Body)
	}
	p(1, 1)
	return nil
}

type accounts []mail.Account

func (a accounts) Accounts(_ context.Context, user string) ([]mail.Account, error) {
	if user == "usr_ana" {
		return a, nil
	}
	return nil, nil
}

func collect(t *testing.T, evs iter.Seq[companion.Event]) []companion.Event {
	t.Helper()
	done := make(chan []companion.Event)
	go func() {
		var out []companion.Event
		for ev := range evs {
			out = append(out, ev)
		}
		done <- out
	}()
	select {
	case out := <-done:
		return out
	case <-time.After(30 * time.Second):
		t.Fatal("the turn did not finish")
		return nil
	}
}

// Through a real turn: she proposes book_send with her cover letter; the
// card shows the exact From, To, Subject, body and attachment (name and
// size); nothing reaches the SMTP sink until the user approves, and then
// the sink gets the message with the book attached.
func TestSendWaitsForApproval(t *testing.T) {
	r := testrig.New(t)
	u := r.User("ana", store.RoleOwner)
	sink := smtptest.Start(t, smtptest.Options{Passwords: map[string]string{"ana": "pw"}})
	acct := mail.Account{ID: "acc_1", UserID: u.ID, Address: "ana@example.org", Username: "ana", SMTP: sink.Endpoint(), Auth: mail.AuthPassword}
	sender := mailtools.SMTP{SignIn: func(context.Context, mail.Account) (mail.Credentials, error) {
		return mail.Credentials{Password: "pw"}, nil
	}}
	svc := &books.Service{Store: sqlitebooks.New(r.DB), Letters: desk{"doc_1": {ID: "doc_1", Title: "To Chris", Body: "Dear Chris, happy fiftieth."}},
		Typesetter: press{}, Clock: r.Clock, IDs: clock.NewFakeIDs(),
		Mail: &books.Mail{Accounts: accounts{acct}, Sender: sender, Clock: r.Clock, IDs: clock.NewFakeIDs()}}
	t.Cleanup(func() { svc.Close() })
	ctx := t.Context()
	b, err := svc.Create(ctx, u.ID, books.NewBook{Title: "Letters to Friends", Author: "Ana", Letters: []string{"doc_1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Build(ctx, u.ID, b.ID, books.PDF); err != nil {
		t.Fatal(err)
	}
	testrig.Eventually(t, 5*time.Second, "built", func() (bool, string) {
		st, _ := svc.Status(ctx, u.ID, b.ID, books.PDF)
		return st.State == books.StateDone, st.State
	})
	file, _ := svc.File(ctx, u.ID, b.ID, books.PDF)

	tools := companion.NewRegistry()
	if err := booktools.Register(tools, svc); err != nil {
		t.Fatal(err)
	}
	comp := r.Companion(companion.Deps{Models: fixedModel{r.Provider()}, Tools: tools, Clock: clock.System{}},
		companion.Options{FlushEvery: 10 * time.Millisecond})
	// She learns the file's fingerprint from book_list.
	var list companion.Tool
	for _, x := range booktools.Tools(svc) {
		if x.Name == "list" {
			list = x
		}
	}
	listed, err := list.Run(ctx, companion.Call{UserID: u.ID, Args: json.RawMessage(`{}`)})
	if err != nil || !strings.Contains(listed, "pdf (file "+file.SHA256[:16]) {
		t.Fatalf("book_list: %q, %v", listed, err)
	}
	args, _ := json.Marshal(map[string]any{"book_id": b.ID, "format": "pdf", "to": "editor@press.example",
		"cover_letter": "Dear editor,\n\nI enclose my letters.\n\nAna", "file": file.SHA256[:16]})
	r.LLM.Enqueue(llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "book_send", Arguments: args}}})
	evs, err := comp.Send(ctx, u.ID, "", "Send my book to editor@press.example")
	if err != nil {
		t.Fatal(err)
	}
	var action *companion.ActionView
	for _, ev := range collect(t, evs) {
		if ev.Type == companion.EvActionRequired {
			action = ev.Action
		}
	}
	if action == nil {
		t.Fatal("no approval was asked")
	}
	for _, want := range []string{"From: ana@example.org", "To: editor@press.example", "Subject: Manuscript: Letters to Friends",
		"  I enclose my letters.", fmt.Sprintf("Attachment: Letters-to-Friends.pdf (application/pdf, %d bytes)", file.Size)} {
		if !strings.Contains(action.Summary, want) {
			t.Errorf("the card lacks %q:\n%s", want, action.Summary)
		}
	}
	if ds := sink.Deliveries(); len(ds) != 0 {
		t.Fatalf("sent before approval: %d", len(ds))
	}
	r.LLM.Enqueue(llmtest.Reply{Chunks: []string{"Sent."}})
	devs, err := comp.Decide(ctx, u.ID, action.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	collect(t, devs)
	ds := sink.Deliveries()
	if len(ds) != 1 || ds[0].From != "ana@example.org" || len(ds[0].Rcpts) != 1 || ds[0].Rcpts[0] != "editor@press.example" {
		t.Fatalf("deliveries: %+v", ds)
	}
	data := string(ds[0].Data)
	enc := base64.StdEncoding.EncodeToString(file.Data)
	if !strings.Contains(data, `filename="Letters-to-Friends.pdf"`) && !strings.Contains(data, "filename=Letters-to-Friends.pdf") {
		t.Fatalf("no attachment name in:\n%s", data)
	}
	if !strings.Contains(strings.ReplaceAll(data, "\r\n", ""), enc) {
		t.Fatalf("the attachment is not the built file:\n%s", data)
	}
}

// A book the user has not built, or another user's, gives a card that
// says so and a run that sends nothing.
func TestSendRefusesUnbuiltAndOthers(t *testing.T) {
	r := testrig.New(t)
	u := r.User("ana", store.RoleOwner)
	ben := r.User("ben", store.RoleMember)
	sink := smtptest.Start(t, smtptest.Options{Passwords: map[string]string{"ana": "pw"}})
	acct := mail.Account{ID: "acc_1", UserID: u.ID, Address: "ana@example.org", Username: "ana", SMTP: sink.Endpoint(), Auth: mail.AuthPassword}
	svc := &books.Service{Store: sqlitebooks.New(r.DB), Letters: desk{"doc_1": {ID: "doc_1", Title: "T", Body: "B"}}, Typesetter: press{},
		Clock: r.Clock, IDs: clock.NewFakeIDs(), Mail: &books.Mail{Accounts: accounts{acct}, Sender: mailtools.SMTP{SignIn: func(context.Context, mail.Account) (mail.Credentials, error) {
			return mail.Credentials{Password: "pw"}, nil
		}}, Clock: r.Clock, IDs: clock.NewFakeIDs()}}
	t.Cleanup(func() { svc.Close() })
	b, err := svc.Create(t.Context(), u.ID, books.NewBook{Title: "T", Letters: []string{"doc_1"}})
	if err != nil {
		t.Fatal(err)
	}
	var send companion.Tool
	for _, x := range booktools.Tools(svc) {
		if x.Name == "send" {
			send = x
		}
	}
	args, _ := json.Marshal(map[string]any{"book_id": b.ID, "to": "editor@press.example", "cover_letter": "Hello", "file": "0123456789abcdef"})
	if card := send.Review(t.Context(), store.Action{UserID: u.ID, Arguments: args}); !strings.Contains(card, "build the PDF first") {
		t.Fatalf("card of an unbuilt book: %s", card)
	}
	if _, err := send.Run(t.Context(), companion.Call{UserID: u.ID, Args: args}); err == nil {
		t.Fatal("sent an unbuilt book")
	}
	if _, err := svc.Build(t.Context(), u.ID, b.ID, books.PDF); err != nil {
		t.Fatal(err)
	}
	testrig.Eventually(t, 5*time.Second, "built", func() (bool, string) {
		st, _ := svc.Status(t.Context(), u.ID, b.ID, books.PDF)
		return st.State == books.StateDone, st.State
	})
	// The file approved is not the one built now (a rebuild since the card):
	// the card and the run both refuse.
	if card := send.Review(t.Context(), store.Action{UserID: u.ID, Arguments: args}); !strings.Contains(card, "changed since you approved") {
		t.Fatalf("card of another file: %s", card)
	}
	if _, err := send.Run(t.Context(), companion.Call{UserID: u.ID, Args: args}); !errors.Is(err, books.ErrChanged) {
		t.Fatalf("sent another file than approved: %v", err)
	}
	noFile, _ := json.Marshal(map[string]any{"book_id": b.ID, "to": "editor@press.example", "cover_letter": "Hello"})
	if _, err := send.Run(t.Context(), companion.Call{UserID: u.ID, Args: noFile}); err == nil || !strings.Contains(err.Error(), "fingerprint") {
		t.Fatalf("sent without naming the file: %v", err)
	}
	if _, err := send.Run(t.Context(), companion.Call{UserID: ben.ID, Args: args}); err == nil {
		t.Fatal("ben sent ana's book")
	}
	if n := len(sink.Deliveries()); n != 0 {
		t.Fatalf("%d sent", n)
	}
}
