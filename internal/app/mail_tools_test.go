package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/dovecottest"
	"github.com/os1ai/os1/internal/mail/mailtools"
	"github.com/os1ai/os1/internal/mail/smtpsend/smtptest"
	"github.com/os1ai/os1/internal/store"
)

// TestMailToolsActOnTheServer: the acting tools as os1 serve wires them
// (imapsync's engine, credentials opened by the service) reach the real
// server: forwarding carries the attachment fetched from dovecot, drafts
// land in Drafts, archiving moves the message there and in the store.
func TestMailToolsActOnTheServer(t *testing.T) {
	dc := dovecottest.Start(t)
	dc.AddUser("ana", "pw")
	sink := smtptest.Start(t, smtptest.Options{Passwords: map[string]string{"ana": "pw"}})
	pdf := bytes.Repeat([]byte("%PDF lease \x00\x01\x02"), 3000)
	dc.Deliver("ana", []byte("From: Lou <lou@lettings.example>\r\nTo: ana@example.org\r\nSubject: The lease\r\n"+
		"Date: Wed, 25 Nov 2026 08:00:00 +0000\r\nMessage-ID: <lease@lettings.example>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nThe lease is attached.\r\n"+
		"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"lease.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"+
		base64.StdEncoding.EncodeToString(pdf)+"\r\n--B--\r\n"))

	cfg := testConfigWith(t, "OS1_MAIL_SYNC_EVERY", "0s")
	ctx := context.Background()
	a, err := New(ctx, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.DB.CreateUser(ctx, store.User{ID: "usr_ana", Username: "ana", DisplayName: "Ana", Role: store.RoleMember,
		PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(dc.Addr, ":")
	p, _ := strconv.Atoi(port)
	acct, err := a.Mail.Service.AddAccount(ctx, "usr_ana", mail.AccountInput{Address: "ana@example.org", Username: "ana", Password: "pw",
		IMAP: mail.Endpoint{Host: host, Port: p, Security: mail.Plain}, SMTP: sink.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Mail.Service.Sync(ctx, "usr_ana", acct.ID); err != nil {
		t.Fatal(err)
	}
	st := a.Mail.Service.Store
	m, err := st.MessageByUID(ctx, "usr_ana", acct.ID, "INBOX", 1)
	if err != nil || len(m.Parts) != 1 {
		t.Fatalf("the synced message: %+v %v", m, err)
	}
	tools := map[string]companion.Tool{}
	for _, tool := range mailtools.Tools(a.Mail.deps) {
		tools[tool.Name] = tool
	}
	run := func(name string, args map[string]any) string {
		t.Helper()
		raw, _ := json.Marshal(args)
		out, err := tools[name].Run(ctx, companion.Call{UserID: "usr_ana", Args: raw})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return out
	}

	run("forward", map[string]any{"to": []string{"bob@example.net"}, "id": m.ID, "note": "The lease."})
	ds := sink.Deliveries()
	if len(ds) != 1 || !bytes.Contains(ds[0].Data, []byte(base64.StdEncoding.EncodeToString(pdf)[:76])) {
		t.Fatalf("forwarded %d messages, without the attachment's content", len(ds))
	}

	run("draft_reply", map[string]any{"id": m.ID, "body": "Thanks Lou, I'll sign it tonight."})
	run("archive", map[string]any{"ids": []string{m.ID}})
	got, err := st.Message(ctx, "usr_ana", m.ID)
	if err != nil || got.Folder != "Archive" {
		t.Fatalf("after archiving: in %q (%v)", got.Folder, err)
	}
	// The server agrees: the archived message's text is in Archive under
	// the UID the store has, and the draft is in Drafts.
	creds, err := a.Mail.Service.SignIn(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		folder string
		uid    uint32
		want   string
	}{{"Archive", got.UID, "The lease is attached."}, {"Drafts", 1, "I'll sign it tonight."}} {
		data, err := a.Mail.Engine.FetchPart(ctx, acct, creds, c.folder, c.uid, "1")
		if err != nil || !strings.Contains(string(data), c.want) {
			t.Errorf("%s, message %d: %q %v (want %q)", c.folder, c.uid, data, err, c.want)
		}
	}
}
