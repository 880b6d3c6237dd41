package mail_test

import (
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/mail"
)

// googleInvite is an invitation as Google Calendar mails it (RFC 6047):
// text, HTML and the text/calendar part with its method in an
// alternative, and the same calendar again as an invite.ics attachment.
const googleInvite = "From: Ana Lima <ana@example.org>\r\nTo: theo@example.com\r\nSubject: Invitation: Weekly sync\r\n" +
	"Message-ID: <inv1@google.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"MIX\"\r\n\r\n" +
	"--MIX\r\nContent-Type: multipart/alternative; boundary=\"ALT\"\r\n\r\n" +
	"--ALT\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\nYou have been invited to Weekly sync.\r\n" +
	"--ALT\r\nContent-Type: text/html; charset=\"UTF-8\"\r\n\r\n<p>You have been invited to Weekly sync.</p>\r\n" +
	"--ALT\r\nContent-Type: text/calendar; charset=\"UTF-8\"; method=REQUEST\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" +
	"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n--ALT--\r\n" +
	"--MIX\r\nContent-Type: application/ics; name=\"invite.ics\"\r\nContent-Disposition: attachment; filename=\"invite.ics\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n\r\nQkVHSU46VkNBTEVOREFSDQo=\r\n--MIX--\r\n"

func TestParseRecordsInvitation(t *testing.T) {
	m, err := mail.Parse(strings.NewReader(googleInvite), 0)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := m.Invitation()
	if !ok || p.Method != "REQUEST" || p.MIME != "text/calendar" || p.Path != "1.3" {
		t.Fatalf("invitation part: %+v %v (parts %+v)", p, ok, m.Parts)
	}
	if m.Text != "You have been invited to Weekly sync." {
		t.Errorf("text: %q", m.Text)
	}
	if q := mail.Quote(m, 0); !strings.Contains(q, "a calendar invitation (REQUEST); calendar_respond") {
		t.Errorf("the quote does not say it carries an invitation:\n%s", q)
	}
	// A calendar without a method, or with one that is no word, is no
	// invitation.
	for _, ct := range []string{"text/calendar", "text/calendar; method=\"REQ UEST\"", "application/ics; method=REQUEST"} {
		raw := strings.Replace(googleInvite, "text/calendar; charset=\"UTF-8\"; method=REQUEST", ct, 1)
		m, _ := mail.Parse(strings.NewReader(raw), 0)
		if p, ok := m.Invitation(); ok {
			t.Errorf("%s: read as an invitation: %+v", ct, p)
		}
	}
}
