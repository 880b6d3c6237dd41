package app

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/dovecottest"
	"github.com/os1ai/os1/internal/mail/smtpsend/smtptest"
	"github.com/os1ai/os1/internal/store"
)

// Invitations as os1 serve wires them: an invitation delivered to dovecot
// is synced, answered with calendar_respond (its calendar fetched from
// dovecot, the REPLY submitted over SMTP from the user's account, the
// event in the calendar), and calendar_invite mails a REQUEST.
func TestCalendarInvitationsWired(t *testing.T) {
	dc := dovecottest.Start(t)
	dc.AddUser("theo", "pw")
	sink := smtptest.Start(t, smtptest.Options{Passwords: map[string]string{"theo": "pw"}})
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n" +
		"DTSTART:20261216T150000Z\r\nDTEND:20261216T153000Z\r\nDTSTAMP:20261124T080000Z\r\nORGANIZER;CN=Ana Lima:mailto:ana@example.org\r\n" +
		"UID:wired-1@google.com\r\nATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:theo@example.com\r\nSEQUENCE:0\r\nSUMMARY:Design review\r\n" +
		"END:VEVENT\r\nEND:VCALENDAR\r\n"
	dc.Deliver("theo", []byte("From: Ana Lima <ana@example.org>\r\nTo: theo@example.com\r\nSubject: Invitation: Design review\r\n"+
		"Date: Tue, 24 Nov 2026 08:00:00 +0000\r\nMessage-ID: <wired-1@google.com>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/alternative; boundary=A\r\n\r\n--A\r\nContent-Type: text/plain\r\n\r\nYou are invited.\r\n"+
		"--A\r\nContent-Type: text/calendar; charset=UTF-8; method=REQUEST\r\n\r\n"+ics+"--A--\r\n"))

	cfg := testConfigWith(t, "OS1_MAIL_SYNC_EVERY", "0s")
	ctx := context.Background()
	a, err := New(ctx, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.DB.CreateUser(ctx, store.User{ID: "usr_theo", Username: "theo", DisplayName: "Theo", Role: store.RoleMember,
		PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(dc.Addr, ":")
	p, _ := strconv.Atoi(port)
	acct, err := a.Mail.Service.AddAccount(ctx, "usr_theo", mail.AccountInput{Address: "theo@example.com", Username: "theo", Password: "pw",
		IMAP: mail.Endpoint{Host: host, Port: p, Security: mail.Plain}, SMTP: sink.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Mail.Service.Sync(ctx, "usr_theo", acct.ID); err != nil {
		t.Fatal(err)
	}
	m, err := a.Mail.Service.Store.MessageByUID(ctx, "usr_theo", acct.ID, "INBOX", 1)
	if err != nil {
		t.Fatal(err)
	}
	run := func(name string, args map[string]any) string {
		t.Helper()
		tool, ok := a.Companion.Tools().Lookup(name)
		if !ok || !tool.SideEffects {
			t.Fatalf("%s: registered %v, side effects %v", name, ok, tool.SideEffects)
		}
		raw, _ := json.Marshal(args)
		out, err := tool.Run(ctx, companion.Call{UserID: "usr_theo", Args: raw, Now: time.Now()})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return out
	}
	run("calendar_respond", map[string]any{"message_id": m.ID, "response": "accept"})
	ds := sink.Deliveries()
	if len(ds) != 1 || ds[0].Rcpts[0] != "ana@example.org" || !strings.Contains(string(ds[0].Data), "method=REPLY") {
		t.Fatalf("the reply: %+v", ds)
	}
	evs, _ := a.Calendar.Service.Store.ListEvents(ctx, "usr_theo", "", calendar.Range{}, false)
	if len(evs) != 1 || evs[0].UID != "wired-1@google.com" {
		t.Fatalf("the calendar: %+v", evs)
	}
	run("calendar_invite", map[string]any{"summary": "Lunch", "start": "2026-12-14T12:30", "attendees": []string{"ana@example.org"}})
	if ds = sink.Deliveries(); len(ds) != 2 || !strings.Contains(string(ds[1].Data), "method=REQUEST") || ds[1].From != "theo@example.com" {
		t.Fatalf("the invitation: %d deliveries", len(ds))
	}
}
