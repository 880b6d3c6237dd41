// Package toolstest builds, for tests, a companion with the mail tools over
// real parts: the rig's SQLite store holding the user's mail (sqlitemail),
// the same messages on go-imap's in-memory IMAP server (what archive, move,
// flag, delete and saved drafts act on, through imapsync), the scripted
// model behind the real OpenAI client, smtpsend submitting to go-smtp's
// server in-process (smtptest), and the companion's approval flow.
//
// It is imported only by tests and must never be linked into the os1 binary.
package toolstest

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"iter"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/imapsync"
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
	// IMAPAddr is the in-memory IMAP server holding the account's folders.
	IMAPAddr string
	imapUser *imapmemserver.User
	n        int // messages put so far

	mu      sync.Mutex
	changed []string // users Deps.Changed was told of
}

// Changed is the users the tools said had their mail changed, in order.
func (h *Harness) Changed() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.changed)
}

// Folders of the account, on the server and in the store; "Receipts" has
// no role (a folder the user made).
var Folders = []mail.Folder{{Name: "INBOX", Role: mail.RoleInbox}, {Name: "Sent", Role: mail.RoleSent},
	{Name: "Archive", Role: mail.RoleArchive}, {Name: "Trash", Role: mail.RoleTrash}, {Name: "Drafts", Role: mail.RoleDrafts},
	{Name: "Receipts"}}

type fixedModel struct{ p llm.Provider }

func (f fixedModel) Provider(context.Context) (llm.Provider, error) { return f.p, nil }

// New builds the harness: a user with one account whose SMTP is the sink,
// a Sent message to FriendAddr, the built-in tools and the mail tools.
func New(t testing.TB) *Harness {
	t.Helper()
	r := testrig.New(t)
	h := &Harness{T: t, Rig: r, Mail: sqlitemail.New(r.DB)}
	h.User = r.User("theo", store.RoleOwner)
	h.Sink = smtptest.Start(t, smtptest.Options{Passwords: map[string]string{UserAddr: Password}})
	h.startIMAP()
	host, port, _ := net.SplitHostPort(h.IMAPAddr)
	p, _ := strconv.Atoi(port)
	h.Account = mail.Account{ID: "acc_work", UserID: h.User.ID, Name: "Work", Address: UserAddr, Username: UserAddr,
		Auth: mail.AuthPassword, SMTP: h.Sink.Endpoint(), IMAP: mail.Endpoint{Host: host, Port: p, Security: mail.Plain},
		Secret: "sealed", SyncDays: 90, CreatedAt: testrig.Start}
	ctx := context.Background()
	if err := h.Mail.CreateAccount(ctx, h.Account); err != nil {
		t.Fatal(err)
	}
	for _, f := range Folders {
		f.AccountID, f.UIDValidity = h.Account.ID, 1
		if err := h.Mail.SaveFolder(ctx, h.User.ID, f); err != nil {
			t.Fatal(err)
		}
	}
	h.Put("Sent", mail.Message{MessageID: "sent1@example.com", From: mail.Address{Email: UserAddr},
		To: []mail.Address{{Name: "Amy", Email: FriendAddr}}, Subject: "Dinner?", Text: "Are you free Friday?",
		Date: testrig.Start.Add(-48 * time.Hour)})

	signIn := func(context.Context, mail.Account) (mail.Credentials, error) {
		return mail.Credentials{Password: Password}, nil
	}
	sender := mailtools.SMTP{SignIn: signIn, Sender: &smtpsend.Sender{Timeout: 10 * time.Second}}
	svc := &mail.Service{Store: h.Mail, Clock: r.Clock, IDs: clock.NewFakeIDs()}
	mbox := mailtools.IMAP{SignIn: signIn, Engine: &imapsync.Engine{}}
	deps := mailtools.Deps{Source: h.Mail, Correspondents: mailtools.SentTo{Store: h.Mail},
		Sender: sender, History: r.DB, Attachments: mailtools.ServerAttachments{Source: h.Mail, Mailbox: mbox},
		Clock: r.Clock, IDs: clock.NewFakeIDs(), Mailbox: mbox, FollowUps: svc, Rules: svc,
		Changed: func(userID string) {
			h.mu.Lock()
			h.changed = append(h.changed, userID)
			h.mu.Unlock()
		}}
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

type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// startIMAP starts go-imap's in-memory server (MOVE and UIDPLUS, as
// IMAP4rev2 has them) with the user and Folders.
func (h *Harness) startIMAP() {
	mem := imapmemserver.New()
	h.imapUser = imapmemserver.NewUser(UserAddr, Password)
	for _, f := range Folders {
		if err := h.imapUser.Create(f.Name, nil); err != nil {
			h.T.Fatal(err)
		}
	}
	mem.AddUser(h.imapUser)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       discardLogger{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.T.Fatal(err)
	}
	go srv.Serve(ln)
	h.T.Cleanup(func() { srv.Close() })
	h.IMAPAddr = ln.Addr().String()
}

// raw is m as a message for the IMAP server: its text, and when it has
// Parts a multipart/mixed whose attachments hold "content of <name>" at the
// paths Parts give ("2", "3"…, in order).
func raw(m mail.Message) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\n", m.From.String())
	for _, a := range m.To {
		fmt.Fprintf(&b, "To: %s\r\n", a.String())
	}
	fmt.Fprintf(&b, "Subject: %s\r\nMessage-ID: <%s>\r\nDate: %s\r\nMIME-Version: 1.0\r\n",
		strings.NewReplacer("\r", "", "\n", "").Replace(m.Subject), m.MessageID, m.Date.Format(time.RFC1123Z))
	text := strings.ReplaceAll(m.Text, "\n", "\r\n")
	if len(m.Parts) == 0 {
		fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", text)
		return []byte(b.String())
	}
	b.WriteString("Content-Type: multipart/mixed; boundary=PART\r\n\r\n")
	fmt.Fprintf(&b, "--PART\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", text)
	for _, p := range m.Parts {
		fmt.Fprintf(&b, "--PART\r\nContent-Type: %s\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
			p.MIME, p.Name, base64.StdEncoding.EncodeToString([]byte("content of "+p.Name)))
	}
	b.WriteString("--PART--\r\n")
	return []byte(b.String())
}

