package smtpsend_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-message"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/smtpsend"
)

const ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nPRODID:-//os1//calendar//EN\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:u1\r\nSUMMARY:Zoë's lunch\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

// An invitation is read by os1's own parser (as by mail apps) as a text
// with a text/calendar part of its method, and the calendar comes back
// byte for byte, inline and attached.
func TestComposeInvite(t *testing.T) {
	d := smtpsend.Draft{From: mail.Address{Name: "Theo", Email: "theo@example.com"}, To: []mail.Address{{Name: "Ana", Email: "ana@example.org"}},
		Subject: "Invitation: Zoë's lunch", Body: "Theo invites you.\nSee the event attached."}
	raw, err := smtpsend.ComposeInvite(d, "REQUEST", []byte(ics), clock.NewFake(start), clock.NewFakeIDs())
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.Parse(bytes.NewReader(raw), 0)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := m.Invitation()
	if !ok || p.Method != "REQUEST" || p.Path != "1.2" || m.Subject != d.Subject || strings.ReplaceAll(m.Text, "\r", "") != "Theo invites you.\nSee the event attached." {
		t.Fatalf("parsed: %+v", m)
	}
	if len(m.Parts) != 2 || m.Parts[1].Name != smtpsend.InviteFile || m.Parts[1].MIME != "application/ics" {
		t.Errorf("parts: %+v", m.Parts)
	}
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var cals []string
	var walk func(e *message.Entity)
	walk = func(e *message.Entity) {
		if mr := e.MultipartReader(); mr != nil {
			for {
				p, err := mr.NextPart()
				if err != nil {
					return
				}
				walk(p)
			}
		}
		if mt, params, _ := e.Header.ContentType(); mt == "text/calendar" || mt == "application/ics" {
			b, _ := io.ReadAll(e.Body)
			cals = append(cals, mt+";"+params["method"]+"\n"+string(b))
		}
	}
	walk(e)
	if len(cals) != 2 || cals[0] != "text/calendar;REQUEST\n"+ics || cals[1] != "application/ics;\n"+ics {
		t.Errorf("calendar parts: %q", cals)
	}
	for _, bad := range []string{"", "REQUEST\r\nBcc: x@y", "request"} {
		if _, err := smtpsend.ComposeInvite(d, bad, []byte(ics), clock.NewFake(start), clock.NewFakeIDs()); !errors.Is(err, smtpsend.ErrHeader) {
			t.Errorf("method %q: %v", bad, err)
		}
	}
	d.Subject = "Invitation\r\nBcc: eve@example.net"
	if _, err := smtpsend.ComposeInvite(d, "REQUEST", []byte(ics), clock.NewFake(start), clock.NewFakeIDs()); !errors.Is(err, smtpsend.ErrHeader) {
		t.Errorf("a subject with a line break: %v", err)
	}
}
