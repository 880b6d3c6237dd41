// Package toolstest builds, for tests, a companion with the mail tools over
// real parts: the rig's SQLite store holding the user's mail (sqlitemail),
// the scripted model behind the real OpenAI client, smtpsend submitting to
// go-smtp's server in-process (smtptest), and the companion's approval flow.
//
// It is imported only by tests and must never be linked into the os1 binary.
package toolstest

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/mailtools"
	"github.com/os1ai/os1/internal/mail/smtpsend"
	"github.com/os1ai/os1/internal/mail/smtpsend/smtptest"
	"github.com/os1ai/os1/internal/mail/sqlitemail"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

// The user and their mail world.
const (
	UserAddr   = "theo@example.com"
	FriendAddr = "amy@example.org" // the user has written to her (a message in Sent)
	Password   = "app-password"
)

// Harness is one test's companion with mail tools.
type Harness struct {
	T         testing.TB
	Rig       *testrig.Rig
	Mail      *sqlitemail.Store
	Sink      *smtptest.Sink
	Companion *companion.Companion
	Tools     *companion.Registry
	User      store.User
	Account   mail.Account
	uid       uint32
}

type fixedModel struct{ p llm.Provider }

// fetcher stands in for fetching an attachment from IMAP: its content is
// "content of <name>".
type fetcher struct{}

func (fetcher) Attachment(_ context.Context, _, _ string, p mail.Part) ([]byte, error) {
	return []byte("content of " + p.Name), nil
}

func (f fixedModel) Provider(context.Context) (llm.Provider, error) { return f.p, nil }

// New builds the harness: a user with one account whose SMTP is the sink,
// a Sent message to FriendAddr, the built-in tools and the mail tools.
func New(t testing.TB) *Harness {
	t.Helper()
	r := testrig.New(t)
	h := &Harness{T: t, Rig: r, Mail: sqlitemail.New(r.DB)}
	h.User = r.User("theo", store.RoleOwner)
	h.Sink = smtptest.Start(t, smtptest.Options{Passwords: map[string]string{UserAddr: Password}})
	h.Account = mail.Account{ID: "acc_work", UserID: h.User.ID, Name: "Work", Address: UserAddr, Username: UserAddr,
		Auth: mail.AuthPassword, SMTP: h.Sink.Endpoint(), IMAP: mail.Endpoint{Host: "127.0.0.1", Port: 1, Security: mail.Plain},
		Secret: "sealed", SyncDays: 90, CreatedAt: testrig.Start}
	ctx := context.Background()
	if err := h.Mail.CreateAccount(ctx, h.Account); err != nil {
		t.Fatal(err)
	}
	for _, f := range []mail.Folder{{AccountID: h.Account.ID, Name: "INBOX", Role: mail.RoleInbox, UIDValidity: 1},
		{AccountID: h.Account.ID, Name: "Sent", Role: mail.RoleSent, UIDValidity: 1}} {
		if err := h.Mail.SaveFolder(ctx, h.User.ID, f); err != nil {
			t.Fatal(err)
		}
	}
	h.Put("Sent", mail.Message{MessageID: "sent1@example.com", From: mail.Address{Email: UserAddr},
		To: []mail.Address{{Name: "Amy", Email: FriendAddr}}, Subject: "Dinner?", Text: "Are you free Friday?",
		Date: testrig.Start.Add(-48 * time.Hour)})

	sender := mailtools.SMTP{
		SignIn: func(context.Context, mail.Account) (mail.Credentials, error) {
			return mail.Credentials{Password: Password}, nil
		},
		Sender: &smtpsend.Sender{Timeout: 10 * time.Second},
	}
	deps := mailtools.Deps{Source: h.Mail, Correspondents: mailtools.SentTo{Store: h.Mail},
		Sender: sender, History: r.DB, Attachments: fetcher{}, Clock: r.Clock, IDs: clock.NewFakeIDs()}
	h.Tools = companion.NewRegistry()
	for _, tool := range companion.BuiltinTools(r.DB) {
		if err := h.Tools.Register(mailtools.Guard(deps, tool)); err != nil {
			t.Fatal(err)
		}
	}
	if err := mailtools.Register(h.Tools, deps); err != nil {
		t.Fatal(err)
	}
	// The real clock drives the turn (its flush ticker); the rig's fake
	// clock dates the composed mail.
	h.Companion = r.Companion(companion.Deps{Models: fixedModel{r.Provider()}, Tools: h.Tools, Clock: clock.System{}},
		companion.Options{FlushEvery: 10 * time.Millisecond})
	return h
}

// Put stores a message in folder and returns it with its os1 id.
func (h *Harness) Put(folder string, m mail.Message) mail.Message {
	h.T.Helper()
	ctx := context.Background()
	h.uid++
	m.UserID, m.AccountID, m.Folder, m.UIDValidity, m.UID = h.User.ID, h.Account.ID, folder, 1, h.uid
	if m.ThreadID == "" {
		m.ThreadID = mail.ThreadIDFor(m.MessageID)
	}
	if m.Date.IsZero() {
		m.Date = testrig.Start.Add(-time.Duration(h.uid) * time.Hour)
	}
	if err := h.Mail.PutMessages(ctx, h.User.ID, []mail.Message{m}); err != nil {
		h.T.Fatal(err)
	}
	got, err := h.Mail.MessageByUID(ctx, h.User.ID, h.Account.ID, folder, m.UID)
	if err != nil {
		h.T.Fatal(err)
	}
	return got
}

// Turn sends text as the user and returns the turn's events.
func (h *Harness) Turn(conversationID, text string) []companion.Event {
	h.T.Helper()
	evs, err := h.Companion.Send(context.Background(), h.User.ID, conversationID, text)
	if err != nil {
		h.T.Fatal(err)
	}
	return Collect(h.T, evs)
}

// Decide answers a pending action and returns the events that follow.
func (h *Harness) Decide(actionID string, approve bool) []companion.Event {
	h.T.Helper()
	evs, err := h.Companion.Decide(context.Background(), h.User.ID, actionID, approve)
	if err != nil {
		h.T.Fatal(err)
	}
	return Collect(h.T, evs)
}

// Collect drains a turn's events, failing the test after 30 seconds.
func Collect(t testing.TB, events iter.Seq[companion.Event]) []companion.Event {
	t.Helper()
	done := make(chan []companion.Event)
	go func() {
		var evs []companion.Event
		for ev := range events {
			evs = append(evs, ev)
		}
		done <- evs
	}()
	select {
	case evs := <-done:
		return evs
	case <-time.After(30 * time.Second):
		t.Fatal("turn did not finish")
		return nil
	}
}

// Pending is the action_required events of a turn.
func Pending(evs []companion.Event) []*companion.ActionView {
	var out []*companion.ActionView
	for _, ev := range evs {
		if ev.Type == companion.EvActionRequired {
			out = append(out, ev.Action)
		}
	}
	return out
}

// ConversationOf is the id of the turn's conversation.
func ConversationOf(evs []companion.Event) string {
	for _, ev := range evs {
		if ev.Conversation != nil {
			return ev.Conversation.ID
		}
	}
	return ""
}

// ToolResults is what each tool returned in the conversation, by call id.
func (h *Harness) ToolResults(conversationID string) map[string]string {
	h.T.Helper()
	msgs, err := h.Rig.DB.Messages(context.Background(), h.User.ID, conversationID)
	if err != nil {
		h.T.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range msgs {
		if m.Role == store.RoleTool {
			out[m.ToolCallID] = m.Content
		}
	}
	return out
}