// Put stores a message in folder, on the IMAP server and in the store
// under the UID the server gave it, and returns it with its os1 id.
func (h *Harness) Put(folder string, m mail.Message) mail.Message {
	h.T.Helper()
	ctx := context.Background()
	h.n++
	if m.MessageID == "" {
		m.MessageID = fmt.Sprintf("m%d@example.net", h.n)
	}
	if m.Date.IsZero() {
		m.Date = testrig.Start.Add(-time.Duration(h.n) * time.Hour)
	}
	flags := make([]imap.Flag, len(m.Flags))
	for i, f := range m.Flags {
		flags[i] = imap.Flag(f)
	}
	data, err := h.imapUser.Append(folder, literal{bytes.NewReader(raw(m))}, &imap.AppendOptions{Flags: flags, Time: m.Date})
	if err != nil {
		h.T.Fatal(err)
	}
	m.UserID, m.AccountID, m.Folder, m.UIDValidity, m.UID = h.User.ID, h.Account.ID, folder, 1, uint32(data.UID)
	if m.ThreadID == "" {
		m.ThreadID = mail.ThreadIDFor(m.MessageID)
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

// ServerMessage is one message as the IMAP server has it.
type ServerMessage struct {
	UID     uint32
	Subject string
	Flags   []string
	Raw     string
}

// Server lists folder on the IMAP server (a client of its own, as
// another mail app would see it).
func (h *Harness) Server(folder string) []ServerMessage {
	h.T.Helper()
	c, err := imapclient.DialInsecure(h.IMAPAddr, nil)
	if err != nil {
		h.T.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(UserAddr, Password).Wait(); err != nil {
		h.T.Fatal(err)
	}
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		h.T.Fatal(err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true, Envelope: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		h.T.Fatal(err)
	}
	var out []ServerMessage
	for _, m := range msgs {
		sm := ServerMessage{UID: uint32(m.UID), Subject: m.Envelope.Subject}
		for _, f := range m.Flags {
			sm.Flags = append(sm.Flags, string(f))
		}
		for _, b := range m.BodySection {
			sm.Raw = string(b.Bytes)
		}
		out = append(out, sm)
	}
	return out
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
